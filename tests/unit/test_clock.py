"""The fixed clock tests and replays run on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from warroom.clock import FixedClock, SystemClock


def test_fixed_clock_stands_still_until_advanced():
    at = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    clock = FixedClock(at)
    assert clock.now() == at
    assert clock.now() == at
    clock.advance(timedelta(minutes=15))
    assert clock.now() == at + timedelta(minutes=15)
    clock.advance(timedelta(seconds=1))
    assert clock.now() == at + timedelta(minutes=15, seconds=1)


def test_fixed_clock_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2026, 11, 27, 10, 0))


def test_fixed_clock_normalises_to_utc():
    berlin = timezone(timedelta(hours=1))
    clock = FixedClock(datetime(2026, 11, 27, 11, 0, tzinfo=berlin))
    assert clock.now() == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert clock.now().utcoffset() == timedelta(0)
    assert clock.now().hour == 10


def test_system_clock_is_aware_utc():
    now = SystemClock().now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)
