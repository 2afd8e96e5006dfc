"""The report's dialect-specific SQL: durations exact to the millisecond, value lists exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import BigInteger, DateTime, literal, select, union_all

from tests.conftest import Database
from warroom.db.engine import SessionFactory
from warroom.db.sql import seconds_between
from warroom.db.uow import unit_of_work
from warroom.reports.sql import elapsed, instant, millis, value_list

# Durations in ms: zero, a year, past 32 bits, negative (clock skew); and a NULL.
MILLIS = [0, 1, 31_536_000_000, 2**40 + 7, -500]


def test_value_lists_read_back_every_integer_exactly(sessions: SessionFactory) -> None:
    rows = union_all(*(select(literal(n, BigInteger).label("x")) for n in [*MILLIS, None]))
    x = rows.subquery().c.x
    with unit_of_work(sessions, write=False) as session:
        listed = session.execute(select(value_list(x))).scalar_one()
        empty = session.execute(select(value_list(x)).where(x > 2**50)).scalar_one()
    assert sorted(int(v) for v in listed.split(",")) == sorted(MILLIS)
    assert empty is None


@pytest.mark.parametrize("micros", [0, 999_999, 500, 123_456])
def test_durations_are_exact_to_the_millisecond(
    sessions: SessionFactory, database: Database, micros: int
) -> None:
    # An acknowledgement exactly on a 15-minute target, from a start with odd microseconds
    # just before midnight: the blur of epoch seconds in a double must not show.
    start = datetime(2026, 11, 27, 23, 59, 59, micros, tzinfo=UTC)
    end = start + timedelta(minutes=15)
    at = [literal(t, DateTime(timezone=True)) for t in (end, start)]
    seconds = elapsed(instant(at[0]), instant(at[1]))
    with unit_of_work(sessions, write=False) as session:
        between, rounded = session.execute(select(seconds, millis(seconds))).one()
        apart = session.execute(select(seconds_between(at[0], at[1]))).scalar_one()
    assert between == pytest.approx(900, abs=1e-3)
    assert rounded == 900_000
    assert apart == pytest.approx(900, abs=1e-3)
    if database.backend == "postgresql":  # SQLite's julianday() blurs some microseconds
        assert apart == 900.0
