"""The report in SQL: per-incident figures in one subquery, aggregated by the database.

``base`` yields one row per incident (per incident and group when grouping by
service or team) with its durations in minutes after detection and 0/1
flags; GROUP BY turns it into counts, means and compliance, and window
functions pick the ranks needed for medians and p90. Only a few rows per
group reach Python, so a 90-day report over 100,000 incidents stays fast.

Simplification: phases are taken as first reached in lifecycle order, so
"left detection" is the first of triage, investigating, mitigating, resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import FromClause, Integer, Subquery, Table, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.schema import DropTable
from sqlalchemy.sql.elements import ColumnElement

from warroom.alerts.models import Alert
from warroom.db.base import UTCDateTime
from warroom.db.sql import epoch_seconds, seconds_between
from warroom.incidents.models import Incident, InternalUpdate, Severity, incident_service
from warroom.postmortems.models import Postmortem
from warroom.reports.rules import PHASE_WINDOWS
from warroom.users.models import Service, Team

MEASURES = ("mttd", "mtta", "mttm", "mttr")
DETECTED = func.coalesce(Incident.detection_at, Incident.declared_at)


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime


def _minutes_after_detection(column: Any) -> ColumnElement[float]:
    return seconds_between(column, DETECTED) / 60.0


def _flag(condition: ColumnElement[bool], known: ColumnElement[bool]) -> ColumnElement[Any]:
    """1 when ``condition``, 0 when not, NULL when not ``known``."""
    return case((~known, None), (condition, 1), else_=0)


def _on_time_updates() -> Subquery:
    """Per incident, updates posted by the due time in force when they were posted."""
    posted = seconds_between(InternalUpdate.posted_at, Incident.declared_at)
    due = seconds_between(InternalUpdate.next_update_due_at, Incident.declared_at)
    previous_due = func.lag(due).over(
        partition_by=InternalUpdate.incident_id, order_by=InternalUpdate.posted_at
    )
    steps = (
        select(
            InternalUpdate.incident_id.label("incident_id"),
            posted.label("posted"),
            func.coalesce(previous_due, Severity.update_cadence_seconds).label("due"),
        )
        .join(Incident, Incident.id == InternalUpdate.incident_id)
        .join(Severity, Severity.level == Incident.severity_level)
        .subquery()
    )
    on_time = func.sum(case((steps.c.posted <= steps.c.due, 1), else_=0))
    return (
        select(steps.c.incident_id, on_time.label("on_time"))
        .group_by(steps.c.incident_id)
        .subquery()
    )


def _stamps(now: datetime, updates: Subquery, period: Period) -> Subquery:
    """Each incident's timestamps as epoch seconds, each converted once."""
    at_now = literal(now, UTCDateTime())
    first_alert = (
        select(func.min(Alert.occurred_at))
        .where(Alert.incident_id == Incident.id)
        .correlate(Incident)
        .scalar_subquery()
    )
    pm_on_time = case(
        (Incident.postmortem_status.is_(None) | Postmortem.due_at.is_(None), None),
        (
            Postmortem.published_at.is_not(None),
            case((Postmortem.published_at <= Postmortem.due_at, 1), else_=0),
        ),
        (Postmortem.due_at < at_now, 0),
        else_=None,
    )
    return (
        select(
            Incident.id.label("id"),
            Severity.level.label("level"),
            Severity.name.label("severity"),
            Severity.ack_target_seconds.label("ack_target"),
            Severity.update_cadence_seconds.label("cadence"),
            epoch_seconds(DETECTED).label("detected"),
            epoch_seconds(Incident.declared_at).label("declared"),
            epoch_seconds(first_alert).label("first_alert"),
            epoch_seconds(Incident.acknowledged_at).label("acked"),
            epoch_seconds(Incident.triage_at).label("triage"),
            epoch_seconds(Incident.investigating_at).label("investigating"),
            epoch_seconds(Incident.mitigating_at).label("mitigating"),
            epoch_seconds(Incident.resolved_at).label("resolved"),
            epoch_seconds(func.coalesce(Incident.resolved_at, Incident.dismissed_at, at_now)).label(
                "ended"
            ),
            func.coalesce(updates.c.on_time, 0).label("on_time"),
            pm_on_time.label("pm_on_time"),
            case((Postmortem.published_at.is_not(None), 1), else_=0).label("pm_published"),
            case((Incident.commander_id == Incident.tech_lead_id, 1), else_=0).label("ic_tl"),
            Incident.impact_changes.label("impact_changes"),
            Incident.severity_changes.label("severity_changes"),
        )
        .join(Severity, Severity.level == Incident.severity_level)
        .outerjoin(Postmortem, Postmortem.incident_id == Incident.id)
        .outerjoin(updates, updates.c.incident_id == Incident.id)
        .where(
            Incident.drill.is_(False),
            Incident.declared_at >= period.since,
            Incident.declared_at < period.until,
        )
        .subquery()
    )


