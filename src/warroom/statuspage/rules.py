"""Pure status page rules: statuses, page rollup, public titles, uptime bars, posts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from warroom.errors import Invalid

MAX_TITLE = 200
MAX_MESSAGE = 10_000
MAX_NEXT_UPDATE_MINUTES = 7 * 24 * 60


class ComponentStatus(StrEnum):
    """Component states of the Statuspage API (protocols.md §3)."""

    OPERATIONAL = "operational"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    UNDER_MAINTENANCE = "under_maintenance"


# Badness for rollups. Planned maintenance outranks "operational" (the page
# should say so) but no unplanned problem: a degraded component elsewhere
# still decides the headline during maintenance.
COMPONENT_RANK: dict[ComponentStatus, int] = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 1,
    ComponentStatus.DEGRADED_PERFORMANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}


class PostStatus(StrEnum):
    """Incident statuses, each set by a customer post."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    POSTMORTEM = "postmortem"


OPEN_POST_STATUSES = frozenset(
    {PostStatus.INVESTIGATING, PostStatus.IDENTIFIED, PostStatus.MONITORING}
)


class MaintenanceStatus(StrEnum):
    """Scheduled maintenance statuses."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    VERIFYING = "verifying"
    COMPLETED = "completed"


UPCOMING_MAINTENANCE = frozenset({MaintenanceStatus.SCHEDULED})
ACTIVE_MAINTENANCE = frozenset({MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING})


class Impact(StrEnum):
    """Incident impact; its values double as the page's status indicator."""

    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"
    MAINTENANCE = "maintenance"


IMPACT_RANK: dict[Impact, int] = {
    Impact.NONE: 0,
    Impact.MAINTENANCE: 1,
    Impact.MINOR: 2,
    Impact.MAJOR: 3,
    Impact.CRITICAL: 4,
}

# Statuspage's incident impact follows the worst affected component.
IMPACT_OF_STATUS: dict[ComponentStatus, Impact] = {
    ComponentStatus.OPERATIONAL: Impact.NONE,
    ComponentStatus.UNDER_MAINTENANCE: Impact.MAINTENANCE,
    ComponentStatus.DEGRADED_PERFORMANCE: Impact.MINOR,
    ComponentStatus.PARTIAL_OUTAGE: Impact.MAJOR,
    ComponentStatus.MAJOR_OUTAGE: Impact.CRITICAL,
}

# Statuspage's top-level status: keyed by the worst component status and
# whether *every* component is in it. One major outage among healthy
# components is a partial outage of the system, not a major one.
COMPONENT_ROLLUP: dict[tuple[ComponentStatus, bool], tuple[Impact, str]] = {
    (ComponentStatus.OPERATIONAL, True): (Impact.NONE, "All Systems Operational"),
    (ComponentStatus.UNDER_MAINTENANCE, True): (Impact.MAINTENANCE, "Service Under Maintenance"),
    (ComponentStatus.UNDER_MAINTENANCE, False): (Impact.MAINTENANCE, "Service Under Maintenance"),
    (ComponentStatus.DEGRADED_PERFORMANCE, True): (Impact.MINOR, "Degraded System Service"),
    (ComponentStatus.DEGRADED_PERFORMANCE, False): (Impact.MINOR, "Partially Degraded Service"),
    (ComponentStatus.PARTIAL_OUTAGE, True): (Impact.MAJOR, "Partial System Outage"),
    (ComponentStatus.PARTIAL_OUTAGE, False): (Impact.MINOR, "Minor Service Outage"),
    (ComponentStatus.MAJOR_OUTAGE, True): (Impact.CRITICAL, "Major System Outage"),
    (ComponentStatus.MAJOR_OUTAGE, False): (Impact.MAJOR, "Partial System Outage"),
}

# An open incident (or active maintenance) raises the headline even when no
# component changed; "Major Service Outage" is the API docs' critical example.
INCIDENT_ROLLUP: dict[Impact, str] = {
    Impact.NONE: "All Systems Operational",
    Impact.MAINTENANCE: "Service Under Maintenance",
    Impact.MINOR: "Minor Service Outage",
    Impact.MAJOR: "Partial System Outage",
    Impact.CRITICAL: "Major Service Outage",
}


def badness(status: ComponentStatus) -> int:
    """Sort key: how bad ``status`` is (COMPONENT_RANK)."""
    return COMPONENT_RANK[ComponentStatus(status)]


def impact_rank(impact: Impact) -> int:
    """Sort key: how bad ``impact`` is (IMPACT_RANK)."""
    return IMPACT_RANK[Impact(impact)]


def worst_status(statuses: Iterable[ComponentStatus]) -> ComponentStatus:
    """The worst of ``statuses``; operational when empty."""
    return max(statuses, key=badness, default=ComponentStatus.OPERATIONAL)


