"""One rotation layer: its shifts, handed off on the local wall clock, and its restrictions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from warroom.errors import Invalid
from warroom.oncall.zones import as_utc, local_to_utc, zone_named

ONE_DAY = timedelta(days=1)
# Longer shifts are surely a typo, and keep slot arithmetic far from datetime's limits.
MAX_SHIFT = timedelta(days=366)

# Hour shifts that divide a day repeat at the same local times every day, so
# they stay on the wall clock like day and week shifts (12 h from 09:00 hands
# off at 09:00 and 21:00 local, whatever the offset). Other lengths (5 h, 36 h,
# 48 h) cannot keep a daily pattern and simply count elapsed hours from the
# first handoff, drifting by the DST change against the wall clock.
WALL_CLOCK_HOURS = frozenset({1, 2, 3, 4, 6, 8, 12, 24})


class ShiftUnit(StrEnum):
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"


UNIT_LENGTH = {
    ShiftUnit.HOURS: timedelta(hours=1),
    ShiftUnit.DAYS: timedelta(days=1),
    ShiftUnit.WEEKS: timedelta(weeks=1),
}


@dataclass(frozen=True)
class Restriction:
    """A daily window of local time a layer covers, on the given weekdays.

    ``days`` name the day a window starts (0 = Monday). ``end <= start`` runs
    the window past midnight into the next day.
    """

    days: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True)
class Layer:
    """A rotation: participants take turns, ``shift_count`` units each."""

    name: str
    participants: tuple[str, ...]
    shift_count: int
    shift_unit: ShiftUnit
    handoff: time
    start: datetime
    restrictions: tuple[Restriction, ...] = ()


@dataclass(frozen=True)
class Shift:
    """Someone on call over [start, end) (aware UTC); ``layer`` None is an override."""

    person: str
    start: datetime
    end: datetime
    layer: str | None


def layer_problems(layer: Layer) -> list[str]:
    """What is wrong with ``layer``, as sentences naming it; empty when usable."""
    where = f"layer {layer.name!r}"
    problems = [] if layer.name.strip() else ["every layer needs a name"]
    if not layer.participants:
        problems.append(f"{where}: needs at least one participant")
    elif not all(p.strip() for p in layer.participants):
        problems.append(f"{where}: participant names must not be empty")
    if layer.shift_count < 1:
        problems.append(f"{where}: shift_count must be at least 1")
    elif layer.shift_count > MAX_SHIFT / UNIT_LENGTH[layer.shift_unit]:
        problems.append(f"{where}: shifts may last at most {MAX_SHIFT.days} days")
    if layer.start.tzinfo is None or layer.start.utcoffset() is None:
        problems.append(f"{where}: start must be timezone-aware")
    if layer.handoff.tzinfo is not None:
        problems.append(f"{where}: handoff is a local time and takes no tzinfo")
    for number, restriction in enumerate(layer.restrictions, start=1):
        problems.extend(f"{where}: {p}" for p in _restriction_problems(number, restriction))
    return problems


def _restriction_problems(number: int, restriction: Restriction) -> list[str]:
    where = f"restriction {number}"
    problems = []
    if not restriction.days:
        problems.append(f"{where}: needs at least one day")
    if any(day not in range(7) for day in restriction.days):
        problems.append(f"{where}: days must be 0 (Monday) to 6 (Sunday)")
    if restriction.start == restriction.end:
        problems.append(f"{where}: start and end are equal, so it covers nothing")
    if restriction.start.tzinfo is not None or restriction.end.tzinfo is not None:
        problems.append(f"{where}: times are local and take no tzinfo")
    return problems


@dataclass(frozen=True)
class _Grid:
    """Where a layer's handoffs fall: boundary k starts rotation slot k."""

    zone: ZoneInfo
    first_local: datetime
    first: datetime
    step: timedelta
    on_wall_clock: bool

    def boundary(self, k: int) -> datetime:
        if self.on_wall_clock:
            return local_to_utc(self.first_local + k * self.step, self.zone)
        return self.first + k * self.step

    def slot_at(self, at: datetime) -> int:
        """The slot k with boundary(k) <= at < boundary(k + 1); needs at >= first."""
        if self.on_wall_clock:
            local = at.astimezone(self.zone).replace(tzinfo=None)
            k = (local - self.first_local) // self.step
        else:
            k = (at - self.first) // self.step
        # Near a DST change the wall-clock estimate can be one slot off, and a
        # slot wholly inside a gap has no length; step to the right one.
        while k > 0 and self.boundary(k) > at:
            k -= 1
        while self.boundary(k + 1) <= at:
            k += 1
        return k


