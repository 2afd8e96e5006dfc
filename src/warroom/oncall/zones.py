"""Local wall-clock times and UTC instants in IANA time zones, across DST changes."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from warroom.errors import Invalid

# Offsets are sampled this far apart when looking for changes. Real zones keep an
# offset for months, so two changes never fall between neighbouring samples.
SAMPLE_STEP = timedelta(hours=6)
ONE_SECOND = timedelta(seconds=1)


def zone_problem(tz: str) -> str | None:
    """Why ``tz`` is not a usable IANA zone name, or None when it is."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a name like "America" opens a directory of the tz database.
        return f"unknown time zone {tz!r}"
    return None


def zone_named(tz: str) -> ZoneInfo:
    """The zone called ``tz``, or Invalid."""
    problem = zone_problem(tz)
    if problem is not None:
        raise Invalid(problem, field="tz")
    return ZoneInfo(tz)


def as_utc(value: datetime, name: str) -> datetime:
    """``value`` as aware UTC; Invalid when it is naive."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid(f"{name} must be timezone-aware", field=name)
    return value.astimezone(UTC)


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant (aware UTC) of the naive wall-clock time ``local`` in ``zone``.

    A repeated time (fall-back) is its first occurrence. A skipped time
    (spring-forward gap) is the instant the gap ends, so every time in the gap
    maps to the same instant and a later wall time never gives an earlier
    instant. zoneinfo alone would apply the old offset and land as far past the
    change as the time is into the gap, which breaks that order.
    """
    naive = local.replace(tzinfo=None, fold=0)
    instant = naive.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == naive:
        return instant
    other = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return _first_change(zone, min(instant, other), max(instant, other))


def exists_locally(local: datetime, zone: ZoneInfo) -> bool:
    """True unless the naive wall-clock time ``local`` is skipped in ``zone``."""
    naive = local.replace(tzinfo=None, fold=0)
    return local_to_utc(naive, zone).astimezone(zone).replace(tzinfo=None) == naive


def dst_changes(
    tz: str | ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, timedelta, timedelta]]:
    """Offset changes in [start, end) as (instant UTC, offset before, offset after)."""
    zone = tz if isinstance(tz, ZoneInfo) else zone_named(tz)
    start, end = as_utc(start, "start"), as_utc(end, "end")
    changes: list[tuple[datetime, timedelta, timedelta]] = []
    # Start a second early so that a change exactly at `start` is seen.
    low = start - ONE_SECOND
    while low < end:
        high = min(low + SAMPLE_STEP, end)
        if _offset(zone, low) != _offset(zone, high):
            at = _first_change(zone, low, high)
            if start <= at < end:
                changes.append((at, _offset(zone, at - ONE_SECOND), _offset(zone, at)))
        low = high
    return changes


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always knows its offset
    return offset


def _first_change(zone: ZoneInfo, low: datetime, high: datetime) -> datetime:
    """An instant in (low, high] where the offset stops being low's (they differ)."""
    # tzdata changes happen on whole seconds, so searching whole seconds is exact.
    before = _offset(zone, low)
    lo, hi = math.floor(low.timestamp()), math.ceil(high.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(zone, datetime.fromtimestamp(mid, UTC)) == before:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, UTC)
