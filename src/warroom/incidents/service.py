"""Incident use-cases. Every change lands on the timeline; flushes, never commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from warroom.errors import Conflict, Invalid, NotFound
from warroom.incidents import reminders, rules
from warroom.incidents import severities as severity_service
from warroom.incidents.models import (
    Incident,
    InternalUpdate,
    TimelineEntry,
)
from warroom.incidents.queries import INCIDENT_LOADS, MAX_ID
from warroom.incidents.rules import Phase
from warroom.incidents.schemas import IncidentCreate, IncidentPatch, NoteCreate, RolesAssign
from warroom.users import service as user_service
from warroom.users.models import Service, User

CLOCK_SKEW = timedelta(minutes=2)


def record(
    *,
    session: Session,
    incident: Incident,
    now: datetime,
    actor: User | None,
    kind: str,
    text: str,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
    corrects: int | None = None,
) -> TimelineEntry:
    """Append one entry to the incident's timeline."""
    entry = TimelineEntry(
        incident_id=incident.id,
        at=at or now,
        recorded_at=now,
        actor_id=actor.id if actor else None,
        kind=kind,
        text=text,
        data=data or {},
        corrects_id=corrects,
    )
    session.add(entry)
    return entry


def _touch(incident: Incident, now: datetime) -> None:
    incident.updated_at = now
    incident.version += 1


def _services(session: Session, slugs: list[str]) -> list[Service]:
    unique = list(dict.fromkeys(slugs))
    return [
        user_service.get_service_or_raise(session=session, slug=s, field="services") for s in unique
    ]


def declare(
    *,
    session: Session,
    now: datetime,
    actor: User | None,
    incident_in: IncidentCreate,
    phase: Phase = Phase.TRIAGE,
) -> Incident:
    """Declare an incident: it starts in triage with its severity's targets."""
    severity = severity_service.resolve(session=session, value=incident_in.severity)
    commander = (
        user_service.get_by_handle_or_raise(
            session=session, handle=incident_in.commander, field="commander"
        )
        if incident_in.commander
        else None
    )
    services = _services(session, incident_in.services)
    policy = severity_service.policy_of(severity)
    incident = Incident(
        title=incident_in.title,
        severity=severity,
        phase=phase.value,
        drill=incident_in.drill,
        customer_impact=incident_in.customer_impact,
        current_theory="",
        next_action="",
        commander=commander,
        created_by_id=actor.id if actor else None,
        declared_at=now,
        detection_at=now,
        next_update_due_at=rules.next_update_due(now, policy.update_cadence),
        updated_at=now,
        version=1,
    )
    setattr(incident, f"{phase.value}_at", now)
    incident.services = services
    session.add(incident)
    session.flush()
    drill = " (drill)" if incident.drill else ""
    record(
        session=session,
        incident=incident,
        now=now,
        actor=actor,
        kind="declared",
        text=f"Declared {severity.name}{drill}: {incident.title}",
        data={
            "severity": severity.name,
            "phase": phase.value,
            "services": [s.slug for s in services],
        },
    )
    if commander is not None:
        record(
            session=session,
            incident=incident,
            now=now,
            actor=actor,
            kind="role_assigned",
            text=f"Incident Commander: @{commander.handle}",
            data={"role": "commander", "before": None, "after": commander.handle},
        )
    session.flush()
    reminders.schedule(session=session, now=now, incident=incident)
    return incident


def get_by_ref(*, session: Session, ref: str, for_update: bool = False) -> Incident:
    """The incident called ``ref`` ("INC-3"), or NotFound.

    ``for_update`` locks the row (PostgreSQL) so two responders changing the
    same incident queue up instead of overwriting each other.
    """
    try:
        number = rules.parse_ref(ref)
    except Invalid:
        # In a URL, a reference that cannot exist is simply not found.
        raise NotFound(f"no incident {ref[:40]!r}: not an incident reference like INC-42") from None
    if number > MAX_ID:
        raise NotFound(f"no incident {rules.format_ref(number)}")
    query = select(Incident).where(Incident.id == number).options(*INCIDENT_LOADS)
    if for_update:
        query = query.with_for_update(of=Incident).execution_options(populate_existing=True)
    incident = session.scalars(query).first()
    if incident is None:
        raise NotFound(f"no incident {rules.format_ref(number)}")
    return incident


