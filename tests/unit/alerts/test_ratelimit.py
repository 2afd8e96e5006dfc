"""Per-integration rate limits over a sliding minute (times passed in)."""

from __future__ import annotations

import pytest

from warroom.alerts.ratelimit import RateLimited, SlidingMinuteLimiter

MINUTE = 60 * 29_916_667  # a whole minute, in seconds since the epoch


def _hits(limiter: SlidingMinuteLimiter, count: int, now: float, key: int = 1, limit: int = 10):
    for _ in range(count):
        limiter.hit(key, limit, now)


def _refused(limiter: SlidingMinuteLimiter, now: float, key: int = 1, limit: int = 10) -> int:
    with pytest.raises(RateLimited) as caught:
        limiter.hit(key, limit, now)
    assert caught.value.limit == limit
    assert str(caught.value) == f"rate limit of {limit} events per minute exceeded"
    return caught.value.retry_after


@pytest.mark.parametrize("second", [0.0, 0.5, 30.0, 59.9])
def test_limit_events_per_minute_then_refused(second):
    limiter = SlidingMinuteLimiter()
    _hits(limiter, 10, MINUTE + second)
    assert _refused(limiter, MINUTE + second) >= 1


@pytest.mark.parametrize("limit", [0, -1])
def test_zero_means_unlimited(limit):
    limiter = SlidingMinuteLimiter()
    _hits(limiter, 10_000, MINUTE, limit=limit)


def test_keys_are_limited_separately():
    limiter = SlidingMinuteLimiter()
    _hits(limiter, 10, MINUTE, key=1)
    _hits(limiter, 10, MINUTE, key=2)
    _refused(limiter, MINUTE, key=1)
    _refused(limiter, MINUTE, key=2)


def test_refused_events_do_not_count():
    limiter = SlidingMinuteLimiter()
    _hits(limiter, 10, MINUTE + 59)
    for _ in range(100):
        _refused(limiter, MINUTE + 59)
    # Half way through the next minute half of the previous minute still counts.
    _hits(limiter, 5, MINUTE + 90)
    _refused(limiter, MINUTE + 90)


def test_window_slides_over_the_minute_boundary():
    limiter = SlidingMinuteLimiter()
    _hits(limiter, 10, MINUTE + 59)
    _refused(limiter, MINUTE + 60)  # a burst at :59 still counts fully at :00
    _hits(limiter, 2, MINUTE + 72)  # 10 * (1 - 12/60) = 8 still count
    _refused(limiter, MINUTE + 72)


def test_previous_minute_is_forgotten_after_two_minutes():
    limiter = SlidingMinuteLimiter()
    _hits(limiter, 10, MINUTE + 30)
    _hits(limiter, 10, MINUTE + 120)
    _refused(limiter, MINUTE + 120)


def test_a_quiet_minute_in_between_forgets_the_burst():
    limiter = SlidingMinuteLimiter()
    _hits(limiter, 10, MINUTE)
    _hits(limiter, 10, MINUTE + 150)


@pytest.mark.parametrize("second", [0.0, 10.0, 30.0, 59.5, 59.99])
def test_retry_after_is_when_the_next_event_fits(second):
    limiter = SlidingMinuteLimiter()
    _hits(limiter, 10, MINUTE + second)
    wait = _refused(limiter, MINUTE + second)
    assert wait >= 1
    if wait > 1:
        # A second earlier is still too soon: the answer is not needlessly late...
        _refused(limiter, MINUTE + second + wait - 1)
    # ...and at the time it names, the event is taken.
    limiter.hit(1, 10, MINUTE + second + wait)


def test_retry_after_is_at_least_one_second_when_the_previous_minute_weighs():
    limiter = SlidingMinuteLimiter()
    _hits(limiter, 10, MINUTE + 59)
    assert _refused(limiter, MINUTE + 61) >= 1


def test_limit_of_one():
    limiter = SlidingMinuteLimiter()
    limiter.hit(9, 1, MINUTE)
    with pytest.raises(RateLimited):
        limiter.hit(9, 1, MINUTE + 30)