def worst_impact(impacts: Iterable[Impact]) -> Impact:
    """The worst of ``impacts``; none when empty."""
    return max(impacts, key=impact_rank, default=Impact.NONE)


def page_status(
    statuses: Iterable[ComponentStatus], *, open_impacts: Iterable[Impact] = ()
) -> tuple[str, str]:
    """The page's (indicator, description) from its leaf components and open incidents.

    Pass leaf components only: a group's status is derived from its children.
    When components and incidents rank the same, the component wording wins,
    since it says more about what is broken.
    """
    listed = list(statuses)
    worst = worst_status(listed)
    everywhere = all(status == worst for status in listed)
    impact, description = COMPONENT_ROLLUP[(worst, everywhere)]
    incident = worst_impact(open_impacts)
    if impact_rank(incident) > impact_rank(impact):
        return incident.value, INCIDENT_ROLLUP[incident]
    return impact.value, description


def impact_of(statuses: Iterable[ComponentStatus]) -> Impact:
    """An incident's impact from its affected components' new statuses."""
    return IMPACT_OF_STATUS[worst_status(statuses)]


TITLE_PREFIX: dict[ComponentStatus, str] = {
    ComponentStatus.OPERATIONAL: "Service disruption affecting",
    ComponentStatus.UNDER_MAINTENANCE: "Scheduled maintenance of",
    ComponentStatus.DEGRADED_PERFORMANCE: "Degraded performance of",
    ComponentStatus.PARTIAL_OUTAGE: "Partial outage of",
    ComponentStatus.MAJOR_OUTAGE: "Major outage of",
}
MAX_LISTED_NAMES = 3
UNSAFE_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str) -> str:
    """``text`` without control characters, surrogates and non-characters (invalid in XML)."""
    return UNSAFE_CHARS.sub("", text)


