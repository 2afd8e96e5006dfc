"""Fresh benchmark databases, migrated and filled in bulk (not through the services).

Small tables and incidents are generated in Python (bench/data.py) and written
with executemany (SQLite) or COPY (PostgreSQL); the timeline, ten times larger,
is derived from the incidents by one set-based INSERT ... SELECT.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import data
from warroom.db import migrate
from warroom.db.engine import make_engine

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
PG_ADMIN_DATABASE = "test"
PG_BENCH_DATABASE = "warroom_bench"
SERIAL_TABLES = ("user", "team", "service", "incident", "api_token")


@dataclass(frozen=True)
class Seeded:
    """What the load generator needs to know about the generated data."""

    token: str
    handles: list[str]
    service_slugs: list[str]
    incidents: int
    entries: int
    seconds: dict[str, float]


@contextmanager
def fresh_database(
    backend: str, workdir: Path, pg_server: str = PG_SERVER, pg_name: str = PG_BENCH_DATABASE
) -> Iterator[str]:
    """Yield the URL of a new, empty database; drop it afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"  # removed with workdir
        return
    admin = create_engine(f"{pg_server}/{PG_ADMIN_DATABASE}", isolation_level="AUTOCOMMIT")
    drop = f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'
    try:
        with admin.connect() as connection:
            connection.execute(text(drop))
            connection.execute(text(f'CREATE DATABASE "{pg_name}"'))
        yield f"{pg_server}/{pg_name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(drop))
        admin.dispose()


def upgrade(url: str) -> None:
    """Migrate the database to the newest schema, as `warroom db upgrade` does."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


class Writer(Protocol):
    """Bulk writes in one backend's dialect."""

    def stamp(self, value: datetime) -> Any: ...
    def rows(self, table: str, columns: Sequence[str], rows: Sequence[data.Row]) -> None: ...
    def execute(self, sql: str) -> None: ...
    def timeline_sql(self, entries_per_incident: int, users: int) -> str: ...
    def finish(self) -> None: ...


