"""Pure postmortem rules: states, action items, due dates, the draft and its Markdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from warroom.errors import Conflict, Invalid

MAX_TITLE = 300


class Status(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"


# Review can send a draft back for changes; a published postmortem is the record.
TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.DRAFT: (Status.IN_REVIEW,),
    Status.IN_REVIEW: (Status.DRAFT, Status.PUBLISHED),
    Status.PUBLISHED: (),
}


def check_transition(current: Status, target: Status) -> None:
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(s.value for s in TRANSITIONS[current]) or "none"
        raise Conflict(
            f"a postmortem in {current.value} cannot move to {target.value} (allowed: {allowed})",
            field="status",
        )


class Category(StrEnum):
    FIX = "fix"
    DETECT = "detect"
    PREVENT = "prevent"
    PROCESS = "process"


class Priority(StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    WONT_DO = "wont_do"


def parse_category(value: str) -> Category:
    try:
        return Category(value.strip().lower())
    except ValueError:
        names = ", ".join(c.value for c in Category)
        raise Invalid(f"unknown category {value!r}: use one of {names}", field="category") from None


def parse_priority(value: str) -> Priority:
    try:
        return Priority(value.strip().upper())
    except ValueError:
        raise Invalid(f"unknown priority {value!r}: use P0, P1 or P2", field="priority") from None


def add_business_days(start: date, days: int) -> date:
    """The date ``days`` working days (Monday to Friday) after ``start``."""
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def is_overdue(due_on: date, status: ActionStatus, today: date) -> bool:
    return status is ActionStatus.OPEN and due_on < today


@dataclass(frozen=True)
class Entry:
    """One incident timeline entry, as the draft sees it."""

    at: datetime
    kind: str
    text: str


@dataclass(frozen=True)
class IncidentFacts:
    """What the draft is made from."""

    ref: str
    title: str
    severity: str
    services: tuple[str, ...]
    declared_at: datetime
    resolved_at: datetime | None
    impact: str
    theory: str
    entries: tuple[Entry, ...] = field(default=())


# Entries that tell the story; notes and deliveries stay on the incident.
KEY_KINDS = frozenset(
    {
        "declared",
        "alert_triggered",
        "customer_report",
        "acknowledged",
        "role_assigned",
        "phase_changed",
        "severity_changed",
        "update_posted",
        "paged",
        "page_escalated",
    }
)


def draft_timeline(entries: tuple[Entry, ...]) -> list[Entry]:
    """Key entries in time order; of a storm of alerts, the first and a count."""
    chosen: list[Entry] = []
    alerts = 0
    for entry in sorted(entries, key=lambda e: e.at):
        if entry.kind not in KEY_KINDS:
            continue
        if entry.kind == "alert_triggered":
            alerts += 1
            if alerts > 1:
                continue
        text = entry.text.splitlines()[0] if entry.text else entry.kind
        chosen.append(Entry(entry.at, entry.kind, text[:300]))
    if alerts > 1:
        first = next(i for i, e in enumerate(chosen) if e.kind == "alert_triggered")
        e = chosen[first]
        chosen[first] = Entry(e.at, e.kind, f"{e.text} (first of {alerts} alerts)")
    return chosen


def duration_text(seconds: float) -> str:
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"]
    return " ".join(parts)


def draft_summary(facts: IncidentFacts) -> str:
    services = ", ".join(facts.services) or "no service recorded"
    lasted = (
        duration_text((facts.resolved_at - facts.declared_at).total_seconds())
        if facts.resolved_at
        else "still open"
    )
    lines = [
        f"{facts.severity} incident {facts.ref}: {facts.title}.",
        f"Services affected: {services}. Duration: {lasted} "
        f"(declared {facts.declared_at:%Y-%m-%d %H:%M} UTC).",
    ]
    if facts.impact:
        lines.append(f"Customer impact: {facts.impact}")
    if facts.theory:
        lines.append(f"Last recorded theory: {facts.theory}")
    return "\n".join(lines)
