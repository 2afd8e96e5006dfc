"""The normalised alert event every ingest format is parsed into (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    """What an event asks for, in PagerDuty's words."""

    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


class AlertSeverity(StrEnum):
    """PagerDuty's event severities, which every format is mapped onto."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class AlertEvent:
    """One alert occurrence or state change from any source."""

    action: Action
    dedup_key: str
    summary: str
    source: str
    severity: AlertSeverity
    occurred_at: datetime | None = None
    labels: dict[str, str] = field(default_factory=dict)
    details: Any = None
    links: list[dict[str, str]] = field(default_factory=list)
    client: str = ""
    client_url: str = ""
    group_key: str = ""
    dedup_key_generated: bool = False


@dataclass(frozen=True)
class ChangeEvent:
    """A deploy or configuration change reported for a service."""

    summary: str
    source: str
    occurred_at: datetime | None
    details: Any
    links: list[dict[str, str]]


class EventInvalid(Exception):
    """The event can never be accepted; ``errors`` says why, one line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors
