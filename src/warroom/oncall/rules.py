"""On-call schedules: layers stacked, overrides on top, and who is on call at an instant.

Time-zone decisions (the same everywhere, see zones.local_to_utc):

- Handoffs and restriction windows are local wall-clock times. Day and week
  shifts, and hour shifts that divide a day, stay on the wall clock across DST
  changes: a daily 09:00 shift lasts 23 h over spring-forward and 25 h over
  fall-back. Other hour shifts count elapsed hours from the first handoff.
- A skipped local time (spring-forward gap) means the instant the gap ends; a
  repeated one (fall-back) means its first occurrence.
- An hour slot wholly inside a gap has no length and is dropped; that turn is lost.

Stacking: a later layer wins over earlier ones wherever it has someone, and
overrides win over every layer (a later override over an earlier one). Pieces
of one shift or override that touch are merged, but consecutive shifts are
kept apart even for the same person, so each keeps its own calendar slot.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from warroom.errors import Invalid
from warroom.oncall.rotation import (
    Layer,
    Restriction,
    Shift,
    ShiftUnit,
    layer_problems,
    layer_shifts,
    numbered_shifts,
    rotation_start,
    shift_at,
)
from warroom.oncall.zones import as_utc, dst_changes, local_to_utc, zone_problem

# How far either side of an instant oncall_at first renders; most shifts that
# are cut by other layers or overrides are cut within this.
FIRST_LOOK = timedelta(hours=12)

__all__ = [
    "Layer",
    "Override",
    "Restriction",
    "Schedule",
    "Shift",
    "ShiftUnit",
    "coverage_gaps",
    "dst_changes",
    "final_shifts",
    "layer_shifts",
    "local_to_utc",
    "oncall_at",
    "rotation_start",
    "schedule_problems",
    "validate_schedule",
]


@dataclass(frozen=True)
class Override:
    """``person`` takes over [start, end) from whoever the layers have."""

    person: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Schedule:
    """Layers in a time zone, later ones on top, and overrides above them all."""

    tz: str
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()


def schedule_problems(schedule: Schedule) -> list[str]:
    """Everything wrong with ``schedule``, each naming what it is about."""
    problems = []
    zone = zone_problem(schedule.tz)
    if zone is not None:
        problems.append(zone)
    seen: set[str] = set()
    for layer in schedule.layers:
        if layer.name in seen:
            problems.append(f"layer {layer.name!r}: another layer has the same name")
        seen.add(layer.name)
        problems.extend(layer_problems(layer))
    for number, override in enumerate(schedule.overrides, start=1):
        problems.extend(_override_problems(number, override))
    return problems


def _override_problems(number: int, override: Override) -> list[str]:
    where = f"override {number} ({override.person!r})"
    problems = [] if override.person.strip() else [f"{where}: needs a person"]
    ends = (override.start, override.end)
    aware = all(t.tzinfo is not None and t.utcoffset() is not None for t in ends)
    if not aware:
        problems.append(f"{where}: start and end must be timezone-aware")
    elif override.end <= override.start:
        problems.append(f"{where}: end must be after start")
    return problems


def validate_schedule(schedule: Schedule) -> None:
    """Raise Invalid listing every problem of ``schedule``, if it has any."""
    problems = schedule_problems(schedule)
    if problems:
        raise Invalid("; ".join(problems), field="schedule")


def final_shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """Who is on call over [start, end): layers stacked, overrides on top, sorted."""
    validate_schedule(schedule)
    start, end = as_utc(start, "start"), as_utc(end, "end")
    if end <= start:
        return []
    return _render(schedule, ZoneInfo(schedule.tz), start, end)


def oncall_at(schedule: Schedule, at: datetime) -> Shift | None:
    """The final shift containing ``at`` (whole, not clipped), or None if nobody."""
    validate_schedule(schedule)
    at = as_utc(at, "at")
    zone = ZoneInfo(schedule.tz)
    top = _top_source_at(schedule, zone, at)
    if top is None:
        return None
    level, source = top
    # The final shift at `at` comes from `source` and lies within it; levels
    # below it only add cuts that merge away. Render growing windows around
    # `at`, from that level up, until the shift found is not cut by the window.
    span = FIRST_LOOK
    while True:
        begin, finish = max(source.start, at - span), min(source.end, at + span)
        rendered = _render(schedule, zone, begin, finish, lowest=level)
        found = next(shift for shift in rendered if shift.start <= at < shift.end)
        whole_start = found.start > begin or begin == source.start
        if whole_start and (found.end < finish or finish == source.end):
            return found
        span *= 4


def coverage_gaps(
    schedule: Schedule, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) where nobody is on call."""
    shifts = final_shifts(schedule, start, end)
    start, end = as_utc(start, "start"), as_utc(end, "end")
    gaps = []
    cursor = start
    for shift in shifts:
        if shift.start > cursor:
            gaps.append((cursor, shift.start))
        cursor = shift.end
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


