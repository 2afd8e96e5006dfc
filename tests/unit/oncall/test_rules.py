"""Schedules: layers stacked, overrides on top, who is on call, and validation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from tests.unit.oncall.samples import (
    LONDON,
    US,
    WEEKDAYS,
    WEEKS,
    layer,
    rows,
    spans,
    utc,
)
from warroom.errors import Invalid
from warroom.oncall.rules import (
    Override,
    Restriction,
    Schedule,
    Shift,
    coverage_gaps,
    final_shifts,
    layer_shifts,
    oncall_at,
    schedule_problems,
    validate_schedule,
)


def day_rotation(*overrides: Override, tz: str = LONDON) -> Schedule:
    return Schedule(tz, (layer(utc(2026, 1, 5, 9)),), overrides)


OVERRIDES = [
    pytest.param(
        [Override("cat", utc(2026, 1, 5, 12), utc(2026, 1, 5, 14))],
        [
            ("ann", "primary", utc(2026, 1, 5, 9), utc(2026, 1, 5, 12)),
            ("cat", None, utc(2026, 1, 5, 12), utc(2026, 1, 5, 14)),
            ("ann", "primary", utc(2026, 1, 5, 14), utc(2026, 1, 6, 9)),
            ("bob", "primary", utc(2026, 1, 6, 9), utc(2026, 1, 7, 9)),
        ],
        id="in-the-middle-of-a-shift",
    ),
    pytest.param(
        [Override("cat", utc(2026, 1, 5, 20), utc(2026, 1, 6, 11))],
        [
            ("ann", "primary", utc(2026, 1, 5, 9), utc(2026, 1, 5, 20)),
            ("cat", None, utc(2026, 1, 5, 20), utc(2026, 1, 6, 11)),
            ("bob", "primary", utc(2026, 1, 6, 11), utc(2026, 1, 7, 9)),
        ],
        id="spanning-two-shifts",
    ),
    pytest.param(
        [
            Override("dan", utc(2026, 1, 5, 12), utc(2026, 1, 5, 16)),
            Override("eve", utc(2026, 1, 5, 13), utc(2026, 1, 5, 14)),
        ],
        [
            ("ann", "primary", utc(2026, 1, 5, 9), utc(2026, 1, 5, 12)),
            ("dan", None, utc(2026, 1, 5, 12), utc(2026, 1, 5, 13)),
            ("eve", None, utc(2026, 1, 5, 13), utc(2026, 1, 5, 14)),
            ("dan", None, utc(2026, 1, 5, 14), utc(2026, 1, 5, 16)),
            ("ann", "primary", utc(2026, 1, 5, 16), utc(2026, 1, 6, 9)),
            ("bob", "primary", utc(2026, 1, 6, 9), utc(2026, 1, 7, 9)),
        ],
        id="later-override-wins",
    ),
    pytest.param(
        [
            Override("cat", utc(2026, 1, 1), utc(2026, 1, 5, 10)),
            Override("dan", utc(2026, 1, 7), utc(2026, 2, 1)),
        ],
        [
            ("cat", None, utc(2026, 1, 5, 9), utc(2026, 1, 5, 10)),
            ("ann", "primary", utc(2026, 1, 5, 10), utc(2026, 1, 6, 9)),
            ("bob", "primary", utc(2026, 1, 6, 9), utc(2026, 1, 7)),
            ("dan", None, utc(2026, 1, 7), utc(2026, 1, 7, 9)),
        ],
        id="clipped-to-the-range",
    ),
]


@pytest.mark.parametrize(("overrides", "expected"), OVERRIDES)
def test_overrides_sit_on_top(overrides, expected):
    schedule = day_rotation(*overrides)
    assert spans(final_shifts(schedule, utc(2026, 1, 5, 9), utc(2026, 1, 7, 9))) == expected


def stacked() -> Schedule:
    base = layer(utc(2026, 1, 4, 12), handoff=time(12))
    daytime = layer(
        utc(2026, 1, 5),
        WEEKS,
        handoff=time(0),
        people=("cat",),
        restrictions=(Restriction(WEEKDAYS, time(9), time(17)),),
        name="daytime",
    )
    return Schedule(LONDON, (base, daytime))


def test_higher_layer_wins_and_is_not_split_by_lower_handoffs():
    shifts = final_shifts(stacked(), utc(2026, 1, 6), utc(2026, 1, 7))
    assert spans(shifts) == [
        ("bob", "primary", utc(2026, 1, 6), utc(2026, 1, 6, 9)),
        ("cat", "daytime", utc(2026, 1, 6, 9), utc(2026, 1, 6, 17)),
        ("ann", "primary", utc(2026, 1, 6, 17), utc(2026, 1, 7)),
    ]


def test_lower_layer_shows_through_where_the_higher_has_nobody():
    shifts = final_shifts(stacked(), utc(2026, 1, 10), utc(2026, 1, 11))  # a Saturday
    assert spans(shifts) == [
        ("bob", "primary", utc(2026, 1, 10), utc(2026, 1, 10, 12)),
        ("ann", "primary", utc(2026, 1, 10, 12), utc(2026, 1, 11)),
    ]


def test_consecutive_shifts_of_one_person_stay_separate():
    schedule = Schedule(LONDON, (layer(utc(2026, 1, 5, 9), people=("ann",)),))
    shifts = final_shifts(schedule, utc(2026, 1, 5, 9), utc(2026, 1, 7, 9))
    assert rows(shifts) == [("ann", utc(2026, 1, 5, 9), 24), ("ann", utc(2026, 1, 6, 9), 24)]


def test_coverage_gaps_are_where_nobody_is_on_call():
    schedule = Schedule(LONDON, stacked().layers[1:])
    gaps = coverage_gaps(schedule, utc(2026, 1, 8, 12), utc(2026, 1, 12, 12))
    assert gaps == [
        (utc(2026, 1, 8, 17), utc(2026, 1, 9, 9)),
        (utc(2026, 1, 9, 17), utc(2026, 1, 12, 9)),
    ]
    assert coverage_gaps(stacked(), utc(2026, 1, 8), utc(2026, 1, 12)) == []


BOUNDARY_SCHEDULE = day_rotation(Override("cat", utc(2026, 1, 5, 12), utc(2026, 1, 5, 14)))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2026, 1, 5, 9) - US, None),
        (utc(2026, 1, 5, 9), ("ann", "primary", utc(2026, 1, 5, 9), utc(2026, 1, 5, 12))),
        (utc(2026, 1, 5, 12) - US, ("ann", "primary", utc(2026, 1, 5, 9), utc(2026, 1, 5, 12))),
        (utc(2026, 1, 5, 12), ("cat", None, utc(2026, 1, 5, 12), utc(2026, 1, 5, 14))),
        (utc(2026, 1, 5, 14), ("ann", "primary", utc(2026, 1, 5, 14), utc(2026, 1, 6, 9))),
        (utc(2026, 1, 6, 9) - US, ("ann", "primary", utc(2026, 1, 5, 14), utc(2026, 1, 6, 9))),
        (utc(2026, 1, 6, 9), ("bob", "primary", utc(2026, 1, 6, 9), utc(2026, 1, 7, 9))),
    ],
)
def test_oncall_at_boundaries_start_inclusive_end_exclusive(at, expected):
    found = oncall_at(BOUNDARY_SCHEDULE, at)
    assert (spans([found])[0] if found else None) == expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2026, 1, 6, 8, 59), None),
        (utc(2026, 1, 6, 9), ("cat", "daytime", utc(2026, 1, 6, 9), utc(2026, 1, 6, 17))),
        (utc(2026, 1, 6, 17) - US, ("cat", "daytime", utc(2026, 1, 6, 9), utc(2026, 1, 6, 17))),
        (utc(2026, 1, 6, 17), None),
    ],
)
def test_oncall_at_restricted_windows(at, expected):
    schedule = Schedule(LONDON, stacked().layers[1:])
    found = oncall_at(schedule, at)
    assert (spans([found])[0] if found else None) == expected


def test_oncall_at_returns_the_whole_shift_that_final_shifts_clips():
    at = utc(2026, 1, 6, 12)
    found = oncall_at(stacked(), at)
    assert found == Shift("cat", utc(2026, 1, 6, 9), utc(2026, 1, 6, 17), "daytime")
    assert final_shifts(stacked(), at, at + timedelta(hours=1)) == [
        replace(found, start=at, end=at + timedelta(hours=1))
    ]


def valid() -> Schedule:
    return Schedule(
        LONDON,
        (layer(utc(2026, 1, 5, 9), restrictions=(Restriction(WEEKDAYS, time(9), time(17)),)),),
        (Override("cat", utc(2026, 1, 5, 12), utc(2026, 1, 5, 14)),),
    )


def with_layer(**changes: Any) -> Schedule:
    schedule = valid()
    return replace(schedule, layers=(replace(schedule.layers[0], **changes),))


def with_override(**changes: Any) -> Schedule:
    schedule = valid()
    return replace(schedule, overrides=(replace(schedule.overrides[0], **changes),))


def with_restriction(**changes: Any) -> Schedule:
    restriction = replace(valid().layers[0].restrictions[0], **changes)
    return with_layer(restrictions=(restriction,))


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        (replace(valid(), tz="Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
        (replace(valid(), tz="America"), "unknown time zone 'America'"),
        (with_layer(participants=()), "layer 'primary': needs at least one participant"),
        (with_layer(participants=("ann", " ")), "layer 'primary': participant names"),
        (with_layer(shift_count=0), "layer 'primary': shift_count must be at least 1"),
        (with_layer(shift_count=53, shift_unit=WEEKS), "layer 'primary': shifts may last"),
        (with_layer(start=datetime(2026, 1, 5)), "layer 'primary': start must be timezone-aware"),
        (with_layer(handoff=time(9, tzinfo=UTC)), "layer 'primary': handoff is a local time"),
        (with_layer(name=""), "every layer needs a name"),
        (replace(valid(), layers=valid().layers * 2), "another layer has the same name"),
        (with_restriction(days=frozenset({7})), "restriction 1: days must be 0 (Monday) to 6"),
        (with_restriction(days=frozenset({-1})), "restriction 1: days must be 0 (Monday) to 6"),
        (with_restriction(days=frozenset()), "restriction 1: needs at least one day"),
        (with_restriction(end=time(9)), "restriction 1: start and end are equal"),
        (with_override(end=utc(2026, 1, 5, 12)), "override 1 ('cat'): end must be after start"),
        (with_override(end=utc(2026, 1, 5, 11)), "override 1 ('cat'): end must be after start"),
        (with_override(start=datetime(2026, 1, 5)), "override 1 ('cat'): start and end must be"),
        (with_override(person=""), "override 1 (''): needs a person"),
    ],
)
def test_schedule_problems_name_what_is_wrong(schedule, problem):
    problems = schedule_problems(schedule)
    assert any(problem in p for p in problems), problems
    with pytest.raises(Invalid) as caught:
        validate_schedule(schedule)
    assert problem in caught.value.message
    assert caught.value.field == "schedule"
    with pytest.raises(Invalid):
        final_shifts(schedule, utc(2026, 1, 5), utc(2026, 1, 6))


def test_validate_schedule_lists_every_problem():
    schedule = replace(with_layer(participants=(), shift_count=0), tz="Nowhere")
    with pytest.raises(Invalid) as caught:
        validate_schedule(schedule)
    assert caught.value.message.count(";") == 2
    assert schedule_problems(valid()) == []
    validate_schedule(valid())


@pytest.mark.parametrize(
    "call",
    [
        lambda: final_shifts(valid(), datetime(2026, 1, 5), utc(2026, 1, 6)),
        lambda: oncall_at(valid(), datetime(2026, 1, 5)),
        lambda: layer_shifts(valid().layers[0], LONDON, utc(2026, 1, 5), datetime(2026, 1, 6)),
        lambda: layer_shifts(valid().layers[0], "Nowhere", utc(2026, 1, 5), utc(2026, 1, 6)),
    ],
)
def test_naive_instants_and_unknown_zones_are_refused(call):
    with pytest.raises(Invalid):
        call()


def test_empty_or_reversed_range_has_no_shifts():
    assert final_shifts(valid(), utc(2026, 1, 6), utc(2026, 1, 5)) == []
