"""What the reports read: one row per incident of a period, gathered in a few grouped queries.

Each query is one pass with GROUP BY or a join over the period's incidents
(drills excluded), so a 90-day report over 100,000 incidents stays a
handful of statements; the statistics are then computed in rules.py.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from warroom.alerts.models import Alert
from warroom.incidents.models import (
    Incident,
    InternalUpdate,
    Severity,
    TimelineEntry,
    incident_service,
)
from warroom.postmortems.models import Postmortem
from warroom.reports.rules import IncidentTimes
from warroom.users.models import Service, Team

IMPACT_PREFIX = "Customer impact:"


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime


def _in_period(period: Period) -> Select[int]:
    return select(Incident.id).where(
        Incident.drill.is_(False),
        Incident.declared_at >= period.since,
        Incident.declared_at < period.until,
    )


def _services(session: Session, ids: Select[int]) -> dict[int, tuple[list[str], list[str]]]:
    rows = session.execute(
        select(incident_service.c.incident_id, Service.slug, Team.slug)
        .join(Service, Service.id == incident_service.c.service_id)
        .outerjoin(Team, Team.id == Service.team_id)
        .where(incident_service.c.incident_id.in_(ids.scalar_subquery()))
    )
    found: dict[int, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for incident_id, service, team in rows:
        found[incident_id][0].append(service)
        if team and team not in found[incident_id][1]:
            found[incident_id][1].append(team)
    return found


def _first_alerts(session: Session, ids: Select[int]) -> dict[int, datetime]:
    rows = session.execute(
        select(Alert.incident_id, func.min(Alert.occurred_at))
        .where(Alert.incident_id.in_(ids.scalar_subquery()))
        .group_by(Alert.incident_id)
    )
    return {int(i): first for i, first in rows if i is not None and first is not None}


def _entry_counts(session: Session, ids: Select[int]) -> dict[int, tuple[int, int]]:
    """(impact changes, severity changes) per incident."""
    impact = func.sum(case((TimelineEntry.text.startswith(IMPACT_PREFIX), 1), else_=0))
    severity = func.sum(case((TimelineEntry.kind == "severity_changed", 1), else_=0))
    rows = session.execute(
        select(TimelineEntry.incident_id, impact, severity)
        .where(
            TimelineEntry.incident_id.in_(ids.scalar_subquery()),
            TimelineEntry.kind.in_(("field_changed", "severity_changed")),
        )
        .group_by(TimelineEntry.incident_id)
    )
    return {incident_id: (int(i or 0), int(s or 0)) for incident_id, i, s in rows}


def _updates(
    session: Session, ids: Select[int]
) -> dict[int, list[tuple[datetime, datetime | None]]]:
    rows = session.execute(
        select(
            InternalUpdate.incident_id, InternalUpdate.posted_at, InternalUpdate.next_update_due_at
        )
        .where(InternalUpdate.incident_id.in_(ids.scalar_subquery()))
        .order_by(InternalUpdate.incident_id, InternalUpdate.posted_at)
    )
    found: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for incident_id, posted, due in rows:
        found[incident_id].append((posted, due))
    return found


def update_counts(
    declared: datetime,
    end: datetime,
    cadence: timedelta | None,
    updates: list[tuple[datetime, datetime | None]],
) -> tuple[int, int]:
    """(updates due, updates late or missing) over [declared, end] on the cadence."""
    if cadence is None or cadence.total_seconds() <= 0:
        return 0, 0
    expected = math.floor((end - declared) / cadence)
    due_at, on_time = declared + cadence, 0
    for posted, next_due in updates:
        on_time += posted <= due_at
        due_at = next_due or posted + cadence
    return expected, max(0, expected - on_time)


def incident_times(session: Session, period: Period, now: datetime) -> list[IncidentTimes]:
    """Every non-drill incident declared in the period, with what the metrics need."""
    ids = _in_period(period)
    services = _services(session, ids)
    first_alerts = _first_alerts(session, ids)
    counts = _entry_counts(session, ids)
    updates = _updates(session, ids)
    rows = session.execute(
        select(Incident, Severity, Postmortem.due_at, Postmortem.published_at)
        .join(Severity, Severity.level == Incident.severity_level)
        .outerjoin(Postmortem, and_(Postmortem.incident_id == Incident.id))
        .where(Incident.id.in_(ids.scalar_subquery()))
        .order_by(Incident.id)
    )
    result = []
    for incident, severity, pm_due, pm_published in rows:
        cadence = (
            timedelta(seconds=severity.update_cadence_seconds)
            if severity.update_cadence_seconds
            else None
        )
        end = incident.resolved_at or incident.dismissed_at or now
        due, late = update_counts(incident.declared_at, end, cadence, updates.get(incident.id, []))
        impact_changes, severity_changes = counts.get(incident.id, (0, 0))
        slugs, teams = services.get(incident.id, ([], []))
        result.append(
            IncidentTimes(
                id=incident.id,
                severity=severity.name,
                severity_rank=severity.level,
                services=tuple(sorted(slugs)),
                teams=tuple(sorted(teams)),
                detection_at=incident.detection_at or incident.declared_at,
                impact_start_at=first_alerts.get(incident.id),
                acknowledged_at=incident.acknowledged_at,
                triage_at=incident.triage_at,
                investigating_at=incident.investigating_at,
                mitigating_at=incident.mitigating_at,
                resolved_at=incident.resolved_at,
                ack_target=timedelta(seconds=severity.ack_target_seconds)
                if severity.ack_target_seconds
                else None,
                updates_due=due,
                updates_late=late,
                ic_also_tech_lead=incident.commander_id is not None
                and incident.commander_id == incident.tech_lead_id,
                postmortem_required=incident.postmortem_status is not None,
                postmortem_due_at=pm_due,
                postmortem_published_at=pm_published,
                impact_changed_without_severity_change=impact_changes >= 2
                and severity_changes == 0,
            )
        )
    return result
