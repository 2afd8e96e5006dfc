"""The application factory: one FastAPI app for API, ingest, pages and operations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from starlette.routing import Route

from warroom import __version__
from warroom.alerts.endpoints import REFUSALS, Ingest
from warroom.alerts.router import router as alerts_router
from warroom.clock import Clock, SystemClock
from warroom.db import migrate
from warroom.db.engine import (
    SessionFactory,
    ingest_write_lock,
    make_engine,
    make_session_factory,
)
from warroom.db.groupcommit import GroupCommitter
from warroom.escalation.pages import router as ack_pages
from warroom.escalation.router import router as escalation_router
from warroom.incidents.router import router as incidents_router
from warroom.notify.router import router as notify_router
from warroom.oncall.router import router as oncall_router
from warroom.outbox.router import router as outbox_router
from warroom.postmortems.router import router as postmortems_router
from warroom.reports.router import router as reports_router
from warroom.settings import Settings
from warroom.statuspage.maintenance_router import router as maintenance_router
from warroom.statuspage.router import router as statuspage_router
from warroom.statuspage.subscribe_pages import router as subscribe_pages
from warroom.statuspage.subscribers_router import router as subscribers_router
from warroom.users.router import router as users_router
from warroom.web import errors, health
from warroom.web.deps import PrincipalCache
from warroom.web.front import INGEST_PREFIXES, Front, Handler
from warroom.web.metrics import IncidentCollector, ProgramCollector, StatusPageCollector
from warroom.web.middleware import BodyLimit, HttpMetrics, Metrics
from warroom.web.raw import AsgiEndpoint
from warroom.web.status import page_config, status_pages
from warroom.worker import main as worker_main


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    background: worker_main.Background | None = None
    if getattr(app.state, "run_worker", False):
        worker = worker_main.build(app.state.settings, app.state.sessions, app.state.clock)
        background = worker_main.Background(worker)
        background.start()
    yield
    if background is not None:
        background.stop()
    app.state.committer.stop()


def ingest_routes(ingest: Ingest) -> list[tuple[str, Handler]]:
    """The hot-path ingest endpoints: raw ASGI, outside FastAPI's request models."""
    return [
        ("/v2/enqueue", ingest.pagerduty),
        ("/v2/change/enqueue", ingest.pagerduty_change),
        ("/integrations/{type}/{key}", ingest.webhook),
        ("/integrations/{type}", ingest.webhook),
    ]


def _add_ingest_routes(app: FastAPI, routes: list[tuple[str, Handler]]) -> None:
    for path, handler in routes:
        # First in the list: a storm should not be matched against every API route.
        app.router.routes.insert(0, Route(path, AsgiEndpoint(path, handler), methods=["POST"]))


def create_server_app(settings: Settings, *, public: bool = False) -> Front:
    """The app `warroom serve` runs: ingest and the status page ahead of FastAPI (front.py).

    ``public`` serves only those two, so the console need not face the internet.
    """
    app = create_app(settings)
    app.state.run_worker = settings.run_worker and not public
    return Front(
        app,
        app.state.ingest_routes,
        status=app.state.status_pages,
        public_only=public,
        enqueue=app.state.ingest.enqueue,
    )


def create_app(
    settings: Settings, *, sessions: SessionFactory | None = None, clock: Clock | None = None
) -> FastAPI:
    """Build the app for ``settings``; tests may pass their own sessions and clock."""
    app = FastAPI(
        lifespan=_lifespan,
        title="warroom",
        version=__version__,
        description="Incident management: declare, run and resolve incidents.",
    )
    app.state.settings = settings
    app.state.sessions = sessions or make_session_factory(
        make_engine(settings.resolved_database_url)
    )
    app.state.clock = clock or SystemClock()
    app.state.principals = PrincipalCache()
    app.state.migration_head = migrate.head_revision()
    app.state.metrics_registry = CollectorRegistry()
    app.state.http_metrics = HttpMetrics(app.state.metrics_registry)
    app.state.metrics_registry.register(IncidentCollector(app.state.sessions, app.state.clock))
    app.state.metrics_registry.register(ProgramCollector(app.state.sessions, app.state.clock))
    app.state.committer = GroupCommitter(
        app.state.sessions,
        app.state.clock.now,
        refusals=REFUSALS,
        write_lock=ingest_write_lock(app.state.sessions.engine),
        # SQLite answers in microseconds: batches are written on the event loop itself.
        inline=app.state.sessions.engine.dialect.name == "sqlite",
    )
    app.state.ingest = Ingest(app.state.committer)
    app.state.ingest_routes = ingest_routes(app.state.ingest)
    _add_ingest_routes(app, app.state.ingest_routes)
    errors.install(app)
    app.include_router(health.router)
    app.include_router(users_router)
    app.include_router(incidents_router)
    app.include_router(alerts_router)
    app.include_router(oncall_router)
    app.include_router(escalation_router)
    app.include_router(notify_router)
    app.include_router(ack_pages)
    app.include_router(postmortems_router)
    app.include_router(reports_router)
    app.include_router(outbox_router)
    app.include_router(statuspage_router)
    app.include_router(maintenance_router)
    app.include_router(subscribe_pages)
    app.include_router(subscribers_router)
    app.state.status_config = page_config(settings)
    app.state.status_pages = status_pages(settings, app.state.sessions, app.state.clock)
    app.state.metrics_registry.register(StatusPageCollector(app.state.status_pages))
    app.mount("/status", app.state.status_pages)
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_body_bytes, exempt_prefixes=INGEST_PREFIXES
    )
    app.add_middleware(Metrics, metrics=app.state.http_metrics)
    return app
