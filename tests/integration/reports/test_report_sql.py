"""The report's dialect-specific SQL: durations exact enough, value lists exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import DateTime, Float, literal, select, union_all

from tests.conftest import Database
from warroom.db.engine import SessionFactory
from warroom.db.sql import seconds_between
from warroom.db.uow import unit_of_work
from warroom.reports.sql import elapsed, instant, value_list

# Values whose shortest exact decimal needs 16 or 17 digits, and a NULL.
AWKWARD = [0.1 + 0.2, 1 / 3, 2 / 3, 149.99999999999997, 1e-300, 123456.78901234567, -0.5]


def test_value_lists_read_back_every_double_exactly(sessions: SessionFactory) -> None:
    rows = union_all(*(select(literal(n, Float).label("x")) for n in [*AWKWARD, None])).subquery()
    with unit_of_work(sessions, write=False) as session:
        listed = session.execute(select(value_list(rows.c.x))).scalar_one()
        empty = session.execute(select(value_list(rows.c.x)).where(rows.c.x > 1e9)).scalar_one()
    assert sorted(float(v) for v in listed.split(",")) == sorted(AWKWARD)
    assert empty is None


def test_durations_are_seconds_and_exact_on_postgresql(
    sessions: SessionFactory, database: Database
) -> None:
    start = datetime(2026, 11, 27, 23, 59, 59, 999_999, tzinfo=UTC)
    end = start + timedelta(minutes=15)  # an acknowledgement exactly on a 15-minute target
    at = [literal(t, DateTime(timezone=True)) for t in (end, start)]
    with unit_of_work(sessions, write=False) as session:
        between = session.execute(select(elapsed(instant(at[0]), instant(at[1])))).scalar_one()
        apart = session.execute(select(seconds_between(at[0], at[1]))).scalar_one()
    assert between == pytest.approx(900, abs=1e-3)
    assert apart == pytest.approx(900, abs=1e-3)
    if database.backend == "postgresql":  # SQLite's julianday() blurs some microseconds
        assert between == apart == 900.0
