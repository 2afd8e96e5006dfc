"""Alert ingestion: dedup by key, routing, grouping into incidents. Flushes, never commits.

Triggers take the hot path in triggers.py; acknowledgements and resolutions,
rarer and richer in consequences, go through the ORM here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warroom.alerts import bulk, rules, triggers
from warroom.alerts.events import Action, AlertEvent
from warroom.alerts.models import Alert, ServiceAlertSettings
from warroom.alerts.rules import AlertStatus, Outcome
from warroom.alerts.sources import Source
from warroom.alerts.triggers import IngestResult
from warroom.escalation import service as paging
from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident
from warroom.incidents.rules import Phase, format_ref
from warroom.postmortems import service as postmortems

__all__ = ["IngestResult", "ingest", "open_alert"]


def ingest(*, session: Session, now: datetime, source: Source, event: AlertEvent) -> IngestResult:
    """Apply one alert event: dedup by key, route, and group into an incident."""
    if event.action is Action.TRIGGER:
        return triggers.trigger(session=session, now=now, source=source, event=event)
    bulk.flush(session)  # what follows reads alerts through the ORM
    alert = open_alert(session, source.id, event.dedup_key)
    outcome = rules.decide(event.action, AlertStatus(alert.status) if alert else None)
    if alert is None:
        return IngestResult(outcome, event.dedup_key)
    if outcome is Outcome.ACKNOWLEDGE:
        _acknowledge(session, now, alert)
    elif outcome is Outcome.RESOLVE:
        _resolve(session, now, alert)
    session.flush()
    ref = format_ref(alert.incident_id) if alert.incident_id else None
    return IngestResult(outcome, event.dedup_key, alert.id, ref)


def open_alert(session: Session, integration_id: int, dedup_key: str) -> Alert | None:
    """The open alert with ``dedup_key`` on this integration, locked for update."""
    query = (
        select(Alert)
        .where(
            Alert.integration_id == integration_id,
            Alert.dedup_key == dedup_key,
            Alert.status != AlertStatus.RESOLVED.value,
        )
        .with_for_update(of=Alert)
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).first()


def _acknowledge(session: Session, now: datetime, alert: Alert) -> None:
    alert.status = AlertStatus.ACKNOWLEDGED.value
    alert.acknowledged_at = now
    incident = alert.incident
    if incident is not None and incident.acknowledged_at is None:
        incident_service.acknowledge(
            session=session,
            now=now,
            actor=None,
            incident=incident,
            via=f"integration {alert.integration.name}",
        )
        paging.stop_for_incident(
            session=session,
            now=now,
            incident=incident,
            actor=None,
            why="acknowledged at the source",
        )


def _resolve(session: Session, now: datetime, alert: Alert) -> None:
    alert.status = AlertStatus.RESOLVED.value
    alert.resolved_at = now
    incident = alert.incident
    if incident is None:
        return
    session.flush()
    incident_service.record(
        session=session,
        incident=incident,
        now=now,
        actor=None,
        kind="alert_resolved",
        text=f"Alert resolved: {alert.summary[:300]}",
        data={"alert_id": alert.id},
    )
    if _should_self_resolve(session, incident, alert.service_id):
        incident_service.change_phase(
            session=session,
            now=now,
            actor=None,
            incident=incident,
            phase=Phase.RESOLVED,
            note="all its alerts resolved before anyone acknowledged",
        )
        paging.stop_for_incident(
            session=session, now=now, incident=incident, actor=None, why="its alerts resolved"
        )
        postmortems.ensure_draft(session=session, now=now, incident=incident)
        triggers.forget_open_incident(session, alert.service_id, incident.id)


def _should_self_resolve(session: Session, incident: Incident, service_id: int) -> bool:
    still_open = (
        session.scalar(
            select(func.count())
            .select_from(Alert)
            .where(Alert.incident_id == incident.id, Alert.status != AlertStatus.RESOLVED.value)
        )
        or 0
    )
    settings = session.get(ServiceAlertSettings, service_id)
    return rules.should_self_resolve(
        phase=incident.phase,
        acknowledged=incident.acknowledged_at is not None,
        open_alerts=int(still_open),
        enabled=settings.auto_resolve if settings else True,
    )
