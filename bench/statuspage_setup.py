"""A realistic status page on a fresh SQLite database, its static export, and its servers.

`warroom db upgrade` and `warroom demo` (4 components, one past incident) come
first, through the CLI; then, through the service layer so that they can be
dated in the past, more components in groups created 100 days ago and a few
resolved incidents over the last 90 days, each told in four posts. The page
is served by `warroom serve --public` (what faces customers) while a second
`warroom serve --no-worker` on the same database takes the status posts, as
the console would; `warroom statuspage export` writes the static copy.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench import ingest_warroom
from bench import server as server_mod
from warroom.db import tables as _tables  # noqa: F401  (every table known to the ORM)
from warroom.db.engine import SessionFactory, make_engine, make_session_factory
from warroom.db.uow import unit_of_work
from warroom.statuspage import service as status_service
from warroom.statuspage.models import StatusIncident
from warroom.statuspage.rules import ComponentStatus, PostStatus
from warroom.users import service as user_service

DEMO_COMPONENTS = 4
EXTRA_COMPONENTS = (
    ("Accounts", "Shop", "Sign-in and profiles"),
    ("Product pages", "Shop", ""),
    ("REST API", "API", "api.example.com/v1"),
    ("Webhooks", "API", "Outgoing event delivery"),
    ("GraphQL API", "API", ""),
    ("CDN", "Delivery", "Images and static files"),
    ("Email notifications", "Delivery", ""),
    ("SMS notifications", "Delivery", ""),
    ("iOS app", "Apps", ""),
    ("Android app", "Apps", ""),
    ("Web dashboard", "Apps", ""),
)
S = ComponentStatus
SLOW, PARTIAL, DOWN = S.DEGRADED_PERFORMANCE, S.PARTIAL_OUTAGE, S.MAJOR_OUTAGE
# (days ago, minutes it lasted, title, components and the status each took)
PAST_INCIDENTS = (
    (83, 95, "Images not loading", {"CDN": DOWN}),
    (67, 40, "Delayed webhook delivery", {"Webhooks": SLOW}),
    (51, 180, "Notifications delayed", {"Email notifications": PARTIAL, "SMS notifications": SLOW}),
    (38, 25, "Elevated API error rates", {"REST API": DOWN, "GraphQL API": DOWN}),
    (22, 70, "Some customers cannot sign in", {"Accounts": PARTIAL}),
    (12, 130, "Apps slow to load", {"iOS app": SLOW, "Android app": SLOW}),
    (9, 45, "Slow search results", {"Search": SLOW}),
)
STORY = (
    (0.0, PostStatus.INVESTIGATING, "We are investigating reports of {title}."),
    (0.3, PostStatus.IDENTIFIED, "We found the cause and are working on a fix."),
    (0.6, PostStatus.MONITORING, "A fix is in place; we are watching the results."),
    (1.0, PostStatus.RESOLVED, "This incident is resolved. Sorry for the trouble."),
)


@dataclass(frozen=True)
class Page:
    """What was loaded: counts, and the admin token for the API."""

    token: str
    components: int
    incidents: int


def prepare(url: str, var_dir: Path, components: int) -> Page:
    """Migrate, load the demo (CLI), then add components and dated history."""
    token = ingest_warroom.prepare(url, var_dir)  # `warroom db upgrade`, `warroom demo`
    extra = EXTRA_COMPONENTS[: max(0, components - DEMO_COMPONENTS)]
    engine = make_engine(url)
    try:
        sessions = make_session_factory(engine)
        now = datetime.now(UTC)
        with unit_of_work(sessions) as session:
            for name, group, description in extra:
                status_service.add_component(
                    session=session,
                    now=now - timedelta(days=100),
                    name=name,
                    group=group,
                    description=description,
                )
        known = {"Checkout", "Payments", "Search", "Public API", *(e[0] for e in extra)}
        told = 0
        for days, minutes, title, affected in PAST_INCIDENTS:
            if set(affected) <= known:
                _past_incident(sessions, now - timedelta(days=days), minutes, title, affected)
                told += 1
    finally:
        engine.dispose()
    return Page(token, DEMO_COMPONENTS + len(extra), 1 + told)


def _past_incident(
    sessions: SessionFactory, start: datetime, minutes: int, title: str, affected: dict[str, S]
) -> None:
    """One standalone public incident, from investigating to resolved, in four posts."""
    with unit_of_work(sessions) as session:
        author = user_service.get_by_handle_or_raise(session=session, handle="carol")
        target: StatusIncident | None = None
        for share, status, message in STORY:
            components = affected if status is PostStatus.INVESTIGATING else {}
            if status is PostStatus.MONITORING:
                components = dict.fromkeys(affected, S.OPERATIONAL)
            made = status_service.post(
                session=session,
                now=start + timedelta(minutes=minutes * share),
                actor=author,
                request=status_service.PostRequest(
                    status=status,
                    message=message.format(title=title.lower()),
                    components=components,
                    title=title,
                ),
                target=target,
            )
            target = session.get(StatusIncident, made.status_incident_id)


def cli_env(url: str, var_dir: Path) -> dict[str, str]:
    return {
        "WARROOM_DATABASE_URL": url,
        "WARROOM_VAR_DIR": str(var_dir),
        "WARROOM_CONFIG_DIR": str(var_dir / "cli"),  # never the user's own credentials
    }


def export(url: str, var_dir: Path, directory: Path, base_url: str) -> str:
    """`warroom statuspage export DIRECTORY --base-url BASE_URL`; returns what it printed."""
    args = ["statuspage", "export", str(directory), "--base-url", base_url]
    done = subprocess.run(
        [server_mod.warroom_command(), *args],
        env=os.environ | cli_env(url, var_dir),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"warroom {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip()


def start(url: str, var_dir: Path, args: list[str], workers: int) -> server_mod.Server:
    """`warroom serve ARGS` with WARROOM_WORKERS, ready once /readyz answers 200."""
    port = server_mod.free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = os.environ | {
        **cli_env(url, var_dir),
        "WARROOM_HOST": "127.0.0.1",
        "WARROOM_PORT": str(port),
        "WARROOM_BASE_URL": base_url,
        "WARROOM_WORKERS": str(workers),
    }
    log_path = var_dir / f"serve-{port}.log"
    command = [server_mod.warroom_command(), "serve", *args]
    with httpx.Client(base_url=base_url, timeout=1.0) as poller, log_path.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        server = server_mod.Server(process, base_url, 0.0, log_path)
        try:
            server.ready_seconds = server_mod._wait_ready(server, poller, started)
        except BaseException:
            server_mod.stop(server)
            raise
    return server


@contextmanager
def serving(url: str, var_dir: Path, args: list[str], workers: int) -> Iterator[server_mod.Server]:
    server = start(url, var_dir, args, workers)
    try:
        yield server
    finally:
        server_mod.stop(server)