class SqliteWriter:
    """One sqlite3 connection, one transaction, no fsync until the end."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None)
        for pragma in ("synchronous=OFF", "cache_size=-262144", "temp_store=MEMORY"):
            self.connection.execute(f"PRAGMA {pragma}")
        self.connection.execute("BEGIN")

    def stamp(self, value: datetime) -> Any:
        # SQLAlchemy's SQLite DATETIME text format, always with microseconds.
        return value.isoformat(" ", "microseconds")

    def rows(self, table: str, columns: Sequence[str], rows: Sequence[data.Row]) -> None:
        marks = ", ".join("?" * len(columns))
        names = ", ".join(columns)
        self.connection.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)

    def execute(self, sql: str) -> None:
        self.connection.execute(sql)

    def timeline_sql(self, entries_per_incident: int, users: int) -> str:
        at = (
            "strftime('%Y-%m-%d %H:%M:%S', i.declared_at, '+' || (k.k * 7) || ' minutes')"
            " || substr(i.declared_at, 20)"
        )
        return timeline_sql(entries_per_incident, users, at=at, json_cast="")

    def finish(self) -> None:
        self.connection.execute("COMMIT")
        self.connection.execute("ANALYZE")
        self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.connection.close()


class PostgresWriter:
    """One psycopg connection; COPY for rows, VACUUM ANALYZE at the end."""

    def __init__(self, url: str) -> None:
        conninfo = make_url(url).set(drivername="postgresql").render_as_string(False)
        self.connection = psycopg.connect(conninfo)
        # The generated rows are consistent by construction: skip the foreign
        # key triggers while loading (needs a superuser, as the bench server is).
        self.connection.execute("SET session_replication_role = replica")

    def stamp(self, value: datetime) -> Any:
        return value.replace(tzinfo=UTC)

    def rows(self, table: str, columns: Sequence[str], rows: Sequence[data.Row]) -> None:
        names = ", ".join(columns)
        with (
            self.connection.cursor() as cursor,
            cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def execute(self, sql: str) -> None:
        self.connection.execute(sql)

    def timeline_sql(self, entries_per_incident: int, users: int) -> str:
        at = "i.declared_at + k.k * interval '7 minutes'"
        return timeline_sql(entries_per_incident, users, at=at, json_cast="::jsonb")

    def finish(self) -> None:
        for table in SERIAL_TABLES:
            self.connection.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'(SELECT max(id) FROM "{table}"))'
            )
        self.connection.commit()
        self.connection.autocommit = True
        self.connection.execute("VACUUM (ANALYZE)")
        self.connection.close()


KINDS = (
    ("declared", "'Declared ' || s.name || ': ' || i.title",
     "'{\"severity\": \"' || s.name || '\", \"phase\": \"triage\"}'"),
    ("acknowledged", "'Acknowledged by @' || u.handle", "'{}'"),
    ("role_assigned", "'Incident Commander: @' || u.handle",
     "'{\"role\": \"commander\", \"before\": null, \"after\": \"' || u.handle || '\"}'"),
    ("phase_changed", "'Phase: triage → investigating'",
     "'{\"before\": \"triage\", \"after\": \"investigating\"}'"),
    ("note", "'Error rate on the edge is ' || (i.id % 40 + 5) || '% above baseline; "
     "checking the deploys of the last hour'", "'{}'"),
    ("note", "'Rolled back the ' || s.name || ' deploy; waiting for the canary to recover'",
     "'{}'"),
    ("field_changed", "'Current theory: connection pool exhausted after the deploy'",
     "'{\"field\": \"current_theory\", \"before\": \"\", \"after\": \"pool\"}'"),
    ("note", "'Customer support reports fewer tickets since ' || (k.k * 7) || ' minutes in'",
     "'{}'"),
    ("phase_changed", "'Phase: investigating → mitigating'",
     "'{\"before\": \"investigating\", \"after\": \"mitigating\"}'"),
    ("phase_changed", "'Phase: mitigating → resolved'",
     "'{\"before\": \"mitigating\", \"after\": \"resolved\"}'"),
)  # fmt: skip


def timeline_sql(entries_per_incident: int, users: int, *, at: str, json_cast: str) -> str:
    """INSERT ... SELECT of ``entries_per_incident`` entries for every incident, in order."""
    ks = ", ".join(f"({k})" for k in range(entries_per_incident))
    exprs = [(f"'{kind}'", body, payload) for kind, body, payload in KINDS]
    cases = [
        " ".join(f"WHEN {n} THEN {expr[part]}" for n, expr in enumerate(exprs)) for part in range(3)
    ]
    kind, body, payload = (f"CASE k.k % {len(KINDS)} {c} END" for c in cases)
    return f"""
        WITH k(k) AS (VALUES {ks})
        INSERT INTO timeline_entry (incident_id, at, recorded_at, actor_id, kind, text, data)
        SELECT i.id, {at}, {at}, u.id, {kind}, {body}, ({payload}){json_cast}
        FROM incident i
        CROSS JOIN k
        JOIN severity s ON s.level = i.severity_level
        JOIN "user" u ON u.id = 2 + (i.id * 7 + k.k) % {users}
        ORDER BY i.id, k.k
    """


def make_writer(backend: str, url: str) -> Writer:
    if backend == "sqlite":
        return SqliteWriter(str(make_url(url).database))
    return PostgresWriter(url)


def populate(backend: str, url: str, shape: data.Shape) -> Seeded:
    """Fill a migrated, empty database; returns what the load needs and the timings."""
    writer = make_writer(backend, url)
    timings: dict[str, float] = {}
    end = data.now_utc() - timedelta(days=1)
    org = data.organisation(shape, end - timedelta(days=365 * shape.years + 30), writer.stamp)
    started = time.perf_counter()
    writer.rows("user", data.USER_COLUMNS, org.users)
    writer.rows("team", data.TEAM_COLUMNS, org.teams)
    writer.rows("team_member", ("team_id", "user_id"), org.members)
    writer.rows("service", data.SERVICE_COLUMNS, org.services)
    writer.rows("api_token", data.TOKEN_COLUMNS, [org.token_row])
    for incidents, links in data.incident_batches(shape, org, end, writer.stamp):
        writer.rows("incident", data.INCIDENT_COLUMNS, incidents)
        writer.rows("incident_service", ("incident_id", "service_id"), links)
    timings["incidents"] = _lap(started)
    if shape.entries_per_incident:
        writer.execute(writer.timeline_sql(shape.entries_per_incident, shape.users))
    timings["timeline"] = _lap(started) - timings["incidents"]
    writer.finish()
    timings["analyze"] = _lap(started) - timings["incidents"] - timings["timeline"]
    timings["total"] = _lap(started)
    return Seeded(
        token=org.token.plain,
        handles=org.handles,
        service_slugs=org.service_slugs,
        incidents=shape.incidents,
        entries=shape.incidents * shape.entries_per_incident,
        seconds=timings,
    )


def _lap(started: float) -> float:
    return time.perf_counter() - started
