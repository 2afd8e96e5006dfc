"""JSON API for integrations, alerts, change events, alert settings and reports."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from warroom.alerts import integrations, reports
from warroom.alerts import queries as alert_queries
from warroom.alerts.integrations import IntegrationType
from warroom.alerts.models import Alert, Integration
from warroom.alerts.models import ChangeEvent as ChangeRow
from warroom.alerts.rules import MASK, SECRET_CONFIG_KEYS
from warroom.alerts.schemas import (
    AlertPage,
    AlertRead,
    AlertSettingsRead,
    AlertSettingsWrite,
    ChangeRead,
    IntegrationCreate,
    IntegrationKey,
    IntegrationRead,
    IntegrationUpdate,
    ReportCreate,
    ReportRead,
)
from warroom.db.uow import unit_of_work
from warroom.incidents import service as incident_service
from warroom.incidents.queries import decode_cursor, encode_cursor
from warroom.incidents.rules import format_ref
from warroom.web.deps import Admin, ClockDep, Responder, Sessions, Viewer

router = APIRouter(prefix="/api/v1")
IntegrationId = Annotated[int, Path(ge=1)]


def endpoint_of(request: Request, integration: Integration, key: str = "KEY") -> str:
    """The URL a tool should send this integration's events to."""
    base = request.app.state.settings.base_url
    if integration.type == IntegrationType.PAGERDUTY.value:
        return f"{base}/v2/enqueue"
    return f"{base}/integrations/{integration.type}/{key}"


def integration_read(request: Request, integration: Integration) -> IntegrationRead:
    config = {
        k: (MASK if k in SECRET_CONFIG_KEYS else v) for k, v in (integration.config or {}).items()
    }
    return IntegrationRead(
        id=integration.id,
        service=integration.service.slug,
        type=integration.type,
        name=integration.name,
        key_prefix=integration.key_prefix,
        rate_limit_per_minute=integration.rate_limit_per_minute,
        rules=integration.rules or [],
        config=config,
        endpoint=endpoint_of(request, integration),
        created_at=integration.created_at,
        rotated_at=integration.rotated_at,
        revoked_at=integration.revoked_at,
    )


def alert_read(alert: Alert) -> AlertRead:
    return AlertRead(
        id=alert.id,
        dedup_key=alert.dedup_key,
        status=alert.status,
        summary=alert.summary,
        source=alert.source,
        severity=alert.severity,
        urgency=alert.urgency,
        service=alert.service.slug,
        integration=alert.integration.name,
        incident=format_ref(alert.incident_id) if alert.incident_id else None,
        count=alert.count,
        labels=alert.labels or {},
        details=alert.details,
        links=alert.links or [],
        first_seen_at=alert.first_seen_at,
        last_seen_at=alert.last_seen_at,
        acknowledged_at=alert.acknowledged_at,
        resolved_at=alert.resolved_at,
        grouping_reason=alert.grouping_reason,
        matched_rule=alert.matched_rule,
    )


def change_read(row: ChangeRow, service: str) -> ChangeRead:
    return ChangeRead(
        id=row.id,
        service=service,
        summary=row.summary,
        source=row.source,
        occurred_at=row.occurred_at,
        details=row.details,
        links=row.links or [],
    )


@router.post("/integrations", status_code=status.HTTP_201_CREATED, tags=["integrations"])
def create_integration(
    body: IntegrationCreate, request: Request, _: Admin, sessions: Sessions, clock: ClockDep
) -> IntegrationKey:
    """Create an integration; its key is in this answer only (stored hashed)."""
    with unit_of_work(sessions) as session:
        integration, key = integrations.create(
            session=session,
            now=clock.now(),
            service_slug=body.service,
            type_=IntegrationType(body.type),
            name=body.name,
            rate_limit_per_minute=body.rate_limit_per_minute,
            rules_json=body.rules,
            config=body.config,
        )
        return IntegrationKey(
            id=integration.id, key=key, endpoint=endpoint_of(request, integration, key)
        )


@router.get("/integrations", tags=["integrations"])
def list_integrations(
    request: Request,
    _: Viewer,
    sessions: Sessions,
    service: Annotated[str | None, Query(max_length=63)] = None,
) -> list[IntegrationRead]:
    """Integrations (never their keys)."""
    with unit_of_work(sessions, write=False) as session:
        rows = integrations.list_integrations(session=session, service_slug=service)
        return [integration_read(request, r) for r in rows]


@router.patch("/integrations/{integration_id}", tags=["integrations"])
def update_integration(
    integration_id: IntegrationId,
    body: IntegrationUpdate,
    request: Request,
    _: Admin,
    sessions: Sessions,
) -> IntegrationRead:
    """Change an integration's name, rate limit, routing rules or format settings."""
    with unit_of_work(sessions) as session:
        found = integrations.get_or_404(session=session, integration_id=integration_id)
        integrations.update(
            session=session,
            integration=found,
            name=body.name,
            rate_limit_per_minute=body.rate_limit_per_minute,
            rules_json=body.rules,
            config=body.config,
        )
        return integration_read(request, found)


