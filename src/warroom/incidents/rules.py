"""Pure incident rules: phases, transitions, severities, roles and timing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from warroom.errors import Invalid, InvalidTransition

MAX_TITLE = 200
MAX_TEXT = 10_000


class Phase(StrEnum):
    """Lifecycle phases of process.md §3, in order."""

    DETECTION = "detection"
    TRIAGE = "triage"
    INVESTIGATING = "investigating"
    MITIGATING = "mitigating"
    RESOLVED = "resolved"
    CLOSED = "closed"
    DISMISSED = "dismissed"


OPEN_PHASES = frozenset({Phase.DETECTION, Phase.TRIAGE, Phase.INVESTIGATING, Phase.MITIGATING})
ENDED_PHASES = frozenset({Phase.RESOLVED, Phase.CLOSED, Phase.DISMISSED})

# Phases may be skipped forwards (a quick fix needs no separate investigation),
# mitigation may fall back to investigation when a fix fails, a resolved
# incident may be reopened, and a dismissed false alarm may turn out real.
TRANSITIONS: dict[Phase, tuple[Phase, ...]] = {
    Phase.DETECTION: (
        Phase.TRIAGE,
        Phase.INVESTIGATING,
        Phase.MITIGATING,
        Phase.RESOLVED,
        Phase.DISMISSED,
    ),
    Phase.TRIAGE: (Phase.INVESTIGATING, Phase.MITIGATING, Phase.RESOLVED, Phase.DISMISSED),
    Phase.INVESTIGATING: (Phase.MITIGATING, Phase.RESOLVED),
    Phase.MITIGATING: (Phase.INVESTIGATING, Phase.RESOLVED),
    Phase.RESOLVED: (Phase.CLOSED, Phase.INVESTIGATING),
    Phase.CLOSED: (),
    Phase.DISMISSED: (Phase.TRIAGE,),
}


class Role(StrEnum):
    """Incident roles of process.md §2."""

    COMMANDER = "commander"
    TECH_LEAD = "tech_lead"
    COMMS = "comms"


ROLE_TITLES = {
    Role.COMMANDER: "Incident Commander",
    Role.TECH_LEAD: "Tech Lead",
    Role.COMMS: "Communications Lead",
}


def parse_phase(value: str) -> Phase:
    """The Phase named by ``value``, or Invalid listing the known phases."""
    try:
        return Phase(value.strip().lower())
    except ValueError:
        known = ", ".join(p.value for p in Phase)
        raise Invalid(f"unknown phase {value!r}; known phases: {known}", field="phase") from None


def allowed_next(current: Phase) -> tuple[Phase, ...]:
    """The phases an incident in ``current`` may move to."""
    return TRANSITIONS[current]


def check_transition(current: Phase, target: Phase) -> None:
    """Raise InvalidTransition unless ``current`` -> ``target`` is allowed."""
    allowed = allowed_next(current)
    if target in allowed:
        return
    names = [p.value for p in allowed]
    if target == current:
        reason = f"the incident is already {current.value}"
    else:
        reason = f"cannot move from {current.value} to {target.value}"
    hint = f"allowed next phases: {', '.join(names)}" if names else "it is final"
    raise InvalidTransition(f"{reason}; {hint}", allowed=names)


@dataclass(frozen=True)
class SeverityPolicy:
    """Targets that follow from a severity level (process.md §1)."""

    level: int
    name: str
    description: str
    ack_target: timedelta | None
    ack_next_business_day: bool
    update_cadence: timedelta | None
    postmortem_required: bool


DEFAULT_SEVERITIES: tuple[SeverityPolicy, ...] = (
    SeverityPolicy(
        1,
        "SEV-1",
        "Full outage, data loss or security breach",
        timedelta(minutes=5),
        False,
        timedelta(minutes=15),
        True,
    ),
    SeverityPolicy(
        2,
        "SEV-2",
        "Major feature degraded, many users affected",
        timedelta(minutes=15),
        False,
        timedelta(minutes=30),
        True,
    ),
    SeverityPolicy(
        3,
        "SEV-3",
        "Minor feature degraded, a workaround exists",
        timedelta(hours=1),
        False,
        timedelta(hours=1),
        False,
    ),
    SeverityPolicy(
        4,
        "SEV-4",
        "Cosmetic, no user impact",
        None,
        True,
        None,
        False,
    ),
)

HIGH_SEVERITY_MAX_LEVEL = 2


def ic_also_tech_lead(level: int, commander: int | None, tech_lead: int | None) -> bool:
    """True for the "IC also debugging" anti-pattern on a SEV-1/2."""
    return level <= HIGH_SEVERITY_MAX_LEVEL and commander is not None and commander == tech_lead


def role_warnings(level: int, commander: int | None, tech_lead: int | None) -> list[str]:
    """Warnings to show about the current role assignment."""
    if ic_also_tech_lead(level, commander, tech_lead):
        return [
            "the Incident Commander is also the Tech Lead on a high-severity incident: "
            "nobody is coordinating while they debug; hand one role to someone else"
        ]
    return []


def next_update_due(since: datetime, cadence: timedelta | None) -> datetime | None:
    """When the next internal update is due after one at ``since``."""
    return since + cadence if cadence is not None else None


def ack_deadline(declared_at: datetime, policy: SeverityPolicy) -> datetime | None:
    """When the incident should be acknowledged by, per its severity.

    "Next business day" is measured in UTC and skips weekends; per-team
    business hours and holidays refine it where on-call schedules are known.
    """
    if policy.ack_target is not None:
        return declared_at + policy.ack_target
    if not policy.ack_next_business_day:
        return None
    day = declared_at.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    end_of_day = datetime.combine(day, datetime.max.time(), tzinfo=declared_at.tzinfo)
    return end_of_day.replace(microsecond=0)


DURATION_PART = re.compile(r"(\d+)\s*([dhms])")
DURATION_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
MAX_DURATION = timedelta(days=30)


def parse_duration(text: str) -> timedelta:
    """Parse "15m", "1h30m", "90s" or "2d" into a timedelta."""
    compact = text.strip().lower().replace(" ", "")
    if compact.isdigit():
        compact += "m"
    parts = DURATION_PART.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise Invalid(f"{text!r} is not a duration like 15m, 1h30m or 90s", field="eta")
    seconds = sum(int(n) * DURATION_UNITS[u] for n, u in parts)
    if seconds <= 0 or seconds > MAX_DURATION.total_seconds():
        raise Invalid("duration must be between 1s and 30d", field="eta")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """Render a duration compactly for people: "45s", "12m", "1h 05m", "2d 3h"."""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def update_status(due: datetime | None, now: datetime) -> str:
    """Describe the next internal update: "due in 12m" or "overdue by 3m"."""
    if due is None:
        return "no scheduled updates"
    if due >= now:
        return f"due in {format_duration(due - now)}"
    return f"overdue by {format_duration(now - due)}"


REF_PATTERN = re.compile(r"(?:inc-?)?(\d{1,12})", re.IGNORECASE)


def parse_ref(ref: str) -> int:
    """The incident number in "INC-42" (or "42"), or Invalid."""
    match = REF_PATTERN.fullmatch(ref.strip())
    if not match:
        raise Invalid(f"{ref!r} is not an incident reference like INC-42", field="ref")
    return int(match.group(1))


def format_ref(number: int) -> str:
    """The public reference of incident ``number``."""
    return f"INC-{number}"


SEVERITY_PATTERN = re.compile(r"(?:sev-?\s*)?(\d{1,2})", re.IGNORECASE)


def severity_level_from(value: str | int, policies: list[SeverityPolicy]) -> int:
    """Resolve "1", 1, "SEV-1", "sev1" or a configured name to a level."""
    text = str(value).strip()
    for policy in policies:
        if policy.name.lower() == text.lower():
            return policy.level
    match = SEVERITY_PATTERN.fullmatch(text)
    if match and any(p.level == int(match.group(1)) for p in policies):
        return int(match.group(1))
    known = ", ".join(f"{p.level} ({p.name})" for p in policies)
    raise Invalid(f"unknown severity {value!r}; known: {known}", field="severity")