def _grid(layer: Layer, zone: ZoneInfo) -> _Grid:
    start = as_utc(layer.start, "start")
    first_local = datetime.combine(start.astimezone(zone).date(), layer.handoff)
    first_local = first_local.replace(tzinfo=None)
    if local_to_utc(first_local, zone) < start:
        first_local += ONE_DAY
    step = layer.shift_count * UNIT_LENGTH[layer.shift_unit]
    on_wall_clock = layer.shift_unit != ShiftUnit.HOURS or layer.shift_count in WALL_CLOCK_HOURS
    return _Grid(zone, first_local, local_to_utc(first_local, zone), step, on_wall_clock)


def _checked(layer: Layer) -> None:
    problems = layer_problems(layer)
    if problems:
        raise Invalid("; ".join(problems), field="layers")


def rotation_start(layer: Layer, tz: str) -> datetime:
    """The first handoff: ``layer.handoff`` local at or after ``layer.start``."""
    _checked(layer)
    return _grid(layer, zone_named(tz)).first


def layer_shifts(layer: Layer, tz: str, start: datetime, end: datetime) -> list[Shift]:
    """The layer's shifts in [start, end), clipped to it, cut to its restrictions."""
    _checked(layer)
    zone = zone_named(tz)
    start, end = as_utc(start, "start"), as_utc(end, "end")
    return [shift for _, shift in numbered_shifts(layer, zone, start, end)]


def numbered_shifts(
    layer: Layer, zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[int, Shift]]:
    """Like layer_shifts (inputs already checked, UTC), each with its slot number."""
    grid = _grid(layer, zone)
    slots = list(_slots(grid, start, end))
    if layer.restrictions and slots:
        windows = _windows(layer.restrictions, zone, slots[0][1], slots[-1][2])
        slots = _cut(slots, windows)
    people = layer.participants
    return [(k, Shift(people[k % len(people)], s, e, layer.name)) for k, s, e in slots]


def shift_at(layer: Layer, zone: ZoneInfo, at: datetime) -> tuple[int, Shift] | None:
    """The layer's (restricted) shift containing ``at``, unclipped, with its slot."""
    grid = _grid(layer, zone)
    if at < grid.first:
        return None
    k = grid.slot_at(at)
    pieces = numbered_shifts(layer, zone, grid.boundary(k), grid.boundary(k + 1))
    return next(((n, s) for n, s in pieces if s.start <= at < s.end), None)


_Slot = tuple[int, datetime, datetime]


def _slots(grid: _Grid, start: datetime, end: datetime) -> Iterator[_Slot]:
    low = max(start, grid.first)
    if low >= end:
        return
    k = grid.slot_at(low)
    begin = grid.boundary(k)
    while begin < end:
        finish = grid.boundary(k + 1)
        # Hour slots wholly inside a DST gap have no length: that turn is lost.
        if begin < finish:
            yield k, max(begin, start), min(finish, end)
        k += 1
        begin = finish


def _windows(
    restrictions: tuple[Restriction, ...], zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The restriction windows meeting [start, end), clipped, as a sorted union."""
    # A window may start the local day before `start` and run past midnight.
    day = start.astimezone(zone).date() - ONE_DAY
    last = end.astimezone(zone).date()
    found: list[tuple[datetime, datetime]] = []
    while day <= last:
        for restriction in restrictions:
            if day.weekday() in restriction.days:
                begin, finish = _window(restriction, zone, day)
                if begin < end and finish > start and begin < finish:
                    found.append((max(begin, start), min(finish, end)))
        day += ONE_DAY
    found.sort()
    union: list[tuple[datetime, datetime]] = []
    for begin, finish in found:
        if union and begin <= union[-1][1]:
            union[-1] = (union[-1][0], max(union[-1][1], finish))
        else:
            union.append((begin, finish))
    return union


def _window(restriction: Restriction, zone: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    end_day = day if restriction.end > restriction.start else day + ONE_DAY
    begin = local_to_utc(datetime.combine(day, restriction.start), zone)
    return begin, local_to_utc(datetime.combine(end_day, restriction.end), zone)


def _cut(slots: list[_Slot], windows: list[tuple[datetime, datetime]]) -> list[_Slot]:
    """The parts of ``slots`` inside ``windows`` (both sorted, non-overlapping)."""
    pieces: list[_Slot] = []
    first = 0
    for k, start, end in slots:
        while first < len(windows) and windows[first][1] <= start:
            first += 1
        index = first
        while index < len(windows) and windows[index][0] < end:
            begin, finish = max(start, windows[index][0]), min(end, windows[index][1])
            if begin < finish:
                pieces.append((k, begin, finish))
            index += 1
    return pieces
