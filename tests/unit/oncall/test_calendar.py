"""The iCalendar feed of on-call shifts, read back with icalendar."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

import pytest
from icalendar import Calendar

from warroom.errors import Invalid
from warroom.oncall.calendar import render_ics
from warroom.oncall.rules import Layer, Override, Schedule, Shift, ShiftUnit, final_shifts

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
IST = timezone(timedelta(hours=5, minutes=30))
SHIFTS = [
    Shift("ann", datetime(2026, 1, 5, 9, tzinfo=UTC), datetime(2026, 1, 5, 12, tzinfo=UTC), "day"),
    Shift("cat", datetime(2026, 1, 5, 12, tzinfo=UTC), datetime(2026, 1, 5, 14, tzinfo=UTC), None),
    Shift("bob", datetime(2026, 1, 5, 19, 30, tzinfo=IST), datetime(2026, 1, 6, tzinfo=UTC), "day"),
]


def render(shifts: list[Shift], sequence: int = 3) -> Calendar:
    ics = render_ics(
        "Platform on call",
        shifts,
        uid_prefix="sched-7",
        domain="warroom.example",
        sequence=sequence,
        now=NOW,
    )
    return Calendar.from_ical(ics)


def test_calendar_header():
    calendar = render(SHIFTS)
    assert calendar["PRODID"] == "-//warroom//oncall//EN"
    assert calendar["VERSION"] == "2.0"
    assert calendar["X-WR-CALNAME"] == "Platform on call"


def test_one_event_per_shift_with_utc_times():
    events = render(SHIFTS).walk("VEVENT")
    assert [
        (e["SUMMARY"], e.decoded("DTSTART"), e.decoded("DTEND"), e["SEQUENCE"]) for e in events
    ] == [(f"On call: {s.person}", s.start, s.end, 3) for s in SHIFTS]
    assert all(e.decoded("DTSTART").utcoffset() == timedelta(0) for e in events)
    assert all(e.decoded("DTSTAMP") == NOW for e in events)


def test_uids_name_the_slot_not_the_person():
    assert [str(e["UID"]) for e in render(SHIFTS).walk("VEVENT")] == [
        "sched-7-day-20260105T090000Z@warroom.example",
        "sched-7-override-20260105T120000Z@warroom.example",
        "sched-7-day-20260105T140000Z@warroom.example",
    ]
    handed_over = [Shift("dan", s.start, s.end, s.layer) for s in SHIFTS]
    again = render(handed_over, sequence=4).walk("VEVENT")
    assert [e["UID"] for e in again] == [e["UID"] for e in render(SHIFTS).walk("VEVENT")]
    assert {e["SEQUENCE"] for e in again} == {4}
    assert {str(e["SUMMARY"]) for e in again} == {"On call: dan"}


def test_times_are_written_in_utc():
    ics = render_ics("x", SHIFTS[2:], uid_prefix="p", domain="d", sequence=0, now=NOW)
    assert b"DTSTART:20260105T140000Z" in ics
    assert b"DTEND:20260106T000000Z" in ics
    assert b"DTSTAMP:20261127T100000Z" in ics


def test_events_match_a_rendered_schedule():
    layer = Layer(
        "primary", ("ann", "bob"), 1, ShiftUnit.DAYS, time(9), datetime(2026, 3, 1, tzinfo=UTC)
    )
    start = datetime(2026, 3, 6, tzinfo=UTC)
    override = Override("cat", start + timedelta(days=1), start + timedelta(days=1, hours=3))
    schedule = Schedule("America/New_York", (layer,), (override,))
    shifts = final_shifts(schedule, start, start + timedelta(days=4))
    events = render(shifts).walk("VEVENT")
    assert [(e.decoded("DTSTART"), e.decoded("DTEND")) for e in events] == [
        (s.start, s.end) for s in shifts
    ]
    assert sum(str(e["UID"]).startswith("sched-7-override-") for e in events) == 1


def test_empty_calendar_is_still_valid():
    calendar = render([])
    assert calendar.walk("VEVENT") == []
    assert calendar["X-WR-CALNAME"] == "Platform on call"


def test_two_shifts_in_one_slot_are_refused():
    with pytest.raises(ValueError, match="share the calendar slot"):
        render([SHIFTS[0], SHIFTS[0]])


def test_naive_now_is_refused():
    with pytest.raises(Invalid):
        render_ics("x", SHIFTS, uid_prefix="p", domain="d", sequence=0, now=datetime(2026, 1, 1))
