"""Pure metrics: per-incident durations, summary statistics, compliance, anti-patterns.

Times are measured from detection (when warroom learned of the problem:
the first alert or report, else the declaration):
- MTTD: impact start (the first alert's own timestamp, or an earlier
  recorded impact start) to detection; only where an impact start is known.
- MTTA: detection to acknowledgement.
- MTTM: detection to mitigation (the mitigating phase, else resolution).
- MTTR: detection to resolution.
Drills are excluded by the queries, never here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from warroom.errors import Invalid

# process.md §3: windows from detection by which each phase should be left.
PHASE_WINDOWS = {
    "detection": timedelta(minutes=5),
    "triage": timedelta(minutes=15),
    "investigating": timedelta(minutes=60),
}


@dataclass(frozen=True)
class IncidentTimes:
    """What the metrics need to know about one incident."""

    id: int
    severity: str
    services: tuple[str, ...]
    teams: tuple[str, ...]
    detection_at: datetime
    impact_start_at: datetime | None = None
    acknowledged_at: datetime | None = None
    triage_at: datetime | None = None
    investigating_at: datetime | None = None
    mitigating_at: datetime | None = None
    resolved_at: datetime | None = None
    ack_target: timedelta | None = None
    updates_due: int = 0
    updates_late: int = 0
    ic_also_tech_lead: bool = False
    severity_rank: int = 4
    postmortem_required: bool = False
    postmortem_due_at: datetime | None = None
    postmortem_published_at: datetime | None = None
    impact_changed_without_severity_change: bool = False


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds() / 60)


def durations(times: IncidentTimes) -> dict[str, float | None]:
    """MTTD, MTTA, MTTM, MTTR contributions of one incident, in minutes."""
    mitigated = times.mitigating_at or times.resolved_at
    return {
        "mttd": _minutes(times.impact_start_at, times.detection_at),
        "mtta": _minutes(times.detection_at, times.acknowledged_at),
        "mttm": _minutes(times.detection_at, mitigated),
        "mttr": _minutes(times.detection_at, times.resolved_at),
    }


@dataclass(frozen=True)
class Stat:
    count: int
    mean: float | None
    median: float | None
    p90: float | None


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (as numpy's default)."""
    if len(ordered) == 1:
        return ordered[0]
    rank = fraction * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def stat(values: Iterable[float | None]) -> Stat:
    present = sorted(v for v in values if v is not None)
    if not present:
        return Stat(0, None, None, None)
    return Stat(
        count=len(present),
        mean=sum(present) / len(present),
        median=percentile(present, 0.5),
        p90=percentile(present, 0.9),
    )


def phase_windows(times: IncidentTimes) -> dict[str, bool | None]:
    """Whether each phase was left within its window; None when not reached or not yet due."""
    left_at = {
        "detection": _first(
            times.triage_at, times.investigating_at, times.mitigating_at, times.resolved_at
        ),
        "triage": _first(times.investigating_at, times.mitigating_at, times.resolved_at),
        "investigating": _first(times.mitigating_at, times.resolved_at),
    }
    return {
        phase: None if left is None else left - times.detection_at <= PHASE_WINDOWS[phase]
        for phase, left in left_at.items()
    }


def _first(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def ack_met(times: IncidentTimes) -> bool | None:
    if times.ack_target is None or times.acknowledged_at is None:
        return None
    return times.acknowledged_at - times.detection_at <= times.ack_target


def postmortem_on_time(times: IncidentTimes, now: datetime) -> bool | None:
    """Published by its due date; None when not required or not yet due."""
    if not times.postmortem_required or times.postmortem_due_at is None:
        return None
    if times.postmortem_published_at is not None:
        return times.postmortem_published_at <= times.postmortem_due_at
    return False if now > times.postmortem_due_at else None


def ratio(flags: Iterable[bool | None]) -> float | None:
    known = [f for f in flags if f is not None]
    return sum(known) / len(known) if known else None


@dataclass
class Group:
    """Figures for one group (a severity, service, team or the whole period)."""

    key: str
    incidents: int = 0
    stats: dict[str, Stat] = field(default_factory=dict)
    ack_compliance: float | None = None
    update_compliance: float | None = None
    phase_windows_met: dict[str, float | None] = field(default_factory=dict)
    postmortems_on_time: float | None = None


def group_figures(key: str, members: Sequence[IncidentTimes], now: datetime) -> Group:
    per = [durations(t) for t in members]
    due = sum(t.updates_due for t in members)
    late = sum(t.updates_late for t in members)
    windows = [phase_windows(t) for t in members]
    return Group(
        key=key,
        incidents=len(members),
        stats={name: stat(d[name] for d in per) for name in ("mttd", "mtta", "mttm", "mttr")},
        ack_compliance=ratio(ack_met(t) for t in members),
        update_compliance=(due - late) / due if due else None,
        phase_windows_met={phase: ratio(w[phase] for w in windows) for phase in PHASE_WINDOWS},
        postmortems_on_time=ratio(postmortem_on_time(t, now) for t in members),
    )


def keys_of(times: IncidentTimes, by: str) -> tuple[str, ...]:
    """The groups an incident counts in: one severity, possibly several services or teams."""
    if by == "severity":
        return (times.severity,)
    if by == "service":
        return times.services or ("(no service)",)
    if by == "team":
        return times.teams or ("(no team)",)
    return ("all",)


def grouped(members: Sequence[IncidentTimes], by: str, now: datetime) -> list[Group]:
    buckets: dict[str, list[IncidentTimes]] = {}
    for times in members:
        for key in keys_of(times, by):
            buckets.setdefault(key, []).append(times)
    return [group_figures(key, buckets[key], now) for key in sorted(buckets)]


@dataclass(frozen=True)
class AntiPattern:
    incident_id: int
    kind: str
    detail: str


def anti_patterns(times: IncidentTimes, now: datetime) -> list[AntiPattern]:
    """process.md §6 findings for one incident."""
    found = []
    if times.ic_also_tech_lead and times.severity_rank <= 2:
        found.append(AntiPattern(times.id, "ic_also_tech_lead", "the IC was also the Tech Lead"))
    if times.updates_late:
        found.append(
            AntiPattern(
                times.id, "late_updates", f"{times.updates_late} internal update(s) late or missing"
            )
        )
    on_time = postmortem_on_time(times, now)
    if on_time is False:
        state = "published late" if times.postmortem_published_at else "overdue"
        found.append(AntiPattern(times.id, "postmortem_" + state.split()[0], f"postmortem {state}"))
    if times.impact_changed_without_severity_change:
        found.append(
            AntiPattern(
                times.id,
                "impact_without_severity",
                "impact changed but severity was never revisited",
            )
        )
    return found


SINCE_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
MAX_SINCE = timedelta(days=3660)


def parse_since(text: str, now: datetime) -> datetime:
    """'30d', '12w', '48h' before ``now``, or an ISO date/time (UTC when no offset)."""
    value = text.strip().lower()
    if value[:-1].isdigit() and value[-1:] in SINCE_UNITS:
        span = int(value[:-1]) * SINCE_UNITS[value[-1]]
        if not timedelta(0) < span <= MAX_SINCE:
            raise Invalid("--since must be between 1h and 10 years back", field="since")
        return now - span
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(f"{text!r} is not like 30d, 12w, 48h or 2026-01-31", field="since") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
