"""The report in SQL: per-incident figures in one temporary table, aggregated by the database.

materialize() writes one row per incident with its durations after
detection in whole milliseconds (integers list and parse at about half the
cost of exact floats) and 0/1 flags; grouped_by() pairs each row with its group
(an incident touching two services counts in each); one GROUP BY per
grouping turns them into counts, means and compliance, and hands each
group's durations over as one text list per measure, for Python to sort
and read medians and p90s from. That is one pass over the rows per
grouping, where ranking each measure in SQL took one window pass each.

Simplification: phases are taken as first reached in lifecycle order, so
"left detection" is the first of triage, investigating, mitigating, resolved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import (
    CTE,
    FromClause,
    Integer,
    Subquery,
    Table,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.schema import DropTable
from sqlalchemy.sql.elements import ColumnElement

from warroom.db.base import UTCDateTime
from warroom.incidents.models import Incident, Severity, incident_service
from warroom.postmortems.models import Postmortem
from warroom.reports.rules import PHASE_WINDOWS
from warroom.reports.sql import elapsed, instant, millis, value_list
from warroom.users.models import Service, Team

MEASURES = ("mttd", "mtta", "mttm", "mttr")  # each held in whole milliseconds
MS_PER_MINUTE = 60_000
DETECTED = func.coalesce(Incident.detection_at, Incident.declared_at)


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime


def _flag(condition: ColumnElement[bool], known: ColumnElement[bool]) -> ColumnElement[Any]:
    """1 when ``condition``, 0 when not, NULL when not ``known``."""
    return case((~known, None), (condition, 1), else_=0)


def _in_period(period: Period) -> ColumnElement[bool]:
    return and_(
        Incident.drill.is_(False),
        Incident.declared_at >= period.since,
        Incident.declared_at < period.until,
    )


def _stamps(now: datetime, period: Period) -> CTE:
    """Each incident's timestamps as instant()s, each converted once."""
    at_now = literal(now, UTCDateTime())
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
            Severity.ack_target_seconds.label("ack_target"),
            Severity.update_cadence_seconds.label("cadence"),
            instant(DETECTED).label("detected"),
            instant(Incident.declared_at).label("declared"),
            instant(Incident.first_alert_at).label("first_alert"),
            instant(Incident.acknowledged_at).label("acked"),
            instant(Incident.triage_at).label("triage"),
            instant(Incident.investigating_at).label("investigating"),
            instant(Incident.mitigating_at).label("mitigating"),
            instant(Incident.resolved_at).label("resolved"),
            instant(func.coalesce(Incident.resolved_at, Incident.dismissed_at, at_now)).label(
                "ended"
            ),
            Incident.updates_on_time.label("on_time"),
            pm_on_time.label("pm_on_time"),
            case((Postmortem.published_at.is_not(None), 1), else_=0).label("pm_published"),
            case((Incident.commander_id == Incident.tech_lead_id, 1), else_=0).label("ic_tl"),
            Incident.impact_changes.label("impact_changes"),
            Incident.severity_changes.label("severity_changes"),
        )
        .join(Severity, Severity.level == Incident.severity_level)
        .outerjoin(Postmortem, Postmortem.incident_id == Incident.id)
        .where(_in_period(period))
        # MATERIALIZED: otherwise the databases merge this select into the
        # outer one and convert each timestamp once per use in _columns()
        # rather than once per incident.
        .cte("stamps")
        .prefix_with("MATERIALIZED")
    )


def _columns(t: CTE) -> list[Any]:
    def after_detection(column: Any) -> Any:
        return elapsed(column, t.c.detected)

    lead = elapsed(t.c.detected, t.c.first_alert)
    ack = after_detection(t.c.acked)
    # A millisecond of slack: epoch arithmetic in floating point makes 150 min
    # come out as 149.99999 and one due update vanish in the truncation.
    lasted = elapsed(t.c.ended, t.c.declared) + 0.001
    due = case((t.c.cadence > 0, cast(lasted / t.c.cadence, Integer)), else_=0)
    left = {
        "detection": (t.c.triage, t.c.investigating, t.c.mitigating, t.c.resolved),
        "triage": (t.c.investigating, t.c.mitigating, t.c.resolved),
        "investigating": (t.c.mitigating, t.c.resolved),
    }
    windows = []
    for phase, reached in left.items():
        first = after_detection(func.coalesce(*reached))
        limit = int(PHASE_WINDOWS[phase].total_seconds() * 1000)
        windows.append(_flag(millis(first) <= limit, first.is_not(None)).label(f"w_{phase}"))
    known_ack = ack.is_not(None) & t.c.ack_target.is_not(None)
    return [
        t.c.id,
        t.c.level,
        t.c.pm_on_time,
        t.c.pm_published,
        t.c.ic_tl,
        t.c.impact_changes,
        t.c.severity_changes,
        case((lead < 0, 0), else_=millis(lead)).label("mttd"),
        millis(ack).label("mtta"),
        millis(after_detection(func.coalesce(t.c.mitigating, t.c.resolved))).label("mttm"),
        millis(after_detection(t.c.resolved)).label("mttr"),
        _flag(millis(ack) <= t.c.ack_target * 1000, known_ack).label("ack_met"),
        due.label("updates_due"),
        case((due > t.c.on_time, due - t.c.on_time), else_=0).label("updates_late"),
        *windows,
    ]


