"""Alert service test world: two services, a responder, and one integration per service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import make_service, make_user
from warroom.alerts import integrations, sources
from warroom.alerts import service as alert_service
from warroom.alerts.events import Action, AlertEvent, AlertSeverity
from warroom.alerts.integrations import IntegrationType
from warroom.alerts.models import Alert, Integration
from warroom.alerts.service import IngestResult
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident, TimelineEntry


def event(
    action: Action = Action.TRIGGER,
    key: str = "disk-full-db1",
    *,
    summary: str = "Disk full on db1",
    severity: AlertSeverity = AlertSeverity.CRITICAL,
    **labels: str,
) -> AlertEvent:
    """An alert event as a parser would hand it to the service."""
    return AlertEvent(
        action=action,
        dedup_key=key,
        summary=summary,
        source="db1",
        severity=severity,
        labels={"severity": severity.value, **labels},
        details={"free": "0 bytes"},
    )


@dataclass
class World:
    """Handles for one test: sessions, clock and the ids of what was made."""

    sessions: SessionFactory
    clock: FixedClock
    checkout: int  # a PagerDuty integration on service "checkout"
    search: int  # an Alertmanager integration on service "search"
    user_id: int

    def ingest(self, ev: AlertEvent, integration_id: int | None = None) -> IngestResult:
        with unit_of_work(self.sessions) as session:
            found = sources.by_id(session, integration_id or self.checkout)
            assert found is not None
            return alert_service.ingest(
                session=session, now=self.clock.now(), source=found, event=ev
            )

    def alerts(self) -> list[dict[str, Any]]:
        with unit_of_work(self.sessions, write=False) as session:
            rows = session.scalars(select(Alert).order_by(Alert.id))
            return [_alert_dict(a) for a in rows]

    def incidents(self) -> list[dict[str, Any]]:
        with unit_of_work(self.sessions, write=False) as session:
            rows = session.scalars(select(Incident).order_by(Incident.id)).unique()
            return [_incident_dict(i) for i in rows]

    def timeline(self, incident_id: int) -> list[tuple[str, str]]:
        with unit_of_work(self.sessions, write=False) as session:
            incident = session.get(Incident, incident_id)
            assert incident is not None
            entries = incident_service.timeline(session=session, incident=incident)
            return [(e.kind, e.text) for e in entries]

    def count(self, model: type[Alert] | type[Incident] | type[TimelineEntry]) -> int:
        with unit_of_work(self.sessions, write=False) as session:
            return session.scalar(select(func.count()).select_from(model)) or 0


def _alert_dict(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "key": alert.dedup_key,
        "status": alert.status,
        "count": alert.count,
        "incident_id": alert.incident_id,
        "service": alert.service.slug,
        "severity": alert.severity,
        "urgency": alert.urgency,
        "first_seen_at": alert.first_seen_at,
        "last_seen_at": alert.last_seen_at,
        "acknowledged_at": alert.acknowledged_at,
        "resolved_at": alert.resolved_at,
        "grouping_reason": alert.grouping_reason,
        "matched_rule": alert.matched_rule,
        "summary": alert.summary,
    }


def _incident_dict(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "title": incident.title,
        "phase": incident.phase,
        "severity_level": incident.severity_level,
        "acknowledged_at": incident.acknowledged_at,
        "services": [s.slug for s in incident.services],
        "drill": incident.drill,
    }


def make_integration(
    session: Session, world_clock: FixedClock, slug: str, type_: IntegrationType, **extra: Any
) -> tuple[Integration, str]:
    return integrations.create(
        session=session, now=world_clock.now(), service_slug=slug, type_=type_, **extra
    )


def build_world(sessions: SessionFactory, clock: FixedClock) -> World:
    """Make the responder, services and integrations every alert test starts with."""
    with unit_of_work(sessions) as session:
        user = make_user(session, clock.now(), "rita", "responder")
        make_service(session, clock.now(), "checkout")
        make_service(session, clock.now(), "search")
        checkout, _ = make_integration(session, clock, "checkout", IntegrationType.PAGERDUTY)
        search, _ = make_integration(session, clock, "search", IntegrationType.ALERTMANAGER)
        ids = (checkout.id, search.id, user.id)
    return World(sessions, clock, *ids)
