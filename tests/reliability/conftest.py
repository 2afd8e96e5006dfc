"""Reliability fixtures: real `warroom` processes, a real SMTP server, a fresh database.

``mail`` is an aiosmtpd server on 127.0.0.1 that notes when each message
arrived and can go down and come back on the same port. ``procs`` starts
`warroom worker` and `warroom serve` processes and stops every one of them at
teardown, whatever happened. ``db`` is a fresh migrated database of each
backend. The paging helpers are in tests/reliability/__init__.py.
"""

from __future__ import annotations

import email
import fcntl
import itertools
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_PROBLEM, PG_URL, drop_pg_database, fresh_pg_database
from tests.smtp import Inbox, free_port
from warroom.db import migrate
from warroom.db import tables as _tables  # noqa: F401  (every table known to the ORM)
from warroom.db.engine import SessionFactory, make_engine, make_session_factory

SECRET = "r" * 40
START_TIMEOUT = 60.0  # seconds `warroom serve` may take to answer /readyz
STOP_TIMEOUT = 10.0  # seconds between SIGTERM and SIGKILL
_databases = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist registers this too; repeated so that `-p no:xdist` still collects.
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one xdist worker")


def shared_dir(config: pytest.Config, factory: pytest.TempPathFactory) -> Path:
    """A directory every xdist worker of this run sees (pytest removes it later)."""
    base = factory.getbasetemp()
    return base.parent if hasattr(config, "workerinput") else base


@pytest.fixture(scope="module", autouse=True)
def one_module_at_a_time(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Reliability modules never run at once on two xdist workers.

    The modules are marked ``xdist_group("reliability")`` for that, but with
    pytest 9 the mark is not honoured: pytest-xdist 3.8 groups by a suffix it
    writes to ``item._nodeid``, which pytest 9 no longer reads. An exclusive
    lock in the run's shared temporary directory does the job meanwhile.
    """
    if not hasattr(request.config, "workerinput"):
        yield
        return
    path = shared_dir(request.config, tmp_path_factory) / "reliability.lock"
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class TimedInbox(Inbox):
    """An Inbox that also notes the wall-clock time each message arrived."""

    arrivals: list[float] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.refuse:
            return "451 4.3.0 try again later"
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        with self.lock:
            self.messages.append(email.message_from_bytes(raw))
            self.arrivals.append(time.time())
        return "250 OK"

    def snapshot(self) -> list[tuple[Message, float]]:
        with self.lock:
            return list(zip(self.messages, self.arrivals, strict=True))

    def keys(self) -> Counter[str]:
        """How many times each idempotency key (X-Warroom-Key) arrived."""
        with self.lock:
            return Counter(str(m["X-Warroom-Key"]) for m in self.messages)


class Mail:
    """An SMTP server on a fixed port that can be stopped and started again."""

    def __init__(self) -> None:
        self.inbox = TimedInbox()
        self.port = free_port()
        self.controller: Any = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self.controller is None
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        controller, self.controller = self.controller, None
        if controller is not None:
            controller.stop()


@pytest.fixture
def mail() -> Iterator[Mail]:
    server = Mail()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Database:
    backend: str
    url: str
    sessions: SessionFactory


def _worker_id(config: pytest.Config) -> str:
    return str(getattr(config, "workerinput", {}).get("workerid", "main"))


@contextmanager
def new_database(config: pytest.Config, backend: str, root: Path) -> Iterator[Database]:
    """A migrated, empty database of ``backend``; a PostgreSQL one is dropped after."""
    name = None
    if backend == "postgresql":
        if PG_PROBLEM:  # under CI=true the session has already stopped (tests/conftest.py)
            pytest.skip(f"PostgreSQL unreachable: {PG_PROBLEM}")
        name = f"warroom_rel_{_worker_id(config)}_{os.getpid()}_{next(_databases)}"
        url = fresh_pg_database(name)
    else:
        url = f"sqlite:///{root / 'warroom.db'}"
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        yield Database(backend, url, make_session_factory(engine))
    finally:
        engine.dispose()
        if name:
            drop_pg_database(name)


@contextmanager
def clone_pg_database(config: pytest.Config, template: Database) -> Iterator[Database]:
    """A copy of PostgreSQL database ``template`` (which nobody may be connected to)."""
    template.sessions.engine.dispose()
    source = make_url(template.url).database
    name = f"warroom_rel_{_worker_id(config)}_{os.getpid()}_{next(_databases)}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
    finally:
        admin.dispose()
    url = make_url(template.url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        yield Database("postgresql", url, make_session_factory(engine))
    finally:
        engine.dispose()
        drop_pg_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with new_database(request.config, str(request.param), tmp_path) as database:
        yield database


def environ(database: Database, mail: Mail, root: Path, **extra: str) -> dict[str, str]:
    """A process environment built from scratch: none of the caller's WARROOM_* leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "WARROOM_DATABASE_URL": database.url,
            "WARROOM_SMTP_URL": mail.url,
            "WARROOM_SECRET_KEY": SECRET,
            "WARROOM_VAR_DIR": str(root / "var"),
            "WARROOM_CONFIG_DIR": str(root / "cfg"),
        }
    )
    env.update({f"WARROOM_{k.upper()}": v for k, v in extra.items()})
    return env


