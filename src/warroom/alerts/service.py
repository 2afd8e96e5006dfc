"""Alert ingestion: dedup by key, routing, grouping into incidents. Flushes, never commits.

This is the hot path of a bad hour (design.md): the common cases, a repeat
of an open alert and a new alert joining an open incident, are a single
UPDATE ... RETURNING or two INSERTs. Lookups that every event of a batch
shares (routing rules, the service's open incident) are cached in the
session's ``info`` for the length of one transaction; the group committer
drops that cache whenever it rolls back a savepoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from warroom.alerts import rules
from warroom.alerts.events import Action, AlertEvent
from warroom.alerts.models import Alert, Integration, ServiceAlertSettings
from warroom.alerts.rules import AlertStatus, Outcome, Placement, RoutingRule
from warroom.errors import Invalid
from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident, Severity, TimelineEntry
from warroom.incidents.rules import OPEN_PHASES, Phase, format_ref
from warroom.incidents.schemas import IncidentCreate
from warroom.users.models import Service

TITLE_LIMIT = 200
CONTEXT_KEY = "warroom.ingest"
OPEN_VALUES = [p.value for p in OPEN_PHASES]


@dataclass(frozen=True)
class IngestResult:
    """What happened to one event."""

    outcome: Outcome
    dedup_key: str
    alert_id: int | None = None
    incident_ref: str | None = None


@dataclass
class _Context:
    rules: dict[int, list[RoutingRule]] = field(default_factory=dict)
    open_incident: dict[int, int | None] = field(default_factory=dict)


def _context(session: Session) -> _Context:
    context = session.info.get(CONTEXT_KEY)
    if context is None:
        context = session.info[CONTEXT_KEY] = _Context()
    return context


def _settings(session: Session, service_id: int) -> ServiceAlertSettings | None:
    return session.get(ServiceAlertSettings, service_id)


def routing_rules(session: Session, integration: Integration) -> list[RoutingRule]:
    """The integration's rules, then its service's, in evaluation order."""
    cache = _context(session).rules
    if integration.id not in cache:
        settings = _settings(session, integration.service_id)
        raw = list(integration.rules or []) + list(settings.rules if settings else [])
        cache[integration.id] = [rules.rule_from(item) for item in raw]
    return cache[integration.id]


def ingest(
    *, session: Session, now: datetime, integration: Integration, event: AlertEvent
) -> IngestResult:
    """Apply one alert event: dedup by key, route, and group into an incident."""
    if event.action is Action.TRIGGER:
        bumped = _bump(session, now, integration, event)
        if bumped is not None:
            return IngestResult(Outcome.BUMP, event.dedup_key, *bumped)
        # Routing rules place new alerts only: an ack or resolve must always reach
        # the alert it names, whatever its (often empty) payload would match.
        rule = rules.route(routing_rules(session, integration), event)
        if rule is not None and rule.drop:
            return IngestResult(Outcome.DROP, event.dedup_key)
        _retire_stale(session, now, integration, event.dedup_key)
        return _open(session, now, integration, event, rule)
    alert = open_alert(session, integration, event.dedup_key)
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


def open_alert(session: Session, integration: Integration, dedup_key: str) -> Alert | None:
    """The open alert with ``dedup_key`` on this integration, locked for update."""
    query = (
        select(Alert)
        .where(
            Alert.integration_id == integration.id,
            Alert.dedup_key == dedup_key,
            Alert.status != AlertStatus.RESOLVED.value,
        )
        .with_for_update(of=Alert)
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).first()


def _bump(
    session: Session, now: datetime, integration: Integration, event: AlertEvent
) -> tuple[int, str | None] | None:
    """Count a repeat of an open alert whose incident is still open; None otherwise."""
    values: dict[str, object] = {"count": Alert.count + 1, "last_seen_at": now}
    if event.summary:
        values["summary"] = event.summary
    open_incidents = select(Incident.id).where(Incident.phase.in_(OPEN_VALUES))
    statement = (
        update(Alert)
        .where(
            Alert.integration_id == integration.id,
            Alert.dedup_key == event.dedup_key,
            Alert.status != AlertStatus.RESOLVED.value,
            Alert.incident_id.in_(open_incidents),
        )
        .values(values)
        .returning(Alert.id, Alert.incident_id)
        .execution_options(synchronize_session=False)
    )
    row = session.execute(statement).first()
    if row is None:
        return None
    return row.id, format_ref(row.incident_id) if row.incident_id else None


def _retire_stale(session: Session, now: datetime, integration: Integration, key: str) -> None:
    """Resolve an open alert whose incident people already ended.

    When someone resolves an incident while its source still fires, the next
    trigger must page again as a new alert (and incident), not just count up.
    """
    session.execute(
        update(Alert)
        .where(
            Alert.integration_id == integration.id,
            Alert.dedup_key == key,
            Alert.status != AlertStatus.RESOLVED.value,
        )
        .values(status=AlertStatus.RESOLVED.value, resolved_at=now)
        .execution_options(synchronize_session=False)
    )


def _target_service(
    session: Session, integration: Integration, rule: RoutingRule | None
) -> Service:
    if rule is not None and rule.service and rule.service != integration.service.slug:
        found = session.scalars(select(Service).where(Service.slug == rule.service)).first()
        if found is not None:
            return found
    return integration.service


def _open_incident_id(session: Session, service_id: int) -> int | None:
    cache = _context(session).open_incident
    if service_id not in cache:
        found = incident_service.open_incident_for_service(session=session, service_id=service_id)
        cache[service_id] = found.id if found else None
    return cache[service_id]


def _open(
    session: Session,
    now: datetime,
    integration: Integration,
    event: AlertEvent,
    rule: RoutingRule | None,
) -> IngestResult:
    service = _target_service(session, integration, rule)
    incident_id = _open_incident_id(session, service.id)
    placement = rules.place(event, rule, service=service.slug, open_incident=incident_id)
    if incident_id is None:
        incident_id = _new_incident(session, now, event, service, placement)
        _context(session).open_incident[service.id] = incident_id
    alert_id = session.execute(
        insert(Alert).returning(Alert.id),
        [_alert_row(integration, service, incident_id, event, placement, rule, now)],
    ).scalar_one()
    session.execute(
        insert(TimelineEntry),
        [
            {
                "incident_id": incident_id,
                "at": now,
                "recorded_at": now,
                "actor_id": None,
                "kind": "alert_triggered",
                "text": f"Alert {event.severity.value}: {event.summary[:300]} ({placement.reason})",
                "data": {
                    "alert_id": alert_id,
                    "dedup_key": event.dedup_key,
                    "integration": integration.name,
                    "rule": rule.name if rule else None,
                },
                "corrects_id": None,
            }
        ],
    )
    return IngestResult(Outcome.NEW, event.dedup_key, alert_id, format_ref(incident_id))


def _alert_row(
    integration: Integration,
    service: Service,
    incident_id: int,
    event: AlertEvent,
    placement: Placement,
    rule: RoutingRule | None,
    now: datetime,
) -> dict[str, object]:
    return {
        "integration_id": integration.id,
        "service_id": service.id,
        "incident_id": incident_id,
        "dedup_key": event.dedup_key,
        "status": AlertStatus.TRIGGERED.value,
        "summary": event.summary,
        "source": event.source,
        "severity": event.severity.value,
        "urgency": placement.urgency,
        "labels": event.labels,
        "details": event.details,
        "links": event.links,
        "client": event.client,
        "client_url": event.client_url,
        "group_key": event.group_key,
        "count": 1,
        "occurred_at": event.occurred_at,
        "first_seen_at": now,
        "last_seen_at": now,
        "acknowledged_at": None,
        "resolved_at": None,
        "grouping_reason": placement.reason,
        "matched_rule": rule.name if rule else None,
    }


def _new_incident(
    session: Session, now: datetime, event: AlertEvent, service: Service, placement: Placement
) -> int:
    title = event.summary.strip().splitlines()[0][:TITLE_LIMIT] if event.summary.strip() else ""
    phase = Phase.TRIAGE if placement.declare else Phase.DETECTION
    create = IncidentCreate(
        title=title or "Alert", severity=placement.severity, services=[service.slug]
    )
    try:
        incident = incident_service.declare(
            session=session, now=now, actor=None, phase=phase, incident_in=create
        )
    except Invalid:
        # A rule named a severity level the organisation has since removed:
        # open the incident at the least severe level rather than lose the alert.
        create = create.model_copy(update={"severity": _least_severe(session)})
        incident = incident_service.declare(
            session=session, now=now, actor=None, phase=phase, incident_in=create
        )
    return incident.id


def _least_severe(session: Session) -> int:
    return int(session.scalar(select(func.max(Severity.level))) or 1)


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
        _context(session).open_incident.pop(alert.service_id, None)


def _should_self_resolve(session: Session, incident: Incident, service_id: int) -> bool:
    session.refresh(incident, ["phase", "acknowledged_at"])
    still_open = (
        session.scalar(
            select(func.count())
            .select_from(Alert)
            .where(Alert.incident_id == incident.id, Alert.status != AlertStatus.RESOLVED.value)
        )
        or 0
    )
    settings = _settings(session, service_id)
    return rules.should_self_resolve(
        phase=incident.phase,
        acknowledged=incident.acknowledged_at is not None,
        open_alerts=int(still_open),
        enabled=settings.auto_resolve if settings else True,
    )
