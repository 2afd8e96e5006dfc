"""Per-integration rate limits over a sliding minute. Pure (times are passed in)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class _Window:
    minute: int
    current: int
    previous: int


class RateLimited(Exception):
    """Too many events for this integration; try again after ``retry_after`` seconds."""

    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(f"rate limit of {limit} events per minute exceeded")
        self.limit = limit
        self.retry_after = retry_after


class SlidingMinuteLimiter:
    """Approximates a sliding 60 s window from this and the previous minute's counts.

    Kept in memory per server process: a limit guards against a runaway
    sender, so being per process (not cluster-wide) is an accepted slack.
    """

    def __init__(self) -> None:
        self._windows: dict[int, _Window] = {}

    def hit(self, key: int, limit: int, now: float) -> None:
        """Count one event for ``key``, or raise RateLimited when over ``limit``."""
        if limit <= 0:
            return
        minute = int(now // 60)
        window = self._windows.get(key)
        if window is None or window.minute < minute - 1:
            window = _Window(minute, 0, 0)
        elif window.minute == minute - 1:
            window = _Window(minute, 0, window.current)
        self._windows[key] = window
        into_minute = now % 60
        estimate = window.previous * (1 - into_minute / 60) + window.current
        if estimate + 1 > limit:
            raise RateLimited(limit, _retry_after(window, limit, into_minute))
        window.current += 1


def _retry_after(window: _Window, limit: int, into_minute: float) -> int:
    """Seconds until one more event fits under the limit."""
    room = limit - 1 - window.current
    if room < 0 or window.previous == 0:
        # This minute alone is full: wait for it to end, then for the carry-over
        # of this minute's events to fall to the limit in the next one.
        after_boundary = 60 * (1 - (limit - 1) / window.current) if window.current else 0
        return max(1, math.ceil(60 - into_minute + after_boundary))
    # The previous minute's weight fades linearly; find when it leaves room.
    fits_at = 60 * (1 - room / window.previous)
    return max(1, math.ceil(fits_at - into_minute))
