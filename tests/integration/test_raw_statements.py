"""Plain driver statements (db/raw.py) store values exactly as the ORM would read them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from warroom.db.base import UTCDateTime
from warroom.db.engine import SessionFactory
from warroom.db.raw import Json, RawStatements
from warroom.db.uow import unit_of_work

METADATA = MetaData()
PROBE = Table(
    "raw_probe",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime),
    Column("text", String(50)),
)


def test_parameters_of_every_kind_round_trip(sessions: SessionFactory) -> None:
    first = datetime(2026, 3, 29, 0, 59, 59, 123456, tzinfo=UTC)
    # The same instant in another zone, and a second instant given twice in a row:
    # the conversion kept for the last datetime must never serve a different one.
    paris = first.astimezone(timezone(timedelta(hours=2)))
    second = first + timedelta(hours=1)
    times = [first, paris, second, second, first]
    with unit_of_work(sessions) as session:
        METADATA.create_all(session.connection())
        raw = RawStatements(session)
        for n, at in enumerate(times):
            raw.run("INSERT INTO raw_probe (id, at, text) VALUES (?, ?, ?)", [n, at, f"t{n}"])
        stored = session.execute(select(PROBE.c.at).order_by(PROBE.c.id)).scalars().all()
        row = raw.one("SELECT ?, ?, ?, ?", [None, 7, True, Json({"a": [1, "é"]})])
        METADATA.drop_all(session.connection())
    assert stored == [first, first, second, second, first]
    assert row is not None
    assert row[:3] == (None, 7, True)  # SQLite answers 1 for True: equal in Python
    document = row[3] if isinstance(row[3], dict) else orjson.loads(row[3])
    assert document == {"a": [1, "é"]}


def test_driver_errors_arrive_as_sqlalchemys(sessions: SessionFactory) -> None:
    # The group committer isolates a job on IntegrityError and answers 503 on
    # OperationalError: a bare driver error would have been a 500.
    with unit_of_work(sessions) as session:
        METADATA.create_all(session.connection())
        raw = RawStatements(session)
        raw.run("INSERT INTO raw_probe (id, text) VALUES (?, ?)", [1, "first"])
        savepoint = session.begin_nested()
        with pytest.raises(IntegrityError):
            raw.run("INSERT INTO raw_probe (id, text) VALUES (?, ?)", [1, "again"])
        savepoint.rollback()
        with pytest.raises(DBAPIError):
            raw.one("SELECT no_such_column FROM raw_probe", [])
        session.rollback()