@router.post("/integrations/{integration_id}/rotate", tags=["integrations"])
def rotate_integration(
    integration_id: IntegrationId, request: Request, _: Admin, sessions: Sessions, clock: ClockDep
) -> IntegrationKey:
    """Issue a new key; the old one keeps working for 24 hours."""
    with unit_of_work(sessions) as session:
        found = integrations.get_or_404(session=session, integration_id=integration_id)
        key = integrations.rotate(session=session, now=clock.now(), integration=found)
        return IntegrationKey(id=found.id, key=key, endpoint=endpoint_of(request, found, key))


@router.delete("/integrations/{integration_id}", tags=["integrations"])
def revoke_integration(
    integration_id: IntegrationId, request: Request, _: Admin, sessions: Sessions, clock: ClockDep
) -> IntegrationRead:
    """Revoke an integration: its keys stop working at once."""
    with unit_of_work(sessions) as session:
        found = integrations.get_or_404(session=session, integration_id=integration_id)
        integrations.revoke(session=session, now=clock.now(), integration=found)
        return integration_read(request, found)


@router.get("/alerts", tags=["alerts"])
def list_alerts(
    _: Viewer,
    sessions: Sessions,
    open: Annotated[bool, Query()] = False,
    service: Annotated[str | None, Query(max_length=63)] = None,
    incident: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AlertPage:
    """Alerts, newest first; follow ``next_cursor`` for more."""
    with unit_of_work(sessions, write=False) as session:
        incident_id = (
            incident_service.get_by_ref(session=session, ref=incident).id if incident else None
        )
        rows = alert_queries.list_alerts(
            session=session,
            open_only=open,
            service=service,
            incident_id=incident_id,
            after_id=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
        )
        next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
        return AlertPage(items=[alert_read(a) for a in rows[:limit]], next_cursor=next_cursor)


@router.get("/incidents/{ref}/changes", tags=["alerts"])
def incident_changes(
    ref: Annotated[str, Path(max_length=32)],
    _: Viewer,
    sessions: Sessions,
    hours: Annotated[int, Query(ge=1, le=168)] = 6,
) -> list[ChangeRead]:
    """Changes on the incident's services in the hours before it was declared."""
    with unit_of_work(sessions, write=False) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref)
        slugs = {s.id: s.slug for s in incident.services}
        rows = alert_queries.changes_before(
            session=session, incident=incident, window=timedelta(hours=hours)
        )
        return [change_read(r, slugs[r.service_id]) for r in rows]


@router.get("/services/{slug}/changes", tags=["alerts"])
def service_changes(
    slug: Annotated[str, Path(max_length=63)], _: Viewer, sessions: Sessions
) -> list[ChangeRead]:
    """A service's newest change events."""
    with unit_of_work(sessions, write=False) as session:
        rows = alert_queries.list_changes(session=session, service=slug)
        return [change_read(r, slug) for r in rows]


@router.get("/services/{slug}/alert-settings", tags=["alerts"])
def get_alert_settings(
    slug: Annotated[str, Path(max_length=63)], _: Viewer, sessions: Sessions
) -> AlertSettingsRead:
    """A service's routing rules and whether its alerts may resolve incidents."""
    with unit_of_work(sessions, write=False) as session:
        service, rules_json, auto_resolve = reports.get_settings(session=session, service_slug=slug)
        return AlertSettingsRead(service=service, rules=rules_json, auto_resolve=auto_resolve)


@router.put("/services/{slug}/alert-settings", tags=["alerts"])
def put_alert_settings(
    slug: Annotated[str, Path(max_length=63)],
    body: AlertSettingsWrite,
    _: Admin,
    sessions: Sessions,
) -> AlertSettingsRead:
    """Replace a service's routing rules and self-resolution flag (admins)."""
    with unit_of_work(sessions) as session:
        reports.put_settings(
            session=session,
            service_slug=slug,
            rules_json=body.rules,
            auto_resolve=body.auto_resolve,
        )
        service, rules_json, auto_resolve = reports.get_settings(session=session, service_slug=slug)
        return AlertSettingsRead(service=service, rules=rules_json, auto_resolve=auto_resolve)


@router.post("/reports", status_code=status.HTTP_201_CREATED, tags=["alerts"])
def customer_report(
    body: ReportCreate, principal: Responder, sessions: Sessions, clock: ClockDep
) -> ReportRead:
    """Record a customer report: it joins the service's open incident or opens one."""
    with unit_of_work(sessions) as session:
        incident, joined = reports.report(
            session=session,
            now=clock.now(),
            actor=principal.load(session),
            text=body.text,
            service_slug=body.service,
            reporter=body.reporter,
        )
        return ReportRead(incident=format_ref(incident.id), joined=joined)
