"""Postmortem use-cases: draft on resolve, edit, review, publish. Flushes, never commits.

The incident keeps ``postmortem_status`` (None when no postmortem is
required), so the incident core can refuse to close an incident whose
required postmortem is unpublished without knowing about postmortems.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.errors import Conflict, Invalid
from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident
from warroom.incidents.rules import format_ref
from warroom.postmortems import actions, blameless, markdown, rules
from warroom.postmortems.models import Postmortem
from warroom.postmortems.rules import Entry, IncidentFacts, Status
from warroom.users.models import User

DEFAULT_DUE_DAYS = 5


def facts_of(session: Session, incident: Incident) -> IncidentFacts:
    entries = incident_service.timeline(session=session, incident=incident)
    return IncidentFacts(
        ref=format_ref(incident.id),
        title=incident.title,
        severity=incident.severity.name,
        services=tuple(s.slug for s in incident.services),
        declared_at=incident.declared_at,
        resolved_at=incident.resolved_at,
        impact=incident.customer_impact,
        theory=incident.current_theory,
        entries=tuple(Entry(e.at, e.kind, e.text) for e in entries),
    )


def get_for(*, session: Session, incident: Incident) -> Postmortem | None:
    return session.scalar(select(Postmortem).where(Postmortem.incident_id == incident.id))


def ensure_draft(
    *,
    session: Session,
    now: datetime,
    incident: Incident,
    due_days: int = DEFAULT_DUE_DAYS,
    force: bool = False,
) -> Postmortem | None:
    """The incident's postmortem, drafted now if its severity requires one (or ``force``)."""
    existing = get_for(session=session, incident=incident)
    if existing is not None:
        return existing
    if incident.postmortem_status is None and not force:
        return None
    facts = facts_of(session, incident)
    ended = incident.resolved_at or now
    due_day = rules.add_business_days(ended.date(), due_days)
    postmortem = Postmortem(
        incident_id=incident.id,
        status=Status.DRAFT.value,
        due_at=datetime.combine(due_day, time(17, 0), UTC),
        summary=rules.draft_summary(facts),
        timeline=[
            {"at": e.at.isoformat(), "text": e.text} for e in rules.draft_timeline(facts.entries)
        ],
        root_cause="",
        contributing_factors="",
        lessons="",
        impact={"minutes_degraded": round((ended - incident.declared_at).total_seconds() / 60)},
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(postmortem)
    session.flush()
    incident_service.record(
        session=session,
        incident=incident,
        now=now,
        actor=None,
        kind="postmortem_drafted",
        text=f"Postmortem drafted from the timeline; due {due_day:%Y-%m-%d}",
        data={"postmortem_id": postmortem.id},
    )
    return postmortem


def document(
    session: Session, incident: Incident, postmortem: Postmortem, zone: ZoneInfo = ZoneInfo("UTC")
) -> markdown.Document:
    """The postmortem with its action items, ready to render (dated in ``zone``)."""
    ended = incident.resolved_at
    return markdown.Document(
        title=incident.title,
        day=incident.declared_at.astimezone(zone).date(),
        summary=postmortem.summary,
        timeline=[(datetime.fromisoformat(t["at"]), str(t["text"])) for t in postmortem.timeline],
        root_cause=postmortem.root_cause,
        impact=dict(postmortem.impact or {}),
        duration_seconds=(ended - incident.declared_at).total_seconds() if ended else None,
        actions=[
            actions.as_line(item)
            for item in actions.for_incident(session=session, incident=incident)
        ],
        contributing_factors=postmortem.contributing_factors,
        lessons=postmortem.lessons,
    )


def _editable(postmortem: Postmortem) -> None:
    if postmortem.status == Status.PUBLISHED.value:
        raise Conflict(
            "the postmortem is published; it is the record and no longer changes", field="status"
        )


def update_fields(
    *, session: Session, now: datetime, postmortem: Postmortem, changes: dict[str, Any]
) -> Postmortem:
    """Change summary, timeline, root cause, factors, lessons or impact figures."""
    _editable(postmortem)
    for name in ("summary", "root_cause", "contributing_factors", "lessons"):
        if changes.get(name) is not None:
            setattr(postmortem, name, changes[name])
    if changes.get("timeline") is not None:
        postmortem.timeline = [
            {"at": item["at"].astimezone(UTC).isoformat(), "text": item["text"]}
            for item in sorted(changes["timeline"], key=lambda item: item["at"])
        ]
    if changes.get("impact") is not None:
        postmortem.impact = {
            k: int(v) if isinstance(v, float) and v.is_integer() else v
            for k, v in changes["impact"].items()
            if v is not None
        }
    postmortem.updated_at = now
    postmortem.version += 1
    session.flush()
    return postmortem


def apply_markdown(
    *,
    session: Session,
    now: datetime,
    postmortem: Postmortem,
    incident: Incident,
    actor: User,
    text: str,
    zone: ZoneInfo,
) -> Postmortem:
    """Take an edited Markdown postmortem back; errors name the section and line."""
    _editable(postmortem)
    doc = markdown.parse(text, zone=zone, day=incident.declared_at.astimezone(zone).date())
    actions.sync(session=session, now=now, incident=incident, actor=actor, lines=doc.actions)
    return update_fields(
        session=session,
        now=now,
        postmortem=postmortem,
        changes={
            "summary": doc.summary,
            "root_cause": doc.root_cause,
            "contributing_factors": doc.contributing_factors,
            "lessons": doc.lessons,
            "impact": doc.impact,
            "timeline": [{"at": at, "text": text} for at, text in doc.timeline],
        },
    )


def move(
    *,
    session: Session,
    now: datetime,
    postmortem: Postmortem,
    incident: Incident,
    actor: User,
    target: Status,
) -> Postmortem:
    """Send to review, back to draft, or publish; publishing needs a root cause."""
    rules.check_transition(Status(postmortem.status), target)
    if target is Status.PUBLISHED and not postmortem.root_cause.strip():
        raise Invalid("write the root cause before publishing", field="root_cause")
    postmortem.status = target.value
    if target is Status.IN_REVIEW:
        postmortem.reviewed_at = now
    if target is Status.PUBLISHED:
        postmortem.published_at = now
    postmortem.updated_at = now
    if incident.postmortem_status is not None:
        incident.postmortem_status = target.value
    words = {
        Status.DRAFT: "sent back to draft",
        Status.IN_REVIEW: "sent for review",
        Status.PUBLISHED: "published",
    }
    incident_service.record(
        session=session,
        incident=incident,
        now=now,
        actor=actor,
        kind="postmortem_" + target.value,
        text=f"Postmortem {words[target]}",
        data={"postmortem_id": postmortem.id},
    )
    session.flush()
    return postmortem


def lint(
    *, session: Session, incident: Incident, postmortem: Postmortem
) -> list[tuple[str, blameless.Finding]]:
    """Blaming wording in every written part, as (section, finding)."""
    people: list[str] = []
    for user in session.scalars(select(User).where(User.active.is_(True)).limit(5000)):
        people += [user.handle, f"@{user.handle}", user.name]
    parts = [
        ("Summary", postmortem.summary),
        ("Root Cause", postmortem.root_cause),
        ("Contributing Factors", postmortem.contributing_factors),
        ("Lessons", postmortem.lessons),
        ("Impact", str((postmortem.impact or {}).get("notes", ""))),
        *[("Timeline", str(item["text"])) for item in postmortem.timeline],
        *[
            ("Action Items", i.title)
            for i in actions.for_incident(session=session, incident=incident)
        ],
    ]
    return [
        (section, finding)
        for section, text in parts
        if text
        for finding in blameless.lint(text, people=people)
    ]


def overdue(*, session: Session, now: datetime) -> list[Postmortem]:
    query = select(Postmortem).where(
        Postmortem.status != Status.PUBLISHED.value, Postmortem.due_at < now
    )
    return list(session.scalars(query.order_by(Postmortem.due_at)))