def _top_source_at(schedule: Schedule, zone: ZoneInfo, at: datetime) -> tuple[int, Shift] | None:
    """The winning level at ``at`` and its layer shift or override, uncut by stacking."""
    for level, override in reversed(list(_numbered_overrides(schedule))):
        begin, finish = as_utc(override.start, "start"), as_utc(override.end, "end")
        if begin <= at < finish:
            return level, Shift(override.person, begin, finish, None)
    for level in reversed(range(len(schedule.layers))):
        found = shift_at(schedule.layers[level], zone, at)
        if found is not None:
            return level, found[1]
    return None


def _numbered_overrides(schedule: Schedule) -> Iterator[tuple[int, Override]]:
    """Each override with its level: above every layer, later ones higher."""
    return enumerate(schedule.overrides, start=len(schedule.layers))


# Identifies what a piece came from: (level, slot). Levels are layer indexes,
# then one per override above them; an override's slot is always 0.
_Source = tuple[int, int]
_Level = list[tuple[_Source, Shift]]


def _render(
    schedule: Schedule, zone: ZoneInfo, start: datetime, end: datetime, lowest: int = 0
) -> list[Shift]:
    """Stack the levels from ``lowest`` up over [start, end)."""
    levels: list[_Level] = []
    for index, layer in enumerate(schedule.layers[lowest:], start=lowest):
        shifts = numbered_shifts(layer, zone, start, end)
        levels.append([((index, k), shift) for k, shift in shifts])
    for level, override in _numbered_overrides(schedule):
        begin = max(as_utc(override.start, "start"), start)
        finish = min(as_utc(override.end, "end"), end)
        if level >= lowest and begin < finish:
            levels.append([((level, 0), Shift(override.person, begin, finish, None))])
    return _stack([level for level in levels if level])


def _stack(levels: list[_Level]) -> list[Shift]:
    """Flatten ``levels`` (each sorted, non-overlapping; later wins) into one timeline."""
    points = sorted({t for level in levels for _, s in level for t in (s.start, s.end)})
    cursors = [0] * len(levels)
    stacked: list[Shift] = []
    previous: _Source | None = None
    for begin, finish in pairwise(points):
        top = _top_at(levels, cursors, begin)
        if top is None:
            previous = None
            continue
        source, shift = top
        if source == previous and stacked[-1].end == begin:
            stacked[-1] = replace(stacked[-1], end=finish)
        else:
            stacked.append(Shift(shift.person, begin, finish, shift.layer))
        previous = source
    return stacked


def _top_at(levels: list[_Level], cursors: list[int], at: datetime) -> tuple[_Source, Shift] | None:
    """The highest level's entry covering ``at``; cursors only move forward."""
    for index in reversed(range(len(levels))):
        level = levels[index]
        cursor = cursors[index]
        while cursor < len(level) and level[cursor][1].end <= at:
            cursor += 1
        cursors[index] = cursor
        if cursor < len(level) and level[cursor][1].start <= at:
            return level[cursor]
    return None