def acknowledge(
    *, session: Session, now: datetime, actor: User | None, incident: Incident, via: str = ""
) -> Incident:
    """Acknowledge: someone has seen it and is on it. A second ack is refused."""
    if incident.acknowledged_at is not None:
        by = incident.acknowledged_by.handle if incident.acknowledged_by else "someone"
        raise Conflict(f"{rules.format_ref(incident.id)} was already acknowledged by @{by}")
    incident.acknowledged_at = now
    incident.acknowledged_by = actor
    _touch(incident, now)
    who = f"by @{actor.handle}" if actor else ""
    text = " ".join(part for part in ("Acknowledged", who, f"via {via}" if via else "") if part)
    record(session=session, incident=incident, now=now, actor=actor, kind="acknowledged", text=text)
    session.flush()
    return incident


def assign_roles(
    *, session: Session, now: datetime, actor: User, incident: Incident, roles_in: RolesAssign
) -> list[str]:
    """Assign or clear roles; returns warnings such as "IC also Tech Lead"."""
    wanted = {
        rules.Role.COMMANDER: roles_in.commander,
        rules.Role.TECH_LEAD: roles_in.tech_lead,
        rules.Role.COMMS: roles_in.comms,
    }
    resolved: dict[rules.Role, User | None] = {}
    for role, handle in wanted.items():
        if handle is None:
            continue
        resolved[role] = (
            user_service.get_by_handle_or_raise(session=session, handle=handle, field=role.value)
            if handle
            else None
        )
    changed = False
    for role, user in resolved.items():
        before: User | None = getattr(incident, role.value)
        if before is user:
            continue
        setattr(incident, role.value, user)
        changed = True
        who = f"@{user.handle}" if user else "unassigned"
        record(
            session=session,
            incident=incident,
            now=now,
            actor=actor,
            kind="role_assigned",
            text=f"{rules.ROLE_TITLES[role]}: {who}",
            data={
                "role": role.value,
                "before": before.handle if before else None,
                "after": user.handle if user else None,
            },
        )
    if changed:
        _touch(incident, now)
    session.flush()
    warnings = role_warnings(incident)
    if changed and warnings:
        record(
            session=session,
            incident=incident,
            now=now,
            actor=None,
            kind="warning",
            text=warnings[0],
            data={"warning": "ic_also_tech_lead"},
        )
        session.flush()
    return warnings


def role_warnings(incident: Incident) -> list[str]:
    """Warnings about the incident's current role assignment."""
    return rules.role_warnings(
        incident.severity_level, incident.commander_id, incident.tech_lead_id
    )


def change_phase(
    *,
    session: Session,
    now: datetime,
    actor: User | None,
    incident: Incident,
    phase: Phase,
    note: str = "",
) -> Incident:
    """Move the incident to ``phase`` if the lifecycle allows it."""
    before = Phase(incident.phase)
    rules.check_transition(before, phase)
    _check_postmortem(incident, phase)
    incident.phase = phase.value
    # Open phases keep the first time they were reached (time to investigate);
    # ended ones the latest (a reopened incident is resolved when it last was).
    if getattr(incident, f"{phase.value}_at") is None or phase in rules.ENDED_PHASES:
        setattr(incident, f"{phase.value}_at", now)
    if phase in rules.ENDED_PHASES:
        incident.next_update_due_at = None
    if phase is Phase.RESOLVED and incident.postmortem_status is None:
        if severity_service.policy_of(incident.severity).postmortem_required:
            incident.postmortem_status = "draft"  # the postmortems domain drafts it
    elif before in rules.ENDED_PHASES and phase in rules.OPEN_PHASES:
        cadence = severity_service.policy_of(incident.severity).update_cadence
        incident.next_update_due_at = rules.next_update_due(now, cadence)
    _touch(incident, now)
    text = f"Phase: {before.value} → {phase.value}" + (f" ({note})" if note else "")
    record(
        session=session,
        incident=incident,
        now=now,
        actor=actor,
        kind="phase_changed",
        text=text,
        data={"before": before.value, "after": phase.value},
    )
    session.flush()
    reminders.schedule(session=session, now=now, incident=incident)
    return incident


def _check_postmortem(incident: Incident, phase: Phase) -> None:
    """A required postmortem must be published before the incident is closed."""
    status = incident.postmortem_status
    if phase is Phase.CLOSED and status is not None and status != "published":
        ref = rules.format_ref(incident.id)
        raise Conflict(
            f"{ref} needs its postmortem published before closing "
            f"(it is {status.replace('_', ' ')}); see `warroom postmortem {ref}`",
            field="phase",
        )


