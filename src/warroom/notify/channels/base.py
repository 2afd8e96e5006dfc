"""What every channel takes and answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from warroom.notify.rules import Outcome


@dataclass(frozen=True)
class Message:
    """One notification, rendered: the same key on every attempt."""

    key: str
    subject: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """How an attempt went: ``outcome`` and a line for the timeline."""

    outcome: Outcome
    detail: str
    retry_after: timedelta | None = None
    bounced: bool = False  # the mail server refused the address itself, for good
