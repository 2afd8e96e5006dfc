"""Paging use-cases: start, fire a step, acknowledge, escalate, reassign. Flushes only.

A page freezes a snapshot of its service's policy when it starts, so editing
the policy never changes a running escalation. Each step is an outbox
message ("escalate") keyed by page, generation, round and level: the worker
fires it, pages that level's people and enqueues the next step, in one
transaction. Acknowledging or resolving stops the page; a step that finds
its page stopped (or superseded by a manual escalation, which bumps the
generation) does nothing.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.errors import Conflict
from warroom.escalation import rules
from warroom.escalation.models import EscalationPolicy, Page
from warroom.escalation.policies import policy_rules
from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident
from warroom.incidents.rules import OPEN_PHASES, Phase
from warroom.notify import service as notify_service
from warroom.oncall import service as oncall_service
from warroom.outbox import service as outbox
from warroom.users import service as user_service
from warroom.users.models import User

ESCALATE = "escalate"
ACTIVE = rules.PageStatus.ACTIVE.value


def step_key(page: Page, round_: int, level: int) -> str:
    return f"page-{page.id}-g{page.generation}-r{round_}-l{level}"


def _policy_for(incident: Incident) -> EscalationPolicy | None:
    for service in incident.services:
        if service.escalation_policy_id is not None:
            session = Session.object_session(incident)
            assert session is not None  # incidents here are always loaded from a session
            return session.get(EscalationPolicy, service.escalation_policy_id)
    return None


def _business_hours(incident: Incident) -> rules.BusinessHours | None:
    for service in incident.services:
        team = service.team
        hours = team.business_hours if team else None
        if team is not None and hours:
            return rules.BusinessHours(
                tz=hours.get("tz") or team.time_zone,
                start=_clock(hours.get("start", "09:00")),
                end=_clock(hours.get("end", "17:00")),
                weekdays=frozenset(hours.get("weekdays", [0, 1, 2, 3, 4])),
                country=hours.get("country"),
                subdivision=hours.get("subdivision"),
            )
    return None


def _clock(value: str) -> time:
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes or 0))


def active_page(session: Session, incident: Incident) -> Page | None:
    query = select(Page).where(Page.incident_id == incident.id, Page.status == ACTIVE)
    return session.scalar(query.with_for_update())


def start(*, session: Session, now: datetime, incident: Incident) -> Page | None:
    """Start paging for an incident nobody has acknowledged; None if nothing to page."""
    if incident.acknowledged_at is not None or Phase(incident.phase) not in OPEN_PHASES:
        return None
    if incident.drill:
        return None  # a drill pages nobody outside the drill (process.md §7)
    if active_page(session, incident) is not None:
        return None
    policy_row = _policy_for(incident)
    if policy_row is None:
        return None
    policy = policy_rules(policy_row)
    urgency = rules.Urgency.LOW if incident.severity.ack_next_business_day else rules.Urgency.HIGH
    first_at = rules.page_time(urgency, _business_hours(incident), now)
    page = Page(
        incident_id=incident.id,
        policy_slug=policy_row.slug,
        snapshot=rules.to_snapshot(policy),
        urgency=urgency.value,
        status=ACTIVE,
        round=0,
        level=0,
        started_at=now,
        next_step_at=first_at,
        generation=0,
    )
    session.add(page)
    session.flush()
    when = "now" if first_at <= now else f"at {first_at:%Y-%m-%d %H:%M} UTC (low urgency)"
    _note(
        session,
        now,
        incident,
        "page_started",
        f"Paging with policy {policy_row.slug}: level 1 {when}",
        page,
    )
    _enqueue_step(session, now, page, 0, 0, first_at)
    return page


def _enqueue_step(
    session: Session, now: datetime, page: Page, round_: int, level: int, at: datetime
) -> None:
    outbox.enqueue(
        session=session,
        now=now,
        kind=ESCALATE,
        key=step_key(page, round_, level),
        due_at=at,
        payload={
            "page_id": page.id,
            "generation": page.generation,
            "round": round_,
            "level": level,
        },
        incident_id=page.incident_id,
    )


def _note(
    session: Session,
    now: datetime,
    incident: Incident,
    kind: str,
    text: str,
    page: Page,
    actor: User | None = None,
) -> None:
    incident_service.record(
        session=session,
        incident=incident,
        now=now,
        actor=actor,
        kind=kind,
        text=text,
        data={"page_id": page.id, "round": page.round, "level": page.level},
    )


def fire_step(
    *, session: Session, now: datetime, page_id: int, generation: int, round_: int, level: int
) -> bool:
    """Page one level of the frozen policy and schedule the next; False if superseded."""
    page = session.get(Page, page_id, with_for_update=True, populate_existing=True)
    if page is None or page.status != ACTIVE or page.generation != generation:
        return False
    incident = session.get(Incident, page.incident_id)
    assert incident is not None  # pages cascade with their incident
    if _stopped_by_incident(session, now, page, incident):
        return False
    policy = rules.from_snapshot(page.snapshot)
    if level >= len(policy.levels):
        _exhaust(session, now, page, incident)
        return True
    page.round, page.level = round_, level
    handles = rules.targets_to_notify(
        policy.levels[level],
        lambda slug: oncall_service.on_call_handle(session=session, slug=slug, at=now),
    )
    _page_people(session, now, page, incident, handles)
    following = rules.next_step(policy, rules.Step(round_, level, now))
    if following is None:
        # The last level still gets its timeout before the page counts as unanswered.
        following = rules.Step(round_, len(policy.levels), now + policy.levels[level].timeout)
    page.next_step_at = following.at
    _enqueue_step(session, now, page, following.round, following.level, following.at)
    session.flush()
    return True


def _exhaust(session: Session, now: datetime, page: Page, incident: Incident) -> None:
    page.next_step_at = None
    page.status = rules.PageStatus.EXHAUSTED.value
    page.ended_at = now
    text = "Escalation policy exhausted: nobody acknowledged"
    _note(session, now, incident, "page_exhausted", text, page)


def _page_people(
    session: Session, now: datetime, page: Page, incident: Incident, handles: list[str]
) -> None:
    label = f"level {page.level + 1}" + (f" (repeat {page.round})" if page.round else "")
    if not handles:
        _note(session, now, incident, "paged", f"Paged {label}: nobody is on call", page)
        return
    paged, skipped = [], []
    for handle in handles:
        user = user_service.get_by_handle_cached(session=session, handle=handle)
        if user is None or not user.active:
            skipped.append(handle)
            continue
        paged.append(handle)
        notify_service.plan_page(
            session=session,
            now=now,
            user=user,
            page_id=page.id,
            incident_id=incident.id,
            round_=page.round,
            level=page.level,
            generation=page.generation,
        )
    who = ", ".join(f"@{h}" for h in paged) or "nobody"
    gone = f" (not paged, deactivated or unknown: {', '.join('@' + h for h in skipped)})"
    _note(
        session, now, incident, "paged", f"Paged {label}: {who}" + (gone if skipped else ""), page
    )


def _stopped_by_incident(session: Session, now: datetime, page: Page, incident: Incident) -> bool:
    """Stop a page whose incident was acknowledged or ended without telling us."""
    if incident.acknowledged_at is not None:
        _stop(
            session,
            now,
            page,
            incident,
            rules.PageStatus.ACKNOWLEDGED,
            "Paging stopped: acknowledged",
        )
        return True
    if Phase(incident.phase) not in OPEN_PHASES:
        _stop(
            session,
            now,
            page,
            incident,
            rules.PageStatus.RESOLVED,
            f"Paging stopped: incident {incident.phase}",
        )
        return True
    return False


def _stop(
    session: Session,
    now: datetime,
    page: Page,
    incident: Incident,
    status: rules.PageStatus,
    text: str,
    actor: User | None = None,
) -> None:
    page.status = status.value
    page.ended_at = now
    page.next_step_at = None
    if status is rules.PageStatus.ACKNOWLEDGED:
        page.acknowledged_at = now
        page.acknowledged_by_id = actor.id if actor else incident.acknowledged_by_id
    outbox.cancel(session=session, now=now, keys_like=f"page-{page.id}-", why=text)
    outbox.cancel(session=session, now=now, keys_like=f"notify-page-{page.id}-", why=text)
    _note(session, now, incident, "page_stopped", text, page, actor)


def stop_for_incident(
    *, session: Session, now: datetime, incident: Incident, actor: User | None, why: str
) -> bool:
    """Stop the incident's running page (ack, resolve, dismiss); False if none ran."""
    page = active_page(session, incident)
    if page is None:
        return False
    status = (
        rules.PageStatus.ACKNOWLEDGED
        if incident.acknowledged_at is not None
        else rules.PageStatus.RESOLVED
    )
    _stop(session, now, page, incident, status, f"Paging stopped: {why}", actor)
    session.flush()
    return True


