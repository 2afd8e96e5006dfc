"""Turn incident rows into API shapes."""

from __future__ import annotations

from datetime import datetime

from warroom.incidents import rules
from warroom.incidents.models import Incident, InternalUpdate, TimelineEntry
from warroom.incidents.rules import Phase
from warroom.incidents.schemas import (
    IncidentRead,
    Roles,
    TimelineRead,
    UpdateRead,
    UserRef,
)
from warroom.incidents.severities import policy_of
from warroom.users.models import User

# Rows from our own database need no validation: model_construct skips it, which
# was about 40% of the CPU of listing a page of incidents.


def _user_ref(user: User | None) -> UserRef | None:
    return UserRef.model_construct(handle=user.handle, name=user.name) if user else None


def timeline_read(entry: TimelineEntry) -> TimelineRead:
    """One timeline entry as the API shows it."""
    return TimelineRead.model_construct(
        id=entry.id,
        at=entry.at,
        recorded_at=entry.recorded_at,
        actor=entry.actor.handle if entry.actor else None,
        kind=entry.kind,
        text=entry.text,
        data=entry.data,
        corrects=entry.corrects_id,
    )


def incident_read(
    incident: Incident, *, now: datetime, timeline: list[TimelineEntry] | None = None
) -> IncidentRead:
    """An incident as the API shows it; ``timeline`` is included when given."""
    phase = Phase(incident.phase)
    policy = policy_of(incident.severity)
    return IncidentRead.model_construct(
        ref=rules.format_ref(incident.id),
        number=incident.id,
        title=incident.title,
        severity=incident.severity.name,
        severity_level=incident.severity_level,
        phase=phase,
        drill=incident.drill,
        customer_impact=incident.customer_impact,
        current_theory=incident.current_theory,
        next_action=incident.next_action,
        roles=Roles.model_construct(
            commander=_user_ref(incident.commander),
            tech_lead=_user_ref(incident.tech_lead),
            comms=_user_ref(incident.comms),
        ),
        services=[s.slug for s in incident.services],
        declared_at=incident.declared_at,
        acknowledged_at=incident.acknowledged_at,
        acknowledged_by=incident.acknowledged_by.handle if incident.acknowledged_by else None,
        ack_due_at=rules.ack_deadline(incident.declared_at, policy),
        detection_at=incident.detection_at,
        triage_at=incident.triage_at,
        investigating_at=incident.investigating_at,
        mitigating_at=incident.mitigating_at,
        resolved_at=incident.resolved_at,
        closed_at=incident.closed_at,
        dismissed_at=incident.dismissed_at,
        next_update_due_at=incident.next_update_due_at,
        update_status=rules.update_status(incident.next_update_due_at, now),
        allowed_next_phases=list(rules.allowed_next(phase)),
        warnings=rules.role_warnings(
            incident.severity_level, incident.commander_id, incident.tech_lead_id
        ),
        updated_at=incident.updated_at,
        version=incident.version,
        timeline=[timeline_read(e) for e in timeline] if timeline is not None else None,
    )


def update_read(update: InternalUpdate) -> UpdateRead:
    """An internal update as the API shows it."""
    return UpdateRead(
        id=update.id,
        incident=rules.format_ref(update.incident_id),
        posted_at=update.posted_at,
        author=update.author.handle if update.author else None,
        phase=update.phase,
        severity_level=update.severity_level,
        impact=update.impact,
        theory=update.theory,
        next_action=update.next_action,
        next_action_eta_at=update.next_action_eta_at,
        next_update_due_at=update.next_update_due_at,
        body=update.body,
    )