def _public_names(component_names: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    names: list[str] = []
    for raw in component_names:
        name = " ".join(clean_text(raw).split())
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
    return names


def neutral_title(component_names: Sequence[str], worst: ComponentStatus) -> str:
    """A public title from the affected components alone, e.g. "Partial outage of API".

    It sees only public component names and a status, so no internal detail
    (hosts, causes, severities) can leak into it.
    """
    names = _public_names(component_names)
    if not names:
        return "Service disruption"
    prefix = TITLE_PREFIX[worst]
    if len(names) > MAX_LISTED_NAMES:
        return f"{prefix} several services"
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    title = f"{prefix} {listed}"
    return title if len(title) <= MAX_TITLE else f"{prefix} several services"


# Statuspage's uptime showcase: a major outage minute is fully down, a partial
# outage minute counts 30 % down; degraded performance and maintenance are up.
DOWNTIME_WEIGHT: dict[ComponentStatus, float] = {
    ComponentStatus.MAJOR_OUTAGE: 1.0,
    ComponentStatus.PARTIAL_OUTAGE: 0.3,
}


@dataclass(frozen=True)
class StatusChange:
    """A component entered ``status`` at ``at`` (an aware datetime)."""

    at: datetime
    status: ComponentStatus


@dataclass(frozen=True)
class DayBar:
    """One local day of a component's uptime bar."""

    day: date
    uptime: float
    worst: ComponentStatus
    minutes: dict[ComponentStatus, float]
    incidents: list[str]
    no_data: bool = False

    @property
    def total_minutes(self) -> float:
        """Minutes of the day with data (fewer on the first and the current day)."""
        return sum(self.minutes.values())

    @property
    def down_minutes(self) -> float:
        """Weighted downtime minutes (DOWNTIME_WEIGHT)."""
        return _down_minutes(self.minutes)


def _down_minutes(minutes: Mapping[ComponentStatus, float]) -> float:
    return sum(DOWNTIME_WEIGHT.get(status, 0.0) * m for status, m in minutes.items())


NO_INCIDENTS: Mapping[date, list[str]] = MappingProxyType({})


def _require_aware(value: datetime, name: str) -> None:
    if value.utcoffset() is None:
        raise Invalid(f"{name} must carry a time zone offset", field=name)


def page_zone(tz: str) -> ZoneInfo:
    """The IANA zone named ``tz``, or Invalid."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"unknown time zone {tz!r}", field="time_zone") from None


def _day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    # Local midnights converted to UTC: a DST day is 23 or 25 hours long.
    start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    stop = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    return start, stop


def _timeline(
    changes: Sequence[StatusChange], initial: ComponentStatus
) -> list[tuple[datetime, ComponentStatus]]:
    for change in changes:
        _require_aware(change.at, "at")
    ordered = sorted(changes, key=lambda c: c.at)
    start = datetime.min.replace(tzinfo=UTC)
    return [(start, initial), *((c.at.astimezone(UTC), c.status) for c in ordered)]


def _minutes_between(
    timeline: list[tuple[datetime, ComponentStatus]], start: datetime, stop: datetime
) -> dict[ComponentStatus, float]:
    seconds = dict.fromkeys(ComponentStatus, 0.0)
    ends = [at for at, _ in timeline[1:]] + [datetime.max.replace(tzinfo=UTC)]
    for (began, status), ended in zip(timeline, ends, strict=True):
        overlap = (min(ended, stop) - max(began, start)).total_seconds()
        if overlap > 0:
            seconds[status] += overlap
    return {status: s / 60 for status, s in seconds.items() if s > 0}


def _bar(day: date, minutes: dict[ComponentStatus, float], incidents: list[str]) -> DayBar:
    if not minutes:
        return DayBar(day, 100.0, ComponentStatus.OPERATIONAL, {}, incidents, no_data=True)
    uptime = 100.0 * (1 - _down_minutes(minutes) / sum(minutes.values()))
    return DayBar(day, uptime, worst_status(minutes), minutes, incidents)


def uptime_bars(
    changes: Sequence[StatusChange],
    *,
    initial: ComponentStatus,
    end: datetime,
    days: int = 90,
    tz: str,
    created: datetime | None = None,
    incidents_by_day: Mapping[date, list[str]] = NO_INCIDENTS,
) -> list[DayBar]:
    """Daily bars for the ``days`` local days ending with the day of ``end``, oldest first.

    ``initial`` is the status before the first change. Time before ``created``
    or after ``end`` has no data; a day with none is marked ``no_data``.
    """
    _require_aware(end, "end")
    if created is not None:
        _require_aware(created, "created")
    if days < 1:
        raise Invalid("days must be at least 1", field="days")
    zone = page_zone(tz)
    timeline = _timeline(changes, initial)
    last = end.astimezone(zone).date()
    bars: list[DayBar] = []
    for offset in range(days - 1, -1, -1):
        day = last - timedelta(days=offset)
        start, stop = _day_bounds(day, zone)
        if created is not None:
            start = max(start, created)
        minutes = _minutes_between(timeline, start, min(stop, end))
        bars.append(_bar(day, minutes, list(incidents_by_day.get(day, []))))
    return bars


def overall_uptime(bars: Iterable[DayBar]) -> float:
    """Uptime percentage over ``bars``, weighted by minutes; days without data are left out."""
    counted = [bar for bar in bars if not bar.no_data]
    total = sum(bar.total_minutes for bar in counted)
    if total == 0:
        return 100.0
    return 100.0 * (1 - sum(bar.down_minutes for bar in counted) / total)


def parse_post_status(value: str) -> PostStatus:
    """The PostStatus named by ``value``, or Invalid listing the known ones."""
    try:
        return PostStatus(value.strip().lower())
    except ValueError:
        known = ", ".join(s.value for s in PostStatus)
        raise Invalid(f"unknown status {value!r}; known: {known}", field="status") from None


def validate_post(status: PostStatus, message: str, next_update_minutes: int | None) -> None:
    """Raise Invalid, naming the field, unless this customer post may be published.

    An open incident's post says when the next update comes (process.md §4);
    a resolved or postmortem post promises none.
    """
    status = parse_post_status(status)
    text = message.strip()
    if not text:
        raise Invalid("write a message for customers", field="message")
    if len(text) > MAX_MESSAGE:
        raise Invalid(f"the message is longer than {MAX_MESSAGE} characters", field="message")
    if status not in OPEN_POST_STATUSES:
        if next_update_minutes is not None:
            raise Invalid(f"a {status} post promises no next update", field="next_update_minutes")
        return
    if next_update_minutes is None:
        raise Invalid("say when the next update will be posted", field="next_update_minutes")
    if not 1 <= next_update_minutes <= MAX_NEXT_UPDATE_MINUTES:
        raise Invalid(
            f"the next update must be due in 1 to {MAX_NEXT_UPDATE_MINUTES} minutes",
            field="next_update_minutes",
        )


class SubscriberState(StrEnum):
    PENDING = "pending"  # signed up, confirmation link not followed yet: gets no posts
    CONFIRMED = "confirmed"
    SUPPRESSED = "suppressed"  # hard bounces in a row: no posts until confirmed again


def subscriber_state(*, confirmed: bool, suppressed: bool) -> SubscriberState:
    """Where a subscriber stands; suppression wins, as it is what stops the mail."""
    if suppressed:
        return SubscriberState.SUPPRESSED
    return SubscriberState.CONFIRMED if confirmed else SubscriberState.PENDING
