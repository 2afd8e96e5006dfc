"""Internal updates (process.md §4) and the templates they are rendered from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.errors import Invalid
from warroom.incidents import messages, reminders, rules
from warroom.incidents import service as incident_service
from warroom.incidents import severities as severity_service
from warroom.incidents.models import Incident, InternalUpdate, MessageTemplate
from warroom.incidents.rules import Phase
from warroom.incidents.schemas import IncidentPatch, UpdateCreate
from warroom.users.models import User


def _person(user: User | None) -> str:
    return f"@{user.handle} ({user.name})" if user else ""


def template_body(*, session: Session, name: str) -> tuple[str, MessageTemplate | None]:
    """The template text in use for ``name`` and its stored row, if customised."""
    messages.known_template(name)
    row = session.get(MessageTemplate, name)
    return (row.body if row else messages.DEFAULT_TEMPLATES[name]), row


def set_template(
    *, session: Session, now: datetime, actor: User, name: str, body: str
) -> MessageTemplate:
    """Replace a template after checking that it renders."""
    messages.validate(name, body)
    row = session.get(MessageTemplate, name) or MessageTemplate(name=name)
    row.body = body
    row.updated_at = now
    row.updated_by_id = actor.id
    session.add(row)
    session.flush()
    return row


def reset_template(*, session: Session, name: str) -> None:
    """Go back to the built-in template."""
    messages.known_template(name)
    row = session.get(MessageTemplate, name)
    if row is not None:
        session.delete(row)
        session.flush()


def update_context(
    incident: Incident, *, now: datetime, eta_at: datetime | None, due_at: datetime | None
) -> dict[str, object]:
    """The values an internal update template can use."""
    return {
        "ref": rules.format_ref(incident.id),
        "title": incident.title,
        "severity": incident.severity.name,
        "phase": incident.phase,
        "drill": incident.drill,
        "duration": rules.format_duration(now - incident.declared_at),
        "impact": incident.customer_impact,
        "commander": _person(incident.commander),
        "tech_lead": _person(incident.tech_lead),
        "comms": _person(incident.comms),
        "theory": incident.current_theory,
        "next_action": incident.next_action,
        "next_action_eta": messages.clock_time(eta_at) if eta_at else "",
        "next_update": (
            f"in {rules.format_duration(due_at - now)} ({messages.clock_time(due_at)})"
            if due_at
            else "none scheduled"
        ),
        "declared_at": messages.clock_time(incident.declared_at),
    }


def post_update(
    *, session: Session, now: datetime, actor: User, incident: Incident, update_in: UpdateCreate
) -> InternalUpdate:
    """Post an internal update: changed fields are saved, the next one is scheduled."""
    if Phase(incident.phase) in {Phase.CLOSED, Phase.DISMISSED}:
        raise Invalid(
            f"{rules.format_ref(incident.id)} is {incident.phase}; no more updates", field="phase"
        )
    eta_at = now + rules.parse_duration(update_in.eta) if update_in.eta else None
    patch = {
        k: v
        for k, v in {
            "customer_impact": update_in.impact,
            "current_theory": update_in.theory,
            "next_action": update_in.next_action,
        }.items()
        if v is not None
    }
    if patch:
        incident_service.update_fields(
            session=session, now=now, actor=actor, incident=incident, patch=IncidentPatch(**patch)
        )
    cadence = severity_service.policy_of(incident.severity).update_cadence
    ended = Phase(incident.phase) in rules.ENDED_PHASES
    due_at = None if ended else rules.next_update_due(now, cadence)
    body_template, _ = template_body(session=session, name=messages.INTERNAL_UPDATE)
    body = messages.render(
        body_template, update_context(incident, now=now, eta_at=eta_at, due_at=due_at)
    )
    update = InternalUpdate(
        incident_id=incident.id,
        posted_at=now,
        author_id=actor.id,
        phase=incident.phase,
        severity_level=incident.severity_level,
        impact=incident.customer_impact,
        theory=incident.current_theory,
        next_action=incident.next_action,
        next_action_eta_at=eta_at,
        next_update_due_at=due_at,
        body=body,
    )
    session.add(update)
    due = incident.next_update_due_at  # the due time in force when this one is posted
    was_late = due is not None and now > due
    if due is not None and now <= due:
        incident.updates_on_time = (incident.updates_on_time or 0) + 1
    incident.next_update_due_at = due_at
    incident.updated_at = now
    incident.version += 1
    session.flush()
    incident_service.record(
        session=session,
        incident=incident,
        now=now,
        actor=actor,
        kind="update_posted",
        text=body,
        data={
            "update_id": update.id,
            "late": was_late,
            "next_update_due_at": due_at.isoformat() if due_at else None,
        },
    )
    session.flush()
    reminders.schedule(session=session, now=now, incident=incident)
    return update


def list_updates(*, session: Session, incident: Incident) -> list[InternalUpdate]:
    """The incident's internal updates, oldest first."""
    query = (
        select(InternalUpdate)
        .where(InternalUpdate.incident_id == incident.id)
        .order_by(InternalUpdate.posted_at, InternalUpdate.id)
    )
    return list(session.scalars(query))
