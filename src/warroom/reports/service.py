"""Report use-cases: metrics by group over a period, and anti-patterns. Read-only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warroom.errors import Invalid
from warroom.postmortems.models import ActionItem
from warroom.postmortems.rules import ActionStatus
from warroom.reports import queries, rules
from warroom.reports.queries import Period
from warroom.reports.rules import AntiPattern, Group

GROUPINGS = ("severity", "service", "team", "all")


@dataclass
class Report:
    since: datetime
    until: datetime
    by: str
    overall: Group
    groups: list[Group]
    actions_due: int = 0
    actions_on_time: int = 0
    anti_patterns: list[AntiPattern] = field(default_factory=list)

    @property
    def actions_on_time_ratio(self) -> float | None:
        return self.actions_on_time / self.actions_due if self.actions_due else None


def _actions(session: Session, period: Period, now: datetime) -> tuple[int, int]:
    """(items due in the period by now, of which closed by their due date)."""
    last = min(period.until, now).date()
    due_items = (
        select(ActionItem)
        .where(
            ActionItem.due_on >= period.since.date(),
            ActionItem.due_on < last,
            ActionItem.status != ActionStatus.WONT_DO.value,
        )
        .subquery()
    )
    total = session.scalar(select(func.count()).select_from(due_items)) or 0
    on_time = 0
    for closed_at, due_on in session.execute(
        select(due_items.c.closed_at, due_items.c.due_on).where(
            due_items.c.status == ActionStatus.DONE.value
        )
    ):
        on_time += closed_at is not None and closed_at <= datetime.combine(due_on, time.max, UTC)
    return int(total), on_time


def build(
    *,
    session: Session,
    now: datetime,
    since: datetime,
    until: datetime | None = None,
    by: str = "severity",
) -> Report:
    """Metrics for incidents declared in [since, until), grouped ``by``."""
    if by not in GROUPINGS:
        raise Invalid(f"group by one of {', '.join(GROUPINGS)}", field="by")
    period = Period(since=since, until=until or now)
    if period.until <= period.since:
        raise Invalid("the period must end after it starts", field="since")
    members = queries.incident_times(session, period, now)
    due, on_time = _actions(session, period, now)
    return Report(
        since=period.since,
        until=period.until,
        by=by,
        overall=rules.group_figures("all", members, now),
        groups=rules.grouped(members, by, now) if by != "all" else [],
        actions_due=due,
        actions_on_time=on_time,
        anti_patterns=[p for t in members for p in rules.anti_patterns(t, now)],
    )