def _columns(t: Subquery) -> list[Any]:
    def after_detection(column: Any) -> Any:
        return (column - t.c.detected) / 60.0

    lead = (t.c.detected - t.c.first_alert) / 60.0
    ack = after_detection(t.c.acked)
    # A millisecond of slack: epoch arithmetic in floating point makes 150 min
    # come out as 149.99999 and one due update vanish in the truncation.
    lasted = t.c.ended - t.c.declared + 0.001
    due = case((t.c.cadence > 0, cast(lasted / t.c.cadence, Integer)), else_=0)
    left = {
        "detection": (t.c.triage, t.c.investigating, t.c.mitigating, t.c.resolved),
        "triage": (t.c.investigating, t.c.mitigating, t.c.resolved),
        "investigating": (t.c.mitigating, t.c.resolved),
    }
    windows = []
    for phase, reached in left.items():
        first = after_detection(func.coalesce(*reached))
        limit = PHASE_WINDOWS[phase].total_seconds() / 60
        windows.append(_flag(first <= limit, first.is_not(None)).label(f"w_{phase}"))
    known_ack = ack.is_not(None) & t.c.ack_target.is_not(None)
    return [
        t.c.id,
        t.c.level,
        t.c.pm_on_time,
        t.c.pm_published,
        t.c.ic_tl,
        t.c.impact_changes,
        t.c.severity_changes,
        case((lead < 0, 0.0), else_=lead).label("mttd"),
        ack.label("mtta"),
        after_detection(func.coalesce(t.c.mitigating, t.c.resolved)).label("mttm"),
        after_detection(t.c.resolved).label("mttr"),
        _flag(ack * 60 <= t.c.ack_target, known_ack).label("ack_met"),
        due.label("updates_due"),
        case((due > t.c.on_time, due - t.c.on_time), else_=0).label("updates_late"),
        *windows,
    ]


def materialize(session: Session, period: Period, now: datetime) -> Table:
    """The period's per-incident rows, computed once into a temporary table.

    Every aggregate of the report reads this table instead of recomputing the
    timestamp arithmetic; drop() it when done.
    """
    stamps = _stamps(now, _on_time_updates(), period)
    create = select(*_columns(stamps)).into(f"report_{uuid4().hex[:16]}", temporary=True)
    session.execute(create)
    return create.table


def drop(session: Session, table: Table) -> None:
    session.execute(DropTable(table))


def grouped_by(rows: Table, by: str, severities: dict[int, str]) -> FromClause:
    """The rows with a ``key`` column for ``by`` (an incident in several groups counts in each)."""
    if by == "severity":
        names = case(severities, value=rows.c.level, else_="?") if severities else literal("?")
        return select(*rows.c, names.label("key")).subquery()
    if by in ("service", "team"):
        keys = _group_keys(by)
        missing = "(no service)" if by == "service" else "(no team)"
        key = func.coalesce(keys.c.key, missing).label("key")
        return select(*rows.c, key).outerjoin(keys, keys.c.incident_id == rows.c.id).subquery()
    return select(*rows.c, literal("all").label("key")).subquery()


def _group_keys(by: str) -> Subquery:
    """(incident, service or team slug) pairs, each pair once."""
    link = incident_service
    if by == "service":
        query = select(link.c.incident_id, Service.slug.label("key")).join(
            Service, Service.id == link.c.service_id
        )
    else:
        query = (
            select(link.c.incident_id, Team.slug.label("key"))
            .join(Service, Service.id == link.c.service_id)
            .join(Team, Team.id == Service.team_id)
        )
    return query.distinct().subquery()


@dataclass(frozen=True)
class Totals:
    """One group's aggregates as the database computed them."""

    key: str
    incidents: int
    means: dict[str, tuple[int, float | None]]
    ratios: dict[str, tuple[int, int]]  # name -> (met, known)
    updates_due: int
    updates_late: int


