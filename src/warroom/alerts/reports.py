"""Customer reports and per-service alert settings. Flushes, never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from warroom.alerts import rules
from warroom.alerts.models import ServiceAlertSettings
from warroom.errors import Invalid
from warroom.escalation import service as paging
from warroom.incidents import queries as incident_queries
from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident
from warroom.incidents.rules import Phase
from warroom.incidents.schemas import IncidentCreate
from warroom.users import service as user_service
from warroom.users.models import User

REPORT_SEVERITY = 3


def report(
    *,
    session: Session,
    now: datetime,
    actor: User,
    text: str,
    service_slug: str | None,
    reporter: str = "",
) -> tuple[Incident, bool]:
    """A customer report: join the service's open incident, or open one in detection."""
    incident = None
    slugs: list[str] = []
    if service_slug:
        service = user_service.get_service_or_raise(session=session, slug=service_slug)
        slugs = [service.slug]
        incident = incident_queries.open_incident_for_service(
            session=session, service_id=service.id
        )
    joined = incident is not None
    if incident is None:
        first_line = text.strip().splitlines()[0][:180]
        incident = incident_service.declare(
            session=session,
            now=now,
            actor=actor,
            phase=Phase.DETECTION,
            incident_in=IncidentCreate(
                title=f"Customer report: {first_line}", severity=REPORT_SEVERITY, services=slugs
            ),
        )
        paging.start(session=session, now=now, incident=incident)
    who = f" from {reporter}" if reporter else ""
    incident_service.record(
        session=session,
        incident=incident,
        now=now,
        actor=actor,
        kind="customer_report",
        text=f"Customer report{who}: {text}",
        data={"reporter": reporter, "joined": joined},
    )
    session.flush()
    return incident, joined


def get_settings(*, session: Session, service_slug: str) -> tuple[str, list[Any], bool]:
    """A service's routing rules and self-resolution flag (defaults when unset)."""
    service = user_service.get_service_or_raise(session=session, slug=service_slug)
    row = session.get(ServiceAlertSettings, service.id)
    return service.slug, list(row.rules) if row else [], row.auto_resolve if row else True


def put_settings(
    *, session: Session, service_slug: str, rules_json: list[Any], auto_resolve: bool
) -> None:
    """Replace a service's routing rules and self-resolution flag."""
    problems = rules.rule_problems(rules_json)
    if problems:
        raise Invalid("; ".join(problems), field="rules")
    service = user_service.get_service_or_raise(session=session, slug=service_slug)
    row = session.get(ServiceAlertSettings, service.id) or ServiceAlertSettings(
        service_id=service.id
    )
    row.rules = rules_json
    row.auto_resolve = auto_resolve
    session.add(row)
    session.flush()
