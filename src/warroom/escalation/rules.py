"""Pure escalation rules: policies, their frozen snapshots, steps and paging times."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from warroom.errors import Invalid

if TYPE_CHECKING:
    import holidays

MIN_TIMEOUT = timedelta(minutes=1)
MAX_TIMEOUT = timedelta(hours=24)
MAX_REPEAT = 9
SNAPSHOT_VERSION = 1

T = TypeVar("T")


class PageStatus(StrEnum):
    """Where a page stands: escalating, or stopped for one of these reasons."""

    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    EXHAUSTED = "exhausted"


STOPPED_PAGE = frozenset({PageStatus.ACKNOWLEDGED, PageStatus.RESOLVED})


class TargetKind(StrEnum):
    """Who a level pages: a user directly, or whoever a schedule has on call."""

    USER = "user"
    SCHEDULE = "schedule"


@dataclass(frozen=True)
class Target:
    """One recipient of a level; ``ref`` is a user or schedule reference."""

    kind: TargetKind
    ref: str


@dataclass(frozen=True)
class Level:
    """Targets paged together, and how long to wait for an ack before moving on."""

    targets: tuple[Target, ...]
    timeout: timedelta


@dataclass(frozen=True)
class Policy:
    """Ordered levels; ``repeat`` is how many more times the whole policy runs."""

    name: str
    levels: tuple[Level, ...]
    repeat: int = 0


def policy_problems(policy: Policy) -> list[str]:
    """Everything wrong with ``policy``, for people; empty when it is usable."""
    problems: list[str] = []
    if not policy.name.strip():
        problems.append("the policy needs a name")
    if not policy.levels:
        problems.append("the policy needs at least one level")
    if not 0 <= policy.repeat <= MAX_REPEAT:
        problems.append(f"repeat must be between 0 and {MAX_REPEAT}")
    for number, level in enumerate(policy.levels, start=1):
        problems.extend(f"level {number}: {problem}" for problem in _level_problems(level))
    return problems


def _level_problems(level: Level) -> list[str]:
    problems: list[str] = []
    if not level.targets:
        problems.append("it has no targets")
    if not MIN_TIMEOUT <= level.timeout <= MAX_TIMEOUT:
        problems.append("the timeout must be between 1 min and 24 h")
    if any(not target.ref.strip() for target in level.targets):
        problems.append("a target has no reference")
    dupes = [f"{t.kind.value} {t.ref}" for t, n in Counter(level.targets).items() if n > 1]
    if dupes:
        problems.append(f"duplicate targets: {', '.join(dupes)}")
    return problems


def validate_policy(policy: Policy) -> None:
    """Raise Invalid listing every problem of ``policy``, if it has any."""
    problems = policy_problems(policy)
    if problems:
        raise Invalid("; ".join(problems), field="policy")


def to_snapshot(policy: Policy) -> dict[str, object]:
    """A JSON-able copy of ``policy`` to freeze on a page when it starts."""
    return {
        "version": SNAPSHOT_VERSION,
        "name": policy.name,
        "repeat": policy.repeat,
        "levels": [
            {
                "timeout_seconds": _seconds(level.timeout),
                "targets": [{"kind": t.kind.value, "ref": t.ref} for t in level.targets],
            }
            for level in policy.levels
        ],
    }


def _seconds(delta: timedelta) -> int | float:
    seconds = delta.total_seconds()
    return int(seconds) if seconds.is_integer() else seconds


def from_snapshot(data: Mapping[str, object]) -> Policy:
    """The policy frozen by ``to_snapshot``, or Invalid if ``data`` is not one.

    Only the shape is checked, not the editing limits of ``policy_problems``:
    a snapshot taken under older limits must still run to its end.
    """
    try:
        if data.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported version {data.get('version')!r}")
        levels = tuple(_level_from(item) for item in _get(data, "levels", list))
        repeat = _get(data, "repeat", int)
        if not levels or repeat < 0:
            raise ValueError("it needs at least one level and a repeat of at least 0")
        return Policy(name=_get(data, "name", str), levels=levels, repeat=repeat)
    except (ValueError, OverflowError) as exc:
        raise Invalid(f"malformed escalation snapshot: {exc}", field="snapshot") from None


def _level_from(item: object) -> Level:
    if not isinstance(item, Mapping):
        raise ValueError("a level is not an object")
    seconds = item.get("timeout_seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds > 0:
        raise ValueError("a level has no positive timeout_seconds")
    targets = tuple(_target_from(t) for t in _get(item, "targets", list))
    return Level(targets=targets, timeout=timedelta(seconds=seconds))


def _target_from(item: object) -> Target:
    if not isinstance(item, Mapping):
        raise ValueError("a target is not an object")
    return Target(kind=TargetKind(_get(item, "kind", str)), ref=_get(item, "ref", str))


def _get(data: Mapping[str, Any], key: str, kind: type[T]) -> T:
    value = data.get(key)
    # bool is an int subclass; a JSON true must not pass for a repeat count.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ValueError(f"{key!r} is missing or not a {kind.__name__}")
    return value


@dataclass(frozen=True)
class Step:
    """A point in a running escalation: which pass, which level (0-based), and when."""

    round: int
    level: int
    at: datetime


def first_step(policy: Policy, started_at: datetime) -> Step:
    """The step that pages the first level when the escalation starts."""
    if not policy.levels:
        raise Invalid("the policy needs at least one level", field="policy")
    return Step(round=0, level=0, at=started_at)


def next_step(policy: Policy, step: Step) -> Step | None:
    """The step after ``step`` once its timeout passes, or None when exhausted."""
    if not 0 <= step.level < len(policy.levels):
        raise ValueError(f"level {step.level} is outside a policy of {len(policy.levels)}")
    at = step.at + policy.levels[step.level].timeout
    if step.level + 1 < len(policy.levels):
        return Step(round=step.round, level=step.level + 1, at=at)
    if step.round < policy.repeat:
        return Step(round=step.round + 1, level=0, at=at)
    return None


def targets_to_notify(level: Level, who_is_on_call: Callable[[str], str | None]) -> list[str]:
    """The users to page for ``level``, in target order, each once.

    ``who_is_on_call`` maps a schedule reference to its current user, or None
    when nobody is on call; such a schedule is skipped so the rest still get paged.
    """
    users: dict[str, None] = {}
    for target in level.targets:
        user = target.ref if target.kind is TargetKind.USER else who_is_on_call(target.ref)
        if user is not None:
            users.setdefault(user)
    return list(users)


class Urgency(StrEnum):
    """High pages at once; low waits for business hours."""

    HIGH = "high"
    LOW = "low"


MONDAY_TO_FRIDAY = frozenset(range(5))
MAX_SEARCH_DAYS = 60


@dataclass(frozen=True)
class BusinessHours:
    """Working hours [start, end) in a time zone, on ``weekdays`` (0 = Monday).

    With a ``country`` (ISO 3166 code, optional ``subdivision``), its public
    holidays are non-working days.
    """

    tz: str
    start: time
    end: time
    weekdays: frozenset[int] = MONDAY_TO_FRIDAY
    country: str | None = None
    subdivision: str | None = None


def is_business_time(hours: BusinessHours, at: datetime) -> bool:
    """True if ``at`` falls inside business hours on a working day."""
    zone, calendar = _calendar(hours)
    return _is_open(hours, calendar, _local(at, zone))


def next_business_start(hours: BusinessHours, at: datetime) -> datetime:
    """``at`` if it is business time, else when business hours next open (UTC)."""
    zone, calendar = _calendar(hours)
    local = _local(at, zone)
    if _is_open(hours, calendar, local):
        return at.astimezone(UTC)
    for offset in range(MAX_SEARCH_DAYS + 1):
        day = local.date() + timedelta(days=offset)
        if _working_day(hours, calendar, day):
            opens = _opening(day, hours.start, zone)
            if opens > at:
                return opens
    raise Invalid(
        f"business hours do not open within {MAX_SEARCH_DAYS} days of {at.isoformat()}",
        field="business_hours",
    )


def page_time(urgency: Urgency, hours: BusinessHours | None, at: datetime) -> datetime:
    """When to page for an escalation of ``urgency`` triggered at ``at``."""
    if urgency is Urgency.HIGH or hours is None:
        return at
    return next_business_start(hours, at)


def _calendar(hours: BusinessHours) -> tuple[ZoneInfo, holidays.HolidayBase | None]:
    """The zone and holiday calendar of ``hours``, or Invalid if they are unusable."""
    try:
        zone = ZoneInfo(hours.tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"unknown time zone {hours.tz!r}", field="tz") from None
    if hours.start.tzinfo is not None or hours.end.tzinfo is not None:
        raise Invalid("business hours are wall-clock times without a zone", field="start")
    if not hours.start < hours.end:
        raise Invalid("business hours must end after they start, on the same day", field="end")
    if not hours.weekdays or not hours.weekdays <= frozenset(range(7)):
        raise Invalid("weekdays must be a non-empty set of 0 (Monday) to 6", field="weekdays")
    if hours.country is None:
        if hours.subdivision is not None:
            raise Invalid("a subdivision needs a country", field="subdivision")
        return zone, None
    import holidays  # here: its country tables cost every process ~4 MB, few policies use them

    try:
        return zone, holidays.country_holidays(hours.country, subdiv=hours.subdivision)
    except NotImplementedError as exc:  # how `holidays` says it has no such country
        raise Invalid(f"no holiday calendar: {exc}", field="country") from None


def _local(at: datetime, zone: ZoneInfo) -> datetime:
    if at.utcoffset() is None:
        raise ValueError("times must be timezone-aware")
    return at.astimezone(zone)


def _working_day(hours: BusinessHours, calendar: holidays.HolidayBase | None, day: date) -> bool:
    return day.weekday() in hours.weekdays and (calendar is None or day not in calendar)


def _is_open(hours: BusinessHours, calendar: holidays.HolidayBase | None, local: datetime) -> bool:
    return _working_day(hours, calendar, local.date()) and hours.start <= local.time() < hours.end


def _opening(day: date, start: time, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the wall clock on ``day`` reads ``start``."""
    wall = datetime.combine(day, start)
    early = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if early.astimezone(zone).replace(tzinfo=None) == wall:
        return early
    # ``start`` falls in a spring-forward gap, so the clock never shows it:
    # business opens when the clocks jump, which lies between the two readings
    # of the wall time. Search whole seconds, as zone transitions are on them.
    late = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = int(late.timestamp()), int(early.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)
