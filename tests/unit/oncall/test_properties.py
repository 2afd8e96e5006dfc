"""Properties of rotations and stacked schedules over random layers, zones and DST changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from warroom.oncall.rotation import WALL_CLOCK_HOURS
from warroom.oncall.rules import (
    Layer,
    Override,
    Restriction,
    Schedule,
    Shift,
    ShiftUnit,
    coverage_gaps,
    dst_changes,
    final_shifts,
    layer_shifts,
    local_to_utc,
    oncall_at,
    rotation_start,
)
from warroom.oncall.zones import exists_locally

ZONES = ("America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata")
PEOPLE = ("ann", "bob", "cat", "dan", "eve")
MINUTES_A_DAY = 24 * 60
FEW = settings(max_examples=100, deadline=None)

minutes_of_day = st.integers(0, MINUTES_A_DAY - 1).map(lambda m: time(m // 60, m % 60))
hour_lengths = st.tuples(
    st.just(ShiftUnit.HOURS), st.sampled_from([1, 2, 3, 5, 6, 7, 8, 12, 24, 36])
)
day_lengths = st.one_of(
    st.tuples(st.just(ShiftUnit.DAYS), st.integers(1, 8)),
    st.tuples(st.just(ShiftUnit.WEEKS), st.integers(1, 3)),
)
lengths = st.one_of(hour_lengths, day_lengths)
restrictions = st.builds(
    Restriction,
    st.frozensets(st.integers(0, 6), min_size=1),
    minutes_of_day,
    minutes_of_day,
).filter(lambda r: r.start != r.end)


@cache
def changes_in(tz: str, year: int) -> list[datetime]:
    start = datetime(year, 1, 1, tzinfo=UTC)
    return [at for at, _, _ in dst_changes(tz, start, start.replace(year=year + 1))]


@st.composite
def ranges(draw: st.DrawFn, tz: str) -> tuple[datetime, datetime]:
    """A range of up to 40 days, usually around a DST change of ``tz``."""
    year = draw(st.integers(2024, 2028))
    changes = changes_in(tz, year)
    near_a_change = draw(st.integers(0, 3)) > 0
    if changes and near_a_change:
        centre = draw(st.sampled_from(changes))
    else:
        minutes = draw(st.integers(0, 365 * MINUTES_A_DAY))
        centre = datetime(year, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    before = timedelta(minutes=draw(st.integers(0, 20 * MINUTES_A_DAY)))
    after = timedelta(minutes=draw(st.integers(1, 20 * MINUTES_A_DAY)))
    return centre - before, centre + after


@st.composite
def layers(
    draw: st.DrawFn,
    near: datetime,
    name: str = "primary",
    restricted: bool = False,
    units: st.SearchStrategy[tuple[ShiftUnit, int]] = lengths,
) -> Layer:
    unit, count = draw(units)
    start = near - timedelta(minutes=draw(st.integers(-3 * MINUTES_A_DAY, 60 * MINUTES_A_DAY)))
    return Layer(
        name=name,
        participants=tuple(draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=5))),
        shift_count=count,
        shift_unit=unit,
        handoff=draw(minutes_of_day),
        start=start,
        restrictions=tuple(draw(st.lists(restrictions, min_size=1, max_size=3)))
        if restricted
        else (),
    )


@st.composite
def cases(
    draw: st.DrawFn,
    restricted: bool = False,
    units: st.SearchStrategy[tuple[ShiftUnit, int]] = lengths,
) -> tuple[str, Layer, datetime, datetime]:
    tz = draw(st.sampled_from(ZONES))
    start, end = draw(ranges(tz))
    return tz, draw(layers(start, restricted=restricted, units=units)), start, end


@st.composite
def schedules(draw: st.DrawFn) -> tuple[Schedule, datetime, datetime]:
    tz = draw(st.sampled_from(ZONES))
    start, end = draw(ranges(tz))
    count = draw(st.integers(1, 3))
    stack = tuple(
        draw(layers(start, name=f"layer{i}", restricted=draw(st.booleans()))) for i in range(count)
    )
    overrides = []
    for _ in range(draw(st.integers(0, 3))):
        begin = start + (end - start) * draw(st.floats(-0.2, 1.0))
        length = timedelta(minutes=draw(st.integers(1, 5 * MINUTES_A_DAY)))
        overrides.append(Override(draw(st.sampled_from(PEOPLE)), begin, begin + length))
    return Schedule(tz, stack, tuple(overrides)), start, end


def assert_utc(shifts: list[Shift]) -> None:
    assert all(s.start.tzinfo is UTC and s.end.tzinfo is UTC for s in shifts)


@FEW
@given(cases())
def test_a_layer_covers_its_range_without_gap_or_overlap(case):
    tz, layer, start, end = case
    shifts = layer_shifts(layer, tz, start, end)
    low = max(start, rotation_start(layer, tz))
    if low >= end:
        assert shifts == []
        return
    assert shifts[0].start == low
    assert shifts[-1].end == end
    assert all(s.start < s.end for s in shifts)
    assert all(a.end == b.start for a, b in pairwise(shifts))
    assert_utc(shifts)


def is_gap_end(instant: datetime, tz: str) -> bool:
    return instant in changes_in(tz, instant.year)


@FEW
@given(cases(units=day_lengths))
def test_day_and_week_handoffs_are_at_the_local_handoff_time(case):
    tz, layer, start, end = case
    zone = ZoneInfo(tz)
    shifts = layer_shifts(layer, tz, start, end)
    for shift in shifts[1:]:
        local = shift.start.astimezone(zone)
        handoff = datetime.combine(local.date(), layer.handoff)
        if local.time() != layer.handoff:
            assert not exists_locally(handoff, zone)
            assert shift.start == local_to_utc(handoff, zone)
    # No slot is ever empty, so the participants follow each other in order.
    people, names = len(layer.participants), [s.person for s in shifts]
    assert any(
        names == [layer.participants[(k + i) % people] for i in range(len(names))]
        for k in range(people)
    )


@FEW
@given(cases(units=hour_lengths))
def test_hour_handoffs_stay_on_the_wall_clock_grid_or_count_elapsed_hours(case):
    tz, layer, start, end = case
    zone = ZoneInfo(tz)
    shifts = layer_shifts(layer, tz, start, end)
    step = layer.shift_count * 60
    if layer.shift_count not in WALL_CLOCK_HOURS:
        assert all(s.end - s.start == timedelta(minutes=step) for s in shifts[1:-1])
        return
    anchor = layer.handoff.hour * 60 + layer.handoff.minute
    for shift in shifts[1:]:
        local = shift.start.astimezone(zone)
        on_grid = (local.hour * 60 + local.minute - anchor) % step == 0 and local.second == 0
        assert on_grid or is_gap_end(shift.start, tz)


def allowed_by_wall_clock(restrictions: tuple[Restriction, ...], local: datetime) -> bool:
    """An independent reading of the restrictions on a local wall-clock time."""
    now, today, yesterday = local.time(), local.weekday(), (local.weekday() - 1) % 7
    for r in restrictions:
        if r.start < r.end and today in r.days and r.start <= now < r.end:
            return True
        if r.end <= r.start and (
            (today in r.days and now >= r.start) or (yesterday in r.days and now < r.end)
        ):
            return True
    return False


def is_repeated(instant: datetime, zone: ZoneInfo) -> bool:
    local = instant.astimezone(zone)
    return local.replace(fold=1 - local.fold).astimezone(UTC) != instant


@FEW
@given(cases(restricted=True), st.lists(st.floats(0, 1), min_size=5, max_size=20))
def test_restricted_layers_cover_exactly_their_windows(case, fractions):
    tz, layer, start, end = case
    zone = ZoneInfo(tz)
    pieces = layer_shifts(layer, tz, start, end)
    whole = layer_shifts(replace(layer, restrictions=()), tz, start, end)
    assert all(a.end <= b.start for a, b in pairwise(pieces))
    for piece in pieces:
        assert any(
            w.person == piece.person and w.start <= piece.start < piece.end <= w.end for w in whole
        )
    low = max(start, rotation_start(layer, tz))
    probes = [p.start for p in pieces] + [p.end - timedelta(microseconds=1) for p in pieces]
    probes += [low + (end - low) * f for f in fractions if low < end]
    for at in probes:
        if is_repeated(at, zone) or not low <= at < end:
            continue
        covered = any(p.start <= at < p.end for p in pieces)
        assert covered == allowed_by_wall_clock(layer.restrictions, at.astimezone(zone)), at


def expected_top(schedule: Schedule, at: datetime) -> tuple[str, str | None] | None:
    """Who should be on call at ``at``, by brute force over each source."""
    for override in reversed(schedule.overrides):
        if override.start <= at < override.end:
            return override.person, None
    window = (at, at + timedelta(microseconds=1))
    for layer in reversed(schedule.layers):
        found = layer_shifts(layer, schedule.tz, *window)
        if found:
            return found[0].person, layer.name
    return None


@settings(max_examples=100, deadline=None)
@given(schedules(), st.lists(st.floats(0, 1), min_size=3, max_size=10))
def test_final_shifts_stack_without_overlap_and_agree_with_oncall_at(case, fractions):
    schedule, start, end = case
    shifts = final_shifts(schedule, start, end)
    assert_utc(shifts)
    assert all(start <= s.start < s.end <= end for s in shifts)
    assert all(a.end <= b.start for a, b in pairwise(shifts))
    gaps = coverage_gaps(schedule, start, end)
    pieces = sorted([(s.start, s.end) for s in shifts] + gaps)
    assert all(a[1] == b[0] for a, b in pairwise(pieces))
    probes = [start + (end - start) * f for f in fractions]
    # Every boundary is where mistakes hide, but a few dozen are plenty per example.
    some = shifts[:: max(1, len(shifts) // 6)]
    probes += [s.start for s in some] + [s.end - timedelta(microseconds=1) for s in some]
    for at in probes:
        if not start <= at < end:
            continue
        final = next((s for s in shifts if s.start <= at < s.end), None)
        found = oncall_at(schedule, at)
        assert ((final.person, final.layer) if final else None) == expected_top(schedule, at)
        if final is None:
            assert found is None
            continue
        assert found is not None
        assert (found.person, found.layer) == (final.person, final.layer)
        assert (max(found.start, start), min(found.end, end)) == (final.start, final.end)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.integers(2024, 2028),
    st.integers(0, 1),
    st.integers(-180, 180),
    st.integers(0, 180),
)
def test_local_to_utc_never_goes_backwards(tz, year, which, offset, later):
    zone = ZoneInfo(tz)
    changes = changes_in(tz, year) or [datetime(year, 6, 1, tzinfo=UTC)]
    centre = changes[which % len(changes)]
    first = centre.astimezone(zone).replace(tzinfo=None) + timedelta(minutes=offset)
    second = first + timedelta(minutes=later)
    assert local_to_utc(first, zone) <= local_to_utc(second, zone)
    if exists_locally(first, zone):
        assert local_to_utc(first, zone).astimezone(zone).replace(tzinfo=None) == first