def change_severity(
    *,
    session: Session,
    now: datetime,
    actor: User,
    incident: Incident,
    severity: str | int,
    reason: str = "",
) -> Incident:
    """Change severity; the update cadence is re-derived from the new level."""
    row = severity_service.resolve(session=session, value=severity)
    before = incident.severity
    if row.level == before.level:
        raise Conflict(f"{rules.format_ref(incident.id)} is already {row.name}", field="severity")
    incident.severity = row
    incident.severity_level = row.level
    incident.severity_changes = (incident.severity_changes or 0) + 1
    # Raised after resolution to a level that requires one: it still owes a postmortem.
    owes = severity_service.policy_of(row).postmortem_required
    if Phase(incident.phase) is Phase.RESOLVED and incident.postmortem_status is None and owes:
        incident.postmortem_status = "draft"
    if Phase(incident.phase) not in rules.ENDED_PHASES:
        cadence = severity_service.policy_of(row).update_cadence
        # The new cadence counts from the last update (or the declaration); when
        # no update was expected before, the clock starts now.
        since = now if incident.next_update_due_at is None else _last_update_at(session, incident)
        incident.next_update_due_at = rules.next_update_due(since, cadence)
    _touch(incident, now)
    text = f"Severity: {before.name} → {row.name}" + (f" ({reason})" if reason else "")
    record(
        session=session,
        incident=incident,
        now=now,
        actor=actor,
        kind="severity_changed",
        text=text,
        data={"before": before.name, "after": row.name},
    )
    session.flush()
    reminders.schedule(session=session, now=now, incident=incident)
    return incident


def _last_update_at(session: Session, incident: Incident) -> datetime:
    posted = session.scalar(
        select(func.max(InternalUpdate.posted_at)).where(InternalUpdate.incident_id == incident.id)
    )
    # MAX() keeps the column's UTC type, so this is an aware datetime.
    return posted if posted is not None else incident.declared_at


FIELD_LABELS = {
    "title": "Title",
    "customer_impact": "Customer impact",
    "current_theory": "Current theory",
    "next_action": "Next action",
}


def update_fields(
    *, session: Session, now: datetime, actor: User, incident: Incident, patch: IncidentPatch
) -> Incident:
    """Change descriptive fields; each change is recorded with before and after."""
    changes = patch.model_dump(exclude_unset=True)
    if "services" in changes and changes["services"] is None:
        raise Invalid("services cannot be null; send [] to clear", field="services")
    slugs = changes.pop("services", None)
    for field, value in changes.items():
        if value is None:
            raise Invalid(f"{field} cannot be null", field=field)
        before = getattr(incident, field)
        if before == value:
            continue
        setattr(incident, field, value)
        if field == "customer_impact":
            incident.impact_changes = (incident.impact_changes or 0) + 1
        record(
            session=session,
            incident=incident,
            now=now,
            actor=actor,
            kind="field_changed",
            text=f"{FIELD_LABELS[field]}: {value}",
            data={"field": field, "before": before, "after": value},
        )
        _touch(incident, now)
    if slugs is not None:
        set_services(session=session, now=now, actor=actor, incident=incident, slugs=slugs)
    session.flush()
    return incident


def set_services(
    *, session: Session, now: datetime, actor: User, incident: Incident, slugs: list[str]
) -> None:
    """Replace the affected services, recording the difference."""
    before = [s.slug for s in incident.services]
    services = _services(session, slugs)
    after = [s.slug for s in services]
    if sorted(before) == sorted(after):
        return
    incident.services = services
    _touch(incident, now)
    record(
        session=session,
        incident=incident,
        now=now,
        actor=actor,
        kind="services_changed",
        text=f"Affected services: {', '.join(after) or 'none'}",
        data={"before": before, "after": after},
    )


def add_note(
    *, session: Session, now: datetime, actor: User, incident: Incident, note_in: NoteCreate
) -> TimelineEntry:
    """Add a manual note, possibly dated earlier or correcting an earlier entry."""
    at = note_in.at
    if at is not None:
        if at.tzinfo is None:
            raise Invalid("at needs a time zone, e.g. 2026-11-27T10:05:00Z", field="at")
        if at > now + CLOCK_SKEW:
            raise Invalid("at cannot be in the future", field="at")
    if note_in.corrects is not None:
        target = session.get(TimelineEntry, note_in.corrects)
        if target is None or target.incident_id != incident.id:
            raise Invalid(
                f"no timeline entry {note_in.corrects} on this incident", field="corrects"
            )
    kind = "correction" if note_in.corrects is not None else "note"
    entry = record(
        session=session,
        incident=incident,
        now=now,
        actor=actor,
        kind=kind,
        text=note_in.text,
        at=at,
        corrects=note_in.corrects,
    )
    _touch(incident, now)
    session.flush()
    return entry


def timeline(*, session: Session, incident: Incident) -> list[TimelineEntry]:
    """The incident's timeline in event order."""
    query = (
        select(TimelineEntry)
        .options(joinedload(TimelineEntry.actor))
        .where(TimelineEntry.incident_id == incident.id)
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    return list(session.scalars(query))
