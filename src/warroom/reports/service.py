"""Report use-cases: metrics by group over a period, and anti-patterns. Read-only."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time

from sqlalchemy import FromClause, Table, func, select
from sqlalchemy.orm import Session

from warroom.errors import Invalid
from warroom.incidents.models import Severity
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
    anti_patterns: list[AntiPattern] = field(default_factory=list)  # the latest incidents
    anti_pattern_counts: dict[str, int] = field(default_factory=dict)

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


def _group(total: queries.Totals) -> Group:
    due, late = total.updates_due, total.updates_late
    return Group(
        key=total.key,
        incidents=total.incidents,
        stats={
            m: rules.stat(total.values[m], total.means[m], queries.MS_PER_MINUTE)
            for m in queries.MEASURES
        },
        ack_compliance=rules.ratio(*total.ratios["ack_met"]),
        update_compliance=(due - late) / due if due else None,
        phase_windows_met={
            phase: rules.ratio(*total.ratios[f"w_{phase}"]) for phase in rules.PHASE_WINDOWS
        },
        postmortems_on_time=rules.ratio(*total.ratios["pm_on_time"]),
    )


def _figures(session: Session, rows: Table, by: str) -> tuple[Group, list[Group]]:
    """The overall figures and, unless ``by`` is "all", those of each group."""
    groups: list[queries.Totals] = []
    if by != "all":
        named = session.execute(select(Severity.level, Severity.name))
        severities: dict[int, str] = {int(level): str(name) for level, name in named}
        groups = queries.totals(session, queries.grouped_by(rows, by, severities))
    # Severities put each incident in exactly one group, so the groups'
    # durations together are the overall ones: no need to send them twice.
    split = by == "severity"
    overall = queries.overall(session, rows, durations=not split)
    if overall is None:
        return _empty(), []
    if split:
        merged = {m: [v for t in groups for v in t.values[m]] for m in queries.MEASURES}
        overall = replace(overall, values=merged)
    return _group(overall), [_group(t) for t in groups]


def _anti_patterns(session: Session, rows: FromClause) -> list[AntiPattern]:
    found = []
    for number, level, ic_tl, pm_on_time, pm_published, late, unrevisited in queries.flagged(
        session, rows
    ):
        flags = rules.Flags(
            incident_id=number,
            severity_rank=level,
            ic_also_tech_lead=bool(ic_tl),
            postmortem_on_time=None if pm_on_time is None else bool(pm_on_time),
            postmortem_published=bool(pm_published),
            updates_late=late,
            impact_changed_without_severity_change=bool(unrevisited),
        )
        found += rules.anti_patterns(flags)
    return found


def _empty() -> Group:
    """The figures of a period without incidents: nothing measured, nothing known."""
    nothing = rules.Stat(0, None, None, None)
    return Group(
        key="all",
        stats=dict.fromkeys(queries.MEASURES, nothing),
        phase_windows_met=dict.fromkeys(rules.PHASE_WINDOWS),
    )


def build(
    *,
    session: Session,
    now: datetime,
    since: datetime,
    until: datetime | None = None,
    by: str = "severity",
) -> Report:
    """Metrics for incidents declared in [since, until), grouped ``by`` (drills excluded)."""
    if by not in GROUPINGS:
        raise Invalid(f"group by one of {', '.join(GROUPINGS)}", field="by")
    period = Period(since=since, until=until or now)
    if period.until <= period.since:
        raise Invalid("the period must end after it starts", field="since")
    rows = queries.materialize(session, period, now)
    try:
        overall, groups = _figures(session, rows, by)
        found = _anti_patterns(session, rows)
        counts = queries.anti_pattern_counts(session, rows)
    finally:
        queries.drop(session, rows)
    due, on_time = _actions(session, period, now)
    return Report(
        since=period.since,
        until=period.until,
        by=by,
        overall=overall,
        groups=groups,
        actions_due=due,
        actions_on_time=on_time,
        anti_patterns=found,
        anti_pattern_counts=counts,
    )
