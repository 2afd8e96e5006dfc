"""Pure outbox decisions: message states and what a handler's result means."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class Status(StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"  # every attempt failed; kept for people to see (dead letter)
    CANCELLED = "cancelled"  # no longer needed, e.g. the page was acknowledged


@dataclass(frozen=True)
class Result:
    """What a job handler reports: done, try again after ``retry_in``, or dead."""

    status: Status
    error: str = ""
    retry_in: timedelta | None = None

    @classmethod
    def done(cls) -> Result:
        return cls(Status.DONE)

    @classmethod
    def cancelled(cls, why: str = "") -> Result:
        return cls(Status.CANCELLED, why)

    @classmethod
    def retry(cls, error: str, retry_in: timedelta) -> Result:
        return cls(Status.PENDING, error, retry_in)

    @classmethod
    def dead(cls, error: str) -> Result:
        return cls(Status.DEAD, error)
