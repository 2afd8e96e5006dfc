"""Single rotation layers: handoffs on the wall clock, DST, restrictions, zone arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.unit.oncall.samples import (
    HOURS,
    KOLKATA,
    LONDON,
    LORD_HOWE,
    NEW_YORK,
    WEEKDAYS,
    WEEKS,
    layer,
    rows,
    utc,
)
from warroom.oncall.rules import (
    Restriction,
    dst_changes,
    layer_shifts,
    local_to_utc,
    rotation_start,
)

ROTATIONS = [
    pytest.param(
        LONDON,
        layer(utc(2026, 3, 16, 9), WEEKS, people=("ann", "bob", "cat")),
        utc(2026, 4, 6, 8),
        [
            ("ann", utc(2026, 3, 16, 9), 168),
            ("bob", utc(2026, 3, 23, 9), 167),
            ("cat", utc(2026, 3, 30, 8), 168),
        ],
        id="london-weekly-spring-forward",
    ),
    pytest.param(
        LONDON,
        layer(utc(2026, 10, 12, 8), WEEKS, people=("ann", "bob", "cat")),
        utc(2026, 11, 2, 9),
        [
            ("ann", utc(2026, 10, 12, 8), 168),
            ("bob", utc(2026, 10, 19, 8), 169),
            ("cat", utc(2026, 10, 26, 9), 168),
        ],
        id="london-weekly-fall-back",
    ),
    pytest.param(
        NEW_YORK,
        layer(utc(2026, 3, 6, 14)),
        utc(2026, 3, 10, 13),
        [
            ("ann", utc(2026, 3, 6, 14), 24),
            ("bob", utc(2026, 3, 7, 14), 23),
            ("ann", utc(2026, 3, 8, 13), 24),
            ("bob", utc(2026, 3, 9, 13), 24),
        ],
        id="new-york-daily-spring-forward",
    ),
    pytest.param(
        NEW_YORK,
        layer(utc(2026, 10, 30, 13)),
        utc(2026, 11, 3, 14),
        [
            ("ann", utc(2026, 10, 30, 13), 24),
            ("bob", utc(2026, 10, 31, 13), 25),
            ("ann", utc(2026, 11, 1, 14), 24),
            ("bob", utc(2026, 11, 2, 14), 24),
        ],
        id="new-york-daily-fall-back",
    ),
    pytest.param(
        NEW_YORK,
        layer(utc(2026, 3, 7, 14), HOURS, 12),
        utc(2026, 3, 9, 13),
        [
            ("ann", utc(2026, 3, 7, 14), 12),
            ("bob", utc(2026, 3, 8, 2), 11),
            ("ann", utc(2026, 3, 8, 13), 12),
            ("bob", utc(2026, 3, 9, 1), 12),
        ],
        id="new-york-12h-on-the-wall-clock",
    ),
    pytest.param(
        NEW_YORK,
        layer(utc(2026, 3, 7, 14), HOURS, 5),
        utc(2026, 3, 8, 15),
        [
            ("ann", utc(2026, 3, 7, 14), 5),
            ("bob", utc(2026, 3, 7, 19), 5),
            ("ann", utc(2026, 3, 8, 0), 5),
            ("bob", utc(2026, 3, 8, 5), 5),
            ("ann", utc(2026, 3, 8, 10), 5),
        ],
        id="new-york-5h-elapsed",
    ),
    pytest.param(
        NEW_YORK,
        layer(utc(2026, 3, 8, 5), HOURS, 1, time(0), ("ann", "bob", "cat")),
        utc(2026, 3, 8, 9),
        # 02:00-03:00 does not exist that night: cat's slot is lost, not moved.
        [
            ("ann", utc(2026, 3, 8, 5), 1),
            ("bob", utc(2026, 3, 8, 6), 1),
            ("ann", utc(2026, 3, 8, 7), 1),
            ("bob", utc(2026, 3, 8, 8), 1),
        ],
        id="new-york-hourly-slot-inside-the-gap",
    ),
    pytest.param(
        NEW_YORK,
        layer(utc(2026, 3, 6, 5), handoff=time(2, 30)),
        utc(2026, 3, 10, 6, 30),
        [
            ("ann", utc(2026, 3, 6, 7, 30), 24),
            ("bob", utc(2026, 3, 7, 7, 30), 23.5),
            ("ann", utc(2026, 3, 8, 7), 23.5),
            ("bob", utc(2026, 3, 9, 6, 30), 24),
        ],
        id="new-york-handoff-in-the-gap",
    ),
    pytest.param(
        LORD_HOWE,
        layer(utc(2026, 4, 3, 22)),
        utc(2026, 4, 5, 22, 30),
        [("ann", utc(2026, 4, 3, 22), 24.5), ("bob", utc(2026, 4, 4, 22, 30), 24)],
        id="lord-howe-half-hour-fall-back",
    ),
    pytest.param(
        LORD_HOWE,
        layer(utc(2026, 10, 2, 22, 30)),
        utc(2026, 10, 4, 22),
        [("ann", utc(2026, 10, 2, 22, 30), 23.5), ("bob", utc(2026, 10, 3, 22), 24)],
        id="lord-howe-half-hour-spring-forward",
    ),
    pytest.param(
        LORD_HOWE,
        layer(utc(2026, 10, 2, 15, 45), handoff=time(2, 15)),
        utc(2026, 10, 4, 15, 15),
        [("ann", utc(2026, 10, 2, 15, 45), 23.75), ("bob", utc(2026, 10, 3, 15, 30), 23.75)],
        id="lord-howe-handoff-in-the-gap",
    ),
    pytest.param(
        KOLKATA,
        layer(utc(2026, 3, 2, 3, 30), HOURS, 12),
        utc(2026, 3, 3, 3, 30),
        [("ann", utc(2026, 3, 2, 3, 30), 12), ("bob", utc(2026, 3, 2, 15, 30), 12)],
        id="kolkata-12h",
    ),
    pytest.param(
        KOLKATA,
        layer(utc(2026, 3, 1, 12), WEEKS),
        utc(2026, 3, 16, 3, 30),
        [("ann", utc(2026, 3, 2, 3, 30), 168), ("bob", utc(2026, 3, 9, 3, 30), 168)],
        id="kolkata-weekly-starts-at-the-next-handoff",
    ),
]


@pytest.mark.parametrize(("tz", "rotation", "end", "expected"), ROTATIONS)
def test_layer_shifts(tz, rotation, end, expected):
    start = rotation.start - timedelta(days=1)
    assert rows(layer_shifts(rotation, tz, start, end)) == expected
    assert rotation_start(rotation, tz) == expected[0][1]


@pytest.mark.parametrize(("tz", "rotation", "end", "expected"), ROTATIONS[:5])
def test_wall_clock_handoffs_keep_their_local_time(tz, rotation, end, expected):
    zone = ZoneInfo(tz)
    for shift in layer_shifts(rotation, tz, rotation.start, end):
        local = shift.start.astimezone(zone)
        assert local.minute == 0
        assert local.hour in (9, 21)


def test_layer_shifts_are_clipped_to_the_range():
    rotation = layer(utc(2026, 1, 5, 9))
    shifts = layer_shifts(rotation, LONDON, utc(2026, 1, 5, 12), utc(2026, 1, 6, 10))
    assert rows(shifts) == [("ann", utc(2026, 1, 5, 12), 21), ("bob", utc(2026, 1, 6, 9), 1)]
    assert all(s.start.tzinfo is UTC and s.end.tzinfo is UTC for s in shifts)


def test_layer_shifts_far_from_the_start_are_computed_directly():
    rotation = layer(utc(2020, 1, 6, 9), people=("ann", "bob", "cat"))
    shifts = layer_shifts(rotation, LONDON, utc(2026, 1, 5, 9), utc(2026, 1, 6, 9))
    days = (utc(2026, 1, 5, 9) - utc(2020, 1, 6, 9)).days
    assert rows(shifts) == [(("ann", "bob", "cat")[days % 3], utc(2026, 1, 5, 9), 24)]


RESTRICTED = [
    pytest.param(
        LONDON,
        layer(
            utc(2026, 1, 5),
            WEEKS,
            handoff=time(0),
            people=("ann",),
            restrictions=(Restriction(WEEKDAYS, time(9), time(17)),),
        ),
        (utc(2026, 1, 5), utc(2026, 1, 12)),
        [("ann", utc(2026, 1, d, 9), 8) for d in range(5, 10)],
        id="weekdays-9-to-17",
    ),
    pytest.param(
        LONDON,
        layer(
            utc(2026, 1, 4, 12),
            handoff=time(12),
            restrictions=(Restriction(WEEKDAYS, time(9), time(17)),),
        ),
        (utc(2026, 1, 5), utc(2026, 1, 7)),
        [
            ("ann", utc(2026, 1, 5, 9), 3),
            ("bob", utc(2026, 1, 5, 12), 5),
            ("bob", utc(2026, 1, 6, 9), 3),
            ("ann", utc(2026, 1, 6, 12), 5),
        ],
        id="shifts-cut-at-handoff-inside-the-window",
    ),
    pytest.param(
        NEW_YORK,
        layer(
            utc(2026, 3, 2, 5),
            WEEKS,
            handoff=time(0),
            people=("ann",),
            restrictions=(Restriction(WEEKDAYS, time(9), time(17)),),
        ),
        (utc(2026, 3, 6), utc(2026, 3, 10)),
        [("ann", utc(2026, 3, 6, 14), 8), ("ann", utc(2026, 3, 9, 13), 8)],
        id="weekdays-across-spring-forward",
    ),
    pytest.param(
        LONDON,
        layer(
            utc(2026, 1, 5),
            WEEKS,
            handoff=time(0),
            people=("ann",),
            restrictions=(Restriction(frozenset({4}), time(22), time(6)),),
        ),
        (utc(2026, 1, 5), utc(2026, 1, 12)),
        [("ann", utc(2026, 1, 9, 22), 8)],
        id="friday-night-crosses-midnight",
    ),
    pytest.param(
        LONDON,
        layer(
            utc(2026, 1, 5, 9), restrictions=(Restriction(frozenset(range(7)), time(17), time(9)),)
        ),
        (utc(2026, 1, 5), utc(2026, 1, 7, 9)),
        [("ann", utc(2026, 1, 5, 17), 16), ("bob", utc(2026, 1, 6, 17), 16)],
        id="nights-every-day",
    ),
    pytest.param(
        LONDON,
        layer(
            utc(2026, 1, 5),
            WEEKS,
            handoff=time(0),
            people=("ann",),
            restrictions=(
                Restriction(frozenset({0}), time(17), time(0)),
                Restriction(frozenset({1}), time(0), time(2)),
            ),
        ),
        (utc(2026, 1, 5), utc(2026, 1, 12)),
        [("ann", utc(2026, 1, 5, 17), 9)],
        id="touching-windows-join",
    ),
]


@pytest.mark.parametrize(("tz", "rotation", "window", "expected"), RESTRICTED)
def test_restrictions_cut_shifts_to_their_windows(tz, rotation, window, expected):
    assert rows(layer_shifts(rotation, tz, *window)) == expected


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        (NEW_YORK, [(utc(2026, 3, 8, 7), -5, -4), (utc(2026, 11, 1, 6), -4, -5)]),
        (LONDON, [(utc(2026, 3, 29, 1), 0, 1), (utc(2026, 10, 25, 1), 1, 0)]),
        (LORD_HOWE, [(utc(2026, 4, 4, 15), 11, 10.5), (utc(2026, 10, 3, 15, 30), 10.5, 11)]),
        (KOLKATA, []),
    ],
)
def test_dst_changes(tz, expected):
    changes = dst_changes(tz, utc(2026, 1, 1), utc(2027, 1, 1))
    hour = timedelta(hours=1)
    assert [(at, before / hour, after / hour) for at, before, after in changes] == expected


def test_dst_changes_range_is_start_inclusive_end_exclusive():
    change = utc(2026, 3, 8, 7)
    assert len(dst_changes(NEW_YORK, change, change + timedelta(days=1))) == 1
    assert dst_changes(NEW_YORK, change - timedelta(days=1), change) == []


@pytest.mark.parametrize(
    ("tz", "local", "expected"),
    [
        (NEW_YORK, datetime(2026, 3, 8, 1, 59), utc(2026, 3, 8, 6, 59)),
        (NEW_YORK, datetime(2026, 3, 8, 2), utc(2026, 3, 8, 7)),
        (NEW_YORK, datetime(2026, 3, 8, 2, 30), utc(2026, 3, 8, 7)),
        (NEW_YORK, datetime(2026, 3, 8, 3), utc(2026, 3, 8, 7)),
        (NEW_YORK, datetime(2026, 11, 1, 1, 30), utc(2026, 11, 1, 5, 30)),
        (NEW_YORK, datetime(2026, 11, 1, 2), utc(2026, 11, 1, 7)),
        (LORD_HOWE, datetime(2026, 10, 4, 2, 15), utc(2026, 10, 3, 15, 30)),
        (LORD_HOWE, datetime(2026, 4, 5, 1, 45), utc(2026, 4, 4, 14, 45)),
        (KOLKATA, datetime(2026, 3, 8, 2, 30), utc(2026, 3, 7, 21)),
    ],
)
def test_local_to_utc_gap_means_its_end_and_repeat_means_first(tz, local, expected):
    assert local_to_utc(local, ZoneInfo(tz)) == expected