def escalate(*, session: Session, now: datetime, incident: Incident, actor: User) -> Page:
    """Page the next level now, without waiting for the timeout."""
    page = active_page(session, incident)
    if page is None:
        raise Conflict("no page is running for this incident; it is acknowledged or ended")
    policy = rules.from_snapshot(page.snapshot)
    following = rules.next_step(policy, rules.Step(page.round, page.level, now))
    if following is None:
        raise Conflict("the escalation policy has no further level")
    page.generation += 1  # the pending timer of the current level is now void
    outbox.cancel(
        session=session,
        now=now,
        keys_like=f"page-{page.id}-g{page.generation - 1}-",
        why="escalated by hand",
    )
    _note(
        session,
        now,
        incident,
        "page_escalated",
        f"Escalated by @{actor.handle} to level {following.level + 1}",
        page,
        actor,
    )
    _enqueue_step(session, now, page, following.round, following.level, now)
    session.flush()
    return page


def reassign(*, session: Session, now: datetime, incident: Incident, actor: User, to: User) -> Page:
    """Page ``to`` now, outside the policy; the policy's own steps go on."""
    page = active_page(session, incident)
    if page is None:
        raise Conflict("no page is running for this incident; it is acknowledged or ended")
    notify_service.plan_page(
        session=session,
        now=now,
        user=to,
        page_id=page.id,
        incident_id=incident.id,
        round_=page.round,
        level=page.level,
        generation=page.generation,
        extra=f"reassign-{to.id}-{int(now.timestamp())}",
    )
    _note(
        session,
        now,
        incident,
        "page_reassigned",
        f"Reassigned by @{actor.handle}: paging @{to.handle}",
        page,
        actor,
    )
    session.flush()
    return page


def pages_for(*, session: Session, incident: Incident) -> list[Page]:
    return list(
        session.scalars(select(Page).where(Page.incident_id == incident.id).order_by(Page.id))
    )


def list_pages(*, session: Session, active_only: bool = False, limit: int = 100) -> list[Page]:
    query = select(Page).order_by(Page.id.desc()).limit(limit)
    if active_only:
        query = query.where(Page.status == ACTIVE)
    return list(session.scalars(query))
