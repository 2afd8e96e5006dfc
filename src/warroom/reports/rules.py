"""Pure metrics: summary statistics, compliance ratios, anti-patterns, report periods.

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
from collections.abc import Sequence
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


def stat(values: Sequence[float], mean: float | None, unit: float = 1.0) -> Stat:
    """The count, median and p90 of ``values`` (in any order) beside their ``mean``.

    The mean comes from the database, which summed the same values. Median and
    p90 are divided by ``unit`` (60,000 for values in ms, figures in minutes).
    """
    if not values:
        return Stat(0, mean, None, None)
    ordered = sorted(values)
    median, p90 = percentile(ordered, 0.5), percentile(ordered, 0.9)
    return Stat(len(ordered), mean, median / unit, p90 / unit)


def ratio(met: int, known: int) -> float | None:
    return met / known if known else None


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


@dataclass(frozen=True)
class AntiPattern:
    incident_id: int
    kind: str
    detail: str


@dataclass(frozen=True)
class Flags:
    """What the database found about one incident, for anti_patterns()."""

    incident_id: int
    severity_rank: int
    ic_also_tech_lead: bool
    postmortem_on_time: bool | None
    postmortem_published: bool
    updates_late: int
    impact_changed_without_severity_change: bool


def anti_patterns(flags: Flags) -> list[AntiPattern]:
    """process.md §6 findings for one incident."""
    number = flags.incident_id
    found = []
    if flags.ic_also_tech_lead and flags.severity_rank <= 2:
        found.append(AntiPattern(number, "ic_also_tech_lead", "the IC was also the Tech Lead"))
    if flags.updates_late:
        detail = f"{flags.updates_late} internal update(s) late or missing"
        found.append(AntiPattern(number, "late_updates", detail))
    if flags.postmortem_on_time is False:
        late = flags.postmortem_published
        kind, detail = (
            ("postmortem_late", "postmortem published late")
            if late
            else ("postmortem_overdue", "postmortem overdue")
        )
        found.append(AntiPattern(number, kind, detail))
    if flags.impact_changed_without_severity_change:
        detail = "impact changed but severity was never revisited"
        found.append(AntiPattern(number, "impact_without_severity", detail))
    return found


SINCE_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
MAX_SINCE = timedelta(days=3660)


def parse_since(text: str, now: datetime, field: str = "since") -> datetime:
    """'30d', '12w', '48h' before ``now``, or an ISO date/time (UTC when no offset)."""
    value = text.strip().lower()
    if value[:-1].isascii() and value[:-1].isdigit() and value[-1:] in SINCE_UNITS:
        if len(value) > 8:
            raise Invalid(f"{field} must be between 1h and 10 years back", field=field)
        span = int(value[:-1]) * SINCE_UNITS[value[-1]]
        if not timedelta(0) < span <= MAX_SINCE:
            raise Invalid(f"{field} must be between 1h and 10 years back", field=field)
        return now - span
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(f"{text!r} is not like 30d, 12w, 48h or 2026-01-31", field=field) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