RATIOS = ("ack_met", "w_detection", "w_triage", "w_investigating", "pm_on_time")


def totals(session: Session, rows: FromClause) -> list[Totals]:
    columns = [rows.c.key, func.count()]
    for name in MEASURES:
        columns += [func.count(rows.c[name]), func.avg(rows.c[name])]
    for name in RATIOS:
        columns += [func.coalesce(func.sum(rows.c[name]), 0), func.count(rows.c[name])]
    columns += [
        func.coalesce(func.sum(rows.c.updates_due), 0),
        func.coalesce(func.sum(rows.c.updates_late), 0),
    ]
    found = []
    for row in session.execute(select(*columns).group_by(rows.c.key).order_by(rows.c.key)):
        values = list(row)
        key, count, rest = str(values[0]), int(values[1]), values[2:]
        means = {n: (int(rest[2 * i]), _float(rest[2 * i + 1])) for i, n in enumerate(MEASURES)}
        offset = 2 * len(MEASURES)
        ratios = {
            n: (int(rest[offset + 2 * i]), int(rest[offset + 2 * i + 1]))
            for i, n in enumerate(RATIOS)
        }
        found.append(Totals(key, count, means, ratios, int(rest[-2]), int(rest[-1])))
    return found


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def ranked(
    session: Session, rows: FromClause, measure: str
) -> dict[str, list[tuple[int, int, float]]]:
    """Per group, the values at the ranks that medians and p90s interpolate between."""
    value = rows.c[measure]
    numbered = (
        select(
            rows.c.key.label("key"),
            value.label("v"),
            func.row_number().over(partition_by=rows.c.key, order_by=value).label("rn"),
            func.count().over(partition_by=rows.c.key).label("n"),
        )
        .where(value.is_not(None))
        .subquery()
    )
    wanted = []
    for fraction in (0.5, 0.9):
        # floor, not cast: PostgreSQL rounds a cast (1.5 -> 2), SQLite truncates.
        low = cast(func.floor((numbered.c.n - 1) * fraction), Integer) + 1
        wanted += [numbered.c.rn == low, numbered.c.rn == low + 1]
    query = select(numbered.c.key, numbered.c.rn, numbered.c.n, numbered.c.v).where(
        func.coalesce(*[case((w, 1)) for w in wanted]) == 1
    )
    found: dict[str, list[tuple[int, int, float]]] = {}
    for key, rank, count, number in session.execute(query):
        found.setdefault(str(key), []).append((int(rank), int(count), float(number)))
    return found


def _conditions(rows: FromClause) -> dict[str, Any]:
    return {
        "ic_also_tech_lead": (rows.c.ic_tl == 1) & (rows.c.level <= 2),
        "late_updates": rows.c.updates_late > 0,
        "postmortem_overdue": (rows.c.pm_on_time == 0) & (rows.c.pm_published == 0),
        "postmortem_late": (rows.c.pm_on_time == 0) & (rows.c.pm_published == 1),
        "impact_without_severity": (rows.c.impact_changes >= 2) & (rows.c.severity_changes == 0),
    }


def anti_pattern_counts(session: Session, rows: FromClause) -> dict[str, int]:
    """How many incidents show each anti-pattern."""
    conditions = _conditions(rows)
    sums = [func.coalesce(func.sum(case((c, 1), else_=0)), 0) for c in conditions.values()]
    found = session.execute(select(*sums)).one()
    return {kind: int(count) for kind, count in zip(conditions, found, strict=True)}


def flagged(
    session: Session, rows: FromClause, limit: int = 100
) -> list[tuple[int, int, int, int | None, int, int, int]]:
    """The latest incidents showing an anti-pattern, with the flags that say which."""
    conditions = _conditions(rows)
    unrevisited = case((conditions["impact_without_severity"], 1), else_=0)
    query = (
        select(
            rows.c.id,
            rows.c.level,
            rows.c.ic_tl,
            rows.c.pm_on_time,
            rows.c.pm_published,
            rows.c.updates_late,
            unrevisited,
        )
        .where(or_(*conditions.values()))
        .order_by(rows.c.id.desc())
        .limit(limit)
    )
    return [tuple(row) for row in session.execute(query)]
