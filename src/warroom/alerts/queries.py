"""Alert queries and change events. Flushes, never commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.alerts.events import ChangeEvent
from warroom.alerts.models import Alert, Integration
from warroom.alerts.models import ChangeEvent as ChangeRow
from warroom.alerts.rules import AlertStatus
from warroom.alerts.sources import Source
from warroom.incidents.models import Incident
from warroom.users import service as user_service
from warroom.users.models import Service


def record_change(
    *, session: Session, now: datetime, integration: Integration | Source, change: ChangeEvent
) -> ChangeRow:
    """Store a change event (deploy, config change) for the integration's service."""
    row = ChangeRow(
        service_id=integration.service_id,
        integration_id=integration.id,
        summary=change.summary,
        source=change.source,
        occurred_at=change.occurred_at or now,
        received_at=now,
        details=change.details,
        links=change.links,
    )
    session.add(row)
    session.flush()
    return row


def get_service(session: Session, slug: str) -> Service:
    """The service with ``slug``, or Invalid."""
    return user_service.get_service_or_raise(session=session, slug=slug)


def list_alerts(
    *,
    session: Session,
    open_only: bool = False,
    service: str | None = None,
    incident_id: int | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[Alert]:
    """Alerts, newest first, with optional filters; ``after_id`` pages backwards."""
    query = select(Alert).order_by(Alert.id.desc()).limit(limit)
    if open_only:
        query = query.where(Alert.status != AlertStatus.RESOLVED.value)
    if service:
        query = query.where(Alert.service_id == get_service(session, service).id)
    if incident_id is not None:
        query = query.where(Alert.incident_id == incident_id)
    if after_id is not None:
        query = query.where(Alert.id < after_id)
    return list(session.scalars(query))


def changes_before(*, session: Session, incident: Incident, window: timedelta) -> list[ChangeRow]:
    """Change events on the incident's services in ``window`` before it began."""
    service_ids = [s.id for s in incident.services]
    if not service_ids:
        return []
    start = incident.declared_at - window
    query = (
        select(ChangeRow)
        .where(
            ChangeRow.service_id.in_(service_ids),
            ChangeRow.occurred_at >= start,
            ChangeRow.occurred_at <= incident.declared_at,
        )
        .order_by(ChangeRow.occurred_at.desc())
        .limit(100)
    )
    return list(session.scalars(query))


def list_changes(*, session: Session, service: str, limit: int = 50) -> list[ChangeRow]:
    """A service's newest change events."""
    service_id = get_service(session, service).id
    query = (
        select(ChangeRow)
        .where(ChangeRow.service_id == service_id)
        .order_by(ChangeRow.occurred_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
