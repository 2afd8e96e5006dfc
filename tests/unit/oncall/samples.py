"""Builders and shapes shared by the on-call rule tests."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from warroom.oncall.rules import Layer, Restriction, Shift, ShiftUnit

LONDON, NEW_YORK, LORD_HOWE, KOLKATA = (
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
)
WEEKDAYS = frozenset(range(5))
US = timedelta(microseconds=1)
DAYS, HOURS, WEEKS = ShiftUnit.DAYS, ShiftUnit.HOURS, ShiftUnit.WEEKS


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def layer(
    start: datetime,
    unit: ShiftUnit = DAYS,
    count: int = 1,
    handoff: time = time(9),
    people: tuple[str, ...] = ("ann", "bob"),
    restrictions: tuple[Restriction, ...] = (),
    name: str = "primary",
) -> Layer:
    return Layer(name, people, count, unit, handoff, start, restrictions)


def rows(shifts: list[Shift]) -> list[tuple[str, datetime, float]]:
    """(person, start, length in hours): the shape the tables below are written in."""
    return [(s.person, s.start, (s.end - s.start) / timedelta(hours=1)) for s in shifts]


def spans(shifts: list[Shift]) -> list[tuple[str, str | None, datetime, datetime]]:
    return [(s.person, s.layer, s.start, s.end) for s in shifts]
