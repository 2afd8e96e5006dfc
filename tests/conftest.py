"""Shared fixtures: explicit Settings, a database per backend, per-test rollback.

Storage, service and API suites take the ``db`` fixture, which is parametrised
over SQLite and PostgreSQL. PostgreSQL is WARROOM_TEST_DATABASE_URL (default:
127.0.0.1:5432, database test); each xdist worker gets its own database made
from it. Under CI=true an unreachable PostgreSQL fails the run; elsewhere the
PostgreSQL half is skipped with a note.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from warroom.clock import FixedClock
from warroom.db import migrate
from warroom.db.engine import SessionFactory, make_engine

PG_URL = os.environ.get(
    "WARROOM_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def _pg_problem() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except OperationalError as error:
        return str(error).splitlines()[0]
    return None


PG_PROBLEM = _pg_problem()


def pytest_report_header(config: pytest.Config) -> str:
    if PG_PROBLEM:
        return f"PostgreSQL suites SKIPPED: {PG_URL} unreachable ({PG_PROBLEM})"
    return f"PostgreSQL suites run against {PG_URL}"


def pytest_sessionstart(session: pytest.Session) -> None:
    if PG_PROBLEM and IN_CI:
        raise pytest.UsageError(f"CI=true but PostgreSQL at {PG_URL} is unreachable: {PG_PROBLEM}")


_RUN_ID = uuid.uuid4().hex[:8]


def _worker_suffix(request: pytest.FixtureRequest) -> str:
    """Unique per test run and xdist worker, so concurrent runs never share a database."""
    workerinput = getattr(request.config, "workerinput", {})
    run = str(workerinput.get("testrunuid", _RUN_ID))[:8]
    return f"{run}_{workerinput.get('workerid', 'main')}"


def drop_pg_database(name: str) -> None:
    """Drop a database made by fresh_pg_database."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fresh_pg_database(name: str) -> str:
    """Create (or re-create) database ``name`` beside the test database."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@dataclass
class Database:
    """A migrated database of one backend."""

    backend: str
    url: str
    engine: Engine


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A migrated database per backend, shared by the session."""
    backend = str(request.param)
    if backend == "postgresql":
        if PG_PROBLEM:
            pytest.skip(f"PostgreSQL unreachable: {PG_PROBLEM}")
        name = f"warroom_test_{_worker_suffix(request)}"
        url = fresh_pg_database(name)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'warroom.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    yield Database(backend, url, engine)
    engine.dispose()
    if backend == "postgresql":
        drop_pg_database(name)


@pytest.fixture
def sessions(database: Database) -> Iterator[SessionFactory]:
    """Sessions inside one outer transaction, rolled back after the test."""
    connection = database.engine.connect()
    outer = connection.begin()
    try:
        yield SessionFactory(database.engine, bind=connection)
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def committed_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh migrated database whose commits are real (for concurrency tests)."""
    backend = getattr(request, "param", "sqlite")
    if backend == "postgresql":
        if PG_PROBLEM:
            pytest.skip(f"PostgreSQL unreachable: {PG_PROBLEM}")
        name = f"warroom_commit_{_worker_suffix(request)}"
        url = fresh_pg_database(name)
    else:
        url = f"sqlite:///{tmp_path / 'committed.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    yield Database(backend, url, engine)
    engine.dispose()
    if backend == "postgresql":
        drop_pg_database(name)
