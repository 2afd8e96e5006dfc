"""The application factory: one FastAPI app for API, ingest, pages and operations."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from warroom import __version__
from warroom.clock import Clock, SystemClock
from warroom.db import migrate
from warroom.db.engine import SessionFactory, make_engine, make_session_factory
from warroom.incidents.router import router as incidents_router
from warroom.settings import Settings
from warroom.users.router import router as users_router
from warroom.web import errors, health
from warroom.web.metrics import IncidentCollector
from warroom.web.middleware import BodyLimit, Metrics


def create_app(
    settings: Settings, *, sessions: SessionFactory | None = None, clock: Clock | None = None
) -> FastAPI:
    """Build the app for ``settings``; tests may pass their own sessions and clock."""
    app = FastAPI(
        title="warroom",
        version=__version__,
        description="Incident management: declare, run and resolve incidents.",
    )
    app.state.settings = settings
    app.state.sessions = sessions or make_session_factory(
        make_engine(settings.resolved_database_url)
    )
    app.state.clock = clock or SystemClock()
    app.state.migration_head = migrate.head_revision()
    app.state.metrics_registry = CollectorRegistry()
    app.state.metrics_registry.register(IncidentCollector(app.state.sessions, app.state.clock))
    errors.install(app)
    app.include_router(health.router)
    app.include_router(users_router)
    app.include_router(incidents_router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(Metrics, registry=app.state.metrics_registry)
    return app
