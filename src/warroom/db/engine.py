"""Engine construction: SQLite pragmas or a PostgreSQL pool."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from warroom.db.filelock import WriteLock

SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITE_OPTION = "warroom_write"
# A writer that must not wait for SQLite's lock (one on the event loop's thread):
# its BEGIN fails at once with "database is locked" when another writer holds it.
NOWAIT_OPTION = "warroom_nowait"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Create an engine for ``url`` with the settings warroom relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        # psycopg prepares repeated statements; PostgreSQL's generic plan for them
        # ignores the filter values and walked the primary key backwards instead
        # of using the (severity, phase, id) index. Plan each execution for its values.
        connect_args={"options": "-c plan_cache_mode=force_custom_plan"},
    )


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=8,
        max_overflow=8,
        pool_use_lifo=True,
    )

    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own
    # implicit BEGIN cannot be made IMMEDIATE and breaks SAVEPOINTs).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A writer takes the write lock up front: a deferred transaction that
    # reads and then writes fails with SQLITE_BUSY instead of waiting when
    # another writer committed in between, which would lose a change.
    # Straight to the driver: SQLAlchemy's statement machinery cost more than
    # SQLite's own work here, once per group-commit batch on the ingest path.
    driver = connection.connection.driver_connection
    assert driver is not None  # a connection being begun is live
    options = connection.get_execution_options()
    statement = "BEGIN IMMEDIATE" if options.get(WRITE_OPTION) else "BEGIN"
    nowait = options.get(NOWAIT_OPTION, False)
    try:
        if nowait:
            driver.execute("PRAGMA busy_timeout=0")
        try:
            driver.execute(statement)
        finally:
            if nowait:  # only the BEGIN is not to wait; the pooled connection's own setting
                driver.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    except sqlite3.Error as error:
        # Wrapped as SQLAlchemy would (a busy database is an OperationalError),
        # so callers that retry or answer 503 on it still recognise it.
        raise DBAPIError.instance(statement, None, error, sqlite3.Error) from error


def make_session_factory(engine: Engine) -> SessionFactory:
    """Sessions for reading, and sessions that will write (see unit_of_work)."""
    return SessionFactory(engine)


class SessionFactory:
    """Hands out sessions; ``write=True`` ones take SQLite's write lock first.

    ``bind`` lets tests run every session inside one outer transaction that
    is rolled back afterwards; the unit of work's commit becomes a savepoint.
    """

    def __init__(self, engine: Engine, *, bind: Connection | None = None) -> None:
        self.engine = engine
        if bind is not None:
            self._read = self._write = self._nowait = sessionmaker(
                bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
            return
        self._read = sessionmaker(bind=engine, expire_on_commit=False)
        self._write = sessionmaker(
            bind=engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )
        self._nowait = sessionmaker(
            bind=engine.execution_options(**{WRITE_OPTION: True, NOWAIT_OPTION: True}),
            expire_on_commit=False,
        )

    def __call__(self, *, write: bool = False) -> Session:
        return (self._write if write else self._read)()

    def writer_that_does_not_wait(self) -> Session:
        """A write session whose SQLite BEGIN fails at once if another writer holds the lock
        (PostgreSQL takes row locks as it goes: there it is a plain write session)."""
        return self._nowait()


def ingest_write_lock(engine: Engine) -> WriteLock | None:
    """The lock file the ingest batch writers of every process share, for a SQLite file."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    if engine.url.database == ":memory:":
        return None
    path = Path(f"{engine.url.database}.ingest-lock")
    return WriteLock(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