@dataclass
class Proc:
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class Processes:
    """Every `warroom` process a test starts; all stopped at teardown."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[Proc] = []
        self.numbers = itertools.count(1)

    def spawn(self, args: list[str], env: dict[str, str]) -> Proc:
        log = self.root / f"{args[0]}-{next(self.numbers)}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "warroom", *args],
                env=env,
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc = Proc(process, log)
        self.started.append(proc)
        return proc

    def worker(self, env: dict[str, str], *, wait: bool = False) -> Proc:
        """`warroom worker`; with ``wait``, once it has logged that it started."""
        proc = self.spawn(["worker"], env)
        deadline = time.monotonic() + START_TIMEOUT
        while wait and not re.search(r"worker \S+ started", proc.output()):
            if proc.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"warroom worker did not start:\n{proc.output()}")
            time.sleep(0.05)
        return proc

    def serve(self, env: dict[str, str]) -> tuple[Proc, str, float]:
        """`warroom serve` on a free port; (process, URL, time.time() it answered /readyz)."""
        port = free_port()
        env = env | {"WARROOM_PORT": str(port), "WARROOM_BASE_URL": f"http://127.0.0.1:{port}"}
        proc = self.spawn(["serve"], env)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.process.poll() is not None:
                raise AssertionError(f"warroom serve exited early:\n{proc.output()}")
            try:
                if httpx.get(url + "/readyz", timeout=2.0).status_code == 200:
                    return proc, url, time.time()
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"warroom serve not ready after {START_TIMEOUT} s:\n{proc.output()}")

    @staticmethod
    def stop(proc: Proc) -> int:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT; the exit status."""
        process = proc.process
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        return int(process.returncode)

    @staticmethod
    def kill(proc: Proc) -> None:
        proc.process.send_signal(signal.SIGKILL)
        proc.process.wait(timeout=STOP_TIMEOUT)

    def stop_all(self) -> None:
        for proc in self.started:
            try:
                self.stop(proc)
            except Exception as error:  # one stuck process must not keep the others running
                print(f"could not stop pid {proc.pid}: {error}")

    def tails(self, lines: int = 15) -> str:
        """The last lines each process wrote."""
        return "\n".join(
            f"--- {p.log.name} (pid {p.pid}, exit {p.process.poll()}) ---\n"
            + "\n".join(p.output().splitlines()[-lines:])
            for p in self.started
        )

    def assert_clean(self) -> None:
        """No process wrote a traceback."""
        for proc in self.started:
            assert "Traceback" not in proc.output(), proc.output()


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Processes]:
    processes = Processes(tmp_path)
    try:
        yield processes
    finally:
        processes.stop_all()