def materialize(session: Session, period: Period, now: datetime) -> Table:
    """The period's per-incident rows, computed once into a temporary table.

    Every aggregate of the report reads this table instead of recomputing the
    timestamp arithmetic; drop() it when done.
    """
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        _settle_postgresql(session)
    stamps = _stamps(now, period)
    create = select(*_columns(stamps)).into(f"report_{uuid4().hex[:16]}", temporary=True)
    session.execute(create)
    if postgresql:
        # Autovacuum never analyzes temporary tables; guessing how many
        # distinct ids this one holds, PostgreSQL plans the joins by team for
        # millions of rows. The other columns are only ever scanned.
        session.execute(text(f"ANALYZE {create.table.name} (id)"))
    return create.table


def _settle_postgresql(session: Session) -> None:
    """PostgreSQL settings for the rest of the report's transaction.

    jit: compiling plans to machine code pays off on queries that run for
    many seconds. The report's run for a fraction of one, but their estimated
    cost over 100,000 incidents passes the JIT thresholds, and compiling took
    longer (about 0.4 s) than running.
    work_mem: pairing 100,000 incidents with their teams overflowed the
    default 4 MB to disk in batches (a third of that query's time).
    """
    session.execute(
        text("SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)")
    )


def drop(session: Session, table: Table) -> None:
    session.execute(DropTable(table))


def grouped_by(rows: Table, by: str, severities: dict[int, str]) -> FromClause:
    """The rows with a ``key`` column for ``by`` (an incident in several groups counts in each)."""
    if by == "severity":
        names = case(severities, value=rows.c.level, else_="?") if severities else literal("?")
        return select(*rows.c, names.label("key")).subquery()
    if by == "service":
        # The link's primary key makes each (incident, service) pair unique, so
        # plain joins, which follow that key from each row, need no DISTINCT.
        link = incident_service
        joined = rows.outerjoin(link, link.c.incident_id == rows.c.id).outerjoin(
            Service, Service.id == link.c.service_id
        )
        key = func.coalesce(Service.slug, "(no service)").label("key")
        return select(*rows.c, key).select_from(joined).subquery()
    if by == "team":
        teams = _teams(rows)
        joined = rows.outerjoin(teams, teams.c.incident_id == rows.c.id).outerjoin(
            Team, Team.id == teams.c.team_id
        )
        key = func.coalesce(Team.slug, "(no team)").label("key")
        return select(*rows.c, key).select_from(joined).subquery()
    raise ValueError(f"no grouping by {by!r}")


def _teams(rows: Table) -> Subquery:
    """(incident, team) pairs of the period's incidents, each pair once."""
    link = incident_service
    return (
        select(link.c.incident_id, Service.team_id)
        .join(Service, Service.id == link.c.service_id)
        .where(Service.team_id.is_not(None), link.c.incident_id.in_(select(rows.c.id)))
        .distinct()
        .subquery()
    )


def _ints(listed: str | None) -> list[int]:
    return list(map(int, listed.split(","))) if listed else []


@dataclass(frozen=True)
class Totals:
    """One group's aggregates as the database computed them."""

    key: str
    incidents: int
    means: dict[str, float | None]  # in minutes
    values: dict[str, list[int]]  # measure -> its non-null values in ms, in no order
    ratios: dict[str, tuple[int, int]]  # name -> (met, known)
    updates_due: int
    updates_late: int


RATIOS = ("ack_met", "w_detection", "w_triage", "w_investigating", "pm_on_time")


def _aggregates(rows: FromClause, durations: bool = True) -> list[ColumnElement[Any]]:
    columns: list[ColumnElement[Any]] = [func.count()]
    for name in MEASURES:
        listed = value_list(rows.c[name]) if durations else null()
        columns += [func.avg(rows.c[name]), listed]
    for name in RATIOS:
        columns += [func.coalesce(func.sum(rows.c[name]), 0), func.count(rows.c[name])]
    columns += [
        func.coalesce(func.sum(rows.c.updates_due), 0),
        func.coalesce(func.sum(rows.c.updates_late), 0),
    ]
    return columns


def _read(key: str, found: Sequence[Any]) -> Totals:
    """Totals from the values of _aggregates(), in their order."""
    count, rest = int(found[0]), found[1:]
    means = {n: _minutes(rest[2 * i]) for i, n in enumerate(MEASURES)}
    listed = {n: _ints(rest[2 * i + 1]) for i, n in enumerate(MEASURES)}
    offset = 2 * len(MEASURES)
    ratios = {
        n: (int(rest[offset + 2 * i]), int(rest[offset + 2 * i + 1])) for i, n in enumerate(RATIOS)
    }
    return Totals(key, count, means, listed, ratios, int(rest[-2]), int(rest[-1]))


def totals(session: Session, rows: FromClause) -> list[Totals]:
    """Per group of grouped_by(): counts, means, ratios and every duration, in one pass."""
    query = select(rows.c.key, *_aggregates(rows)).group_by(rows.c.key).order_by(rows.c.key)
    return [_read(str(row[0]), row[1:]) for row in session.execute(query)]


def overall(session: Session, rows: Table, *, durations: bool = True) -> Totals | None:
    """The same figures over all the rows (without durations if not ``durations``).

    None when there are no rows.
    """
    # No GROUP BY: SQLite would sort every row by a key that never changes.
    found = _read("all", session.execute(select(*_aggregates(rows, durations))).one())
    return found if found.incidents else None


def _minutes(millis: Any) -> float | None:
    return None if millis is None else float(millis) / MS_PER_MINUTE


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
