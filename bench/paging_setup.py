"""What the paging benchmark runs against: a fresh database set up through the service
layer, a real SMTP server that notes arrival times, and `warroom` child processes."""

from __future__ import annotations

import email
import math
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bench import seed
from bench import server as server_mod
from warroom.db import migrate
from warroom.db import tables as _tables  # noqa: F401  (every table known to the ORM)
from warroom.db.engine import SessionFactory, make_engine, make_session_factory
from warroom.db.uow import unit_of_work
from warroom.escalation import policies
from warroom.notify import service as notify_service
from warroom.users import service as user_service
from warroom.users.schemas import ServiceCreate, UserCreate

PG_NAME = "warroom_bench_paging"
SECRET = "b" * 40
START_TIMEOUT = 90.0
STOP_TIMEOUT = 10.0


def utcnow() -> datetime:
    return datetime.now(UTC)


@contextmanager
def database(backend: str, workdir: Path) -> Iterator[SessionFactory]:
    """A fresh, migrated database (dropped afterwards); its sessions."""
    workdir.mkdir(parents=True, exist_ok=True)
    with seed.fresh_database(backend, workdir, seed.PG_SERVER, PG_NAME) as url:
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
            yield make_session_factory(engine)
        finally:
            engine.dispose()


def url_of(sessions: SessionFactory) -> str:
    return sessions.engine.url.render_as_string(hide_password=False)


def organise(sessions: SessionFactory, *, contact: bool, timeout: timedelta) -> str:
    """An admin (its API token returned), @pager (email if ``contact``), policy 'bench'
    paging @pager, service 'paged' with that policy and service 'quiet' without one."""
    now = utcnow()
    with unit_of_work(sessions) as session:
        admin = user_service.create(
            session=session,
            now=now,
            user_in=UserCreate(
                handle="admin", name="Admin", email="admin@bench.test", role="admin"
            ),
        )
        pager = user_service.create(
            session=session,
            now=now,
            user_in=UserCreate(handle="pager", name="Pager", email="pager@bench.test"),
        )
        if contact:
            notify_service.add_contact(
                session=session, now=now, user=pager, kind="email", target=pager.email
            )
        policy, _ = policies.save(
            session=session,
            now=now,
            slug="bench",
            name="Bench",
            repeat=0,
            levels=[
                {
                    "targets": [{"kind": "user", "ref": "pager"}],
                    "timeout_seconds": int(timeout.total_seconds()),
                }
            ],
        )
        for slug in ("paged", "quiet"):
            service = user_service.create_service(
                session=session, now=now, service_in=ServiceCreate(slug=slug, name=slug.title())
            )
            if slug == "paged":
                policies.attach(session=session, service=service, policy=policy)
        return user_service.create_token(session=session, now=now, user=admin, name="bench")


@dataclass
class Mailbox:
    """Arrival time (time.time()) of each message, by subject."""

    arrived: dict[str, float] = field(default_factory=dict)
    count: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        at = time.time()
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        subject = str(email.message_from_bytes(raw)["Subject"])
        with self.changed:
            self.arrived.setdefault(subject, at)
            self.count += 1
            self.changed.notify_all()
        return "250 OK"

    def wait_for(self, fragment: str, timeout: float) -> tuple[str, float] | None:
        """The first subject containing ``fragment`` and when it arrived; None on timeout."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for subject, at in self.arrived.items():
                    if fragment in subject:
                        return subject, at
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)


@contextmanager
def smtp_server() -> Iterator[tuple[str, Mailbox]]:
    box = Mailbox()
    port = server_mod.free_port()
    controller: Any = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", box
    finally:
        controller.stop()


def environ(url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without WARROOM_*, plus these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env |= {
        "WARROOM_DATABASE_URL": url,
        "WARROOM_VAR_DIR": str(var_dir),
        "WARROOM_SECRET_KEY": SECRET,
        "WARROOM_LOG_LEVEL": "warning",
    }
    env |= {f"WARROOM_{k.upper()}": v for k, v in extra.items()}
    return env


@dataclass
class Child:
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@contextmanager
def child(args: list[str], env: dict[str, str], log: Path) -> Iterator[Child]:
    """A child process in its own session; SIGTERM (then SIGKILL) at the end."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            args,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield Child(process, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the group this script started
                process.wait(STOP_TIMEOUT)


@contextmanager
def serving(env: dict[str, str], workdir: Path) -> Iterator[tuple[Child, str]]:
    """`warroom serve` (with its worker) on a free port, once /readyz answers."""
    port = server_mod.free_port()
    base = f"http://127.0.0.1:{port}"
    env = env | {"WARROOM_PORT": str(port), "WARROOM_BASE_URL": base}
    command = [server_mod.warroom_command(), "serve"]
    with child(command, env, workdir / f"serve-{port}.log") as served:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if served.process.poll() is not None:
                raise RuntimeError(f"warroom serve exited early:\n{served.tail()}")
            try:
                if httpx.get(base + "/readyz", timeout=2.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"warroom serve not ready:\n{served.tail()}")
            time.sleep(0.05)
        yield served, base


@contextmanager
def worker(env: dict[str, str], log: Path) -> Iterator[Child]:
    with child([server_mod.warroom_command(), "worker"], env, log) as started:
        yield started


def create_integration(base: str, token: str, service: str, name: str) -> str:
    """A PagerDuty v2 integration on ``service`` made through the API; its routing key."""
    answer = httpx.post(
        base + "/api/v1/integrations",
        json={"service": service, "type": "pagerduty", "name": name},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30.0,
    )
    answer.raise_for_status()
    return str(answer.json()["key"])


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))  # nearest rank
    return ordered[rank]
