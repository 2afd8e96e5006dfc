"""Status page use-cases: components, posts from incidents, the page's version. Flushes only.

Every public change bumps PageState.version in the same transaction, so a
server serving cached pages learns cheaply that they are stale. Internal
fields (theory, notes, internal updates) never reach these tables: a post
carries only what its author wrote for customers.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from warroom.errors import Conflict, Invalid, NotFound
from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident
from warroom.incidents.rules import REF_PATTERN, format_ref
from warroom.outbox import service as outbox
from warroom.statuspage import rules
from warroom.statuspage.models import (
    ComponentStatusChange,
    PageState,
    StatusComponent,
    StatusIncident,
    StatusPost,
)
from warroom.users import service as user_service
from warroom.users.models import User

ALPHABET = string.ascii_lowercase + string.digits
PUBLIC_ID = re.compile(r"[a-z0-9]{12}")
NOTIFY_SUBSCRIBERS = "status_notify"
REMIND_COMMS = "status_reminder"
OPEN_STATUSES = ("investigating", "identified", "monitoring")


def public_id() -> str:
    """12 lowercase letters and digits, like Statuspage's ids."""
    return "".join(secrets.choice(ALPHABET) for _ in range(12))


def bump(session: Session, now: datetime) -> int:
    """Mark the public page changed; returns the new version."""
    state = session.get(PageState, 1, with_for_update=True)
    if state is None:
        state = PageState(id=1, version=0, updated_at=now)
        session.add(state)
    state.version += 1
    state.updated_at = now
    session.flush()
    return state.version


def version(session: Session) -> int:
    state = session.get(PageState, 1)
    return state.version if state else 0


def component_by_name(
    session: Session, name: str, *, field_name: str = "component"
) -> StatusComponent:
    found = session.scalar(select(StatusComponent).where(StatusComponent.name == name))
    if found is None or found.is_group:
        raise Invalid(f"no status page component named {name!r}", field=field_name)
    if not found.published:
        raise Invalid(f"component {name!r} is not published yet", field=field_name)
    return found


def list_components(*, session: Session) -> list[StatusComponent]:
    query = select(StatusComponent).order_by(StatusComponent.position, StatusComponent.id)
    return list(session.scalars(query))


def _group(session: Session, now: datetime, name: str) -> StatusComponent:
    group = session.scalar(select(StatusComponent).where(StatusComponent.name == name))
    if group is not None:
        if not group.is_group:
            raise Invalid(f"{name!r} is a component, not a group", field="group")
        return group
    group = StatusComponent(
        public_id=public_id(),
        name=name,
        description="",
        is_group=True,
        position=_next_position(session),
        status=rules.ComponentStatus.OPERATIONAL.value,
        created_at=now,
        updated_at=now,
    )
    session.add(group)
    session.flush()
    return group


def _next_position(session: Session) -> int:
    last = session.scalar(
        select(StatusComponent.position).order_by(StatusComponent.position.desc()).limit(1)
    )
    return (last or 0) + 1


def add_component(
    *,
    session: Session,
    now: datetime,
    name: str,
    group: str | None = None,
    service: str | None = None,
    description: str = "",
) -> StatusComponent:
    """Add a component (in a group, created on first use), optionally tied to a service."""
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid("a component name has 1 to 100 characters", field="name")
    if session.scalar(select(StatusComponent.id).where(StatusComponent.name == name)) is not None:
        raise Conflict(f"a component named {name!r} exists", field="name")
    parent = _group(session, now, group.strip()) if group else None
    linked = user_service.get_service_or_raise(session=session, slug=service) if service else None
    component = StatusComponent(
        public_id=public_id(),
        name=name,
        description=description,
        is_group=False,
        group_id=parent.id if parent else None,
        service_id=linked.id if linked else None,
        position=_next_position(session),
        status=rules.ComponentStatus.OPERATIONAL.value,
        created_at=now,
        updated_at=now,
    )
    session.add(component)
    session.flush()
    session.add(ComponentStatusChange(component_id=component.id, at=now, status=component.status))
    bump(session, now)
    return component


def set_status(
    session: Session, now: datetime, component: StatusComponent, status: rules.ComponentStatus
) -> dict[str, str]:
    """Change one component's status, keeping the history; the change as a post records it."""
    old = component.status
    if old != status.value:
        component.status = status.value
        component.updated_at = now
        session.add(ComponentStatusChange(component_id=component.id, at=now, status=status.value))
    return {
        "id": component.public_id,
        "name": component.name,
        "old_status": old,
        "new_status": status.value,
    }


@dataclass
class PostRequest:
    """What a post says (all of it public)."""

    status: rules.PostStatus
    message: str
    components: dict[str, rules.ComponentStatus] = field(default_factory=dict)
    title: str | None = None
    next_update: timedelta | None = None


def _default_next_update(incident: Incident | None) -> timedelta:
    """Customers hear again on the incident's internal cadence, else in half an hour."""
    cadence = incident.severity.update_cadence_seconds if incident is not None else None
    return timedelta(seconds=cadence) if cadence else timedelta(minutes=30)


def open_for_incident(session: Session, incident: Incident) -> StatusIncident | None:
    query = (
        select(StatusIncident)
        .where(
            StatusIncident.incident_id == incident.id,
            StatusIncident.kind == "incident",
            StatusIncident.status.in_(OPEN_STATUSES),
        )
        .order_by(StatusIncident.id.desc())
    )
    return session.scalars(query).first()


def _shown_for(
    session: Session, incident: Incident | None, status: rules.PostStatus
) -> StatusIncident | None:
    """The public incident a post for ``incident`` continues, if any.

    A postmortem follows the resolution, so it continues the latest public
    incident of the internal one whatever its status; other posts continue an
    open one only (a post after resolution opens a new public incident).
    """
    if incident is None:
        return None
    if status is not rules.PostStatus.POSTMORTEM:
        return open_for_incident(session, incident)
    query = (
        select(StatusIncident)
        .where(StatusIncident.incident_id == incident.id, StatusIncident.kind == "incident")
        .order_by(StatusIncident.id.desc())
    )
    return session.scalars(query).first()


def _check_followable(shown: StatusIncident | None, status: rules.PostStatus) -> None:
    """Refuse posts that cannot continue ``shown`` (None: the post opens a new one)."""
    postmortem = status is rules.PostStatus.POSTMORTEM
    if shown is None:
        if postmortem:
            raise Conflict(
                "a postmortem follows a resolved status page incident, and there is none",
                field="status",
            )
        return
    if shown.kind != "incident":
        raise Conflict(
            "that is a scheduled maintenance; post to it with the maintenance commands",
            field="incident",
        )
    closed = shown.status in (rules.PostStatus.RESOLVED.value, rules.PostStatus.POSTMORTEM.value)
    if closed and not postmortem:
        raise Conflict(
            "that status page incident is resolved; post with --new for a new one", field="status"
        )
    if postmortem and not closed:
        raise Conflict(
            "resolve the status page incident before posting its postmortem", field="status"
        )


def subject_of(
    *, session: Session, reference: str
) -> tuple[Incident | None, StatusIncident | None]:
    """What a post names: an internal incident (INC-42), or a status page incident by
    its public id, the only handle a standalone one has. Returns (internal, public)."""
    if PUBLIC_ID.fullmatch(reference) and not REF_PATTERN.fullmatch(reference):
        shown = get_by_public_id(session=session, public=reference)
        internal = session.get(Incident, shown.incident_id) if shown.incident_id else None
        return internal, shown
    return incident_service.get_by_ref(session=session, ref=reference, for_update=True), None


def get_by_public_id(*, session: Session, public: str) -> StatusIncident:
    found = session.scalar(select(StatusIncident).where(StatusIncident.public_id == public))
    if found is None:
        raise NotFound(f"no status page incident {public}")
    return found


def _start(
    session: Session,
    now: datetime,
    request: PostRequest,
    incident: Incident | None,
    components: list[StatusComponent],
) -> StatusIncident:
    worst = max(
        request.components.values(), default=rules.ComponentStatus.OPERATIONAL, key=rules.badness
    )
    title = (request.title or "").strip() or rules.neutral_title(
        [c.name for c in components], worst
    )
    started = StatusIncident(
        public_id=public_id(),
        kind="incident",
        incident_id=incident.id if incident else None,
        title=title[:200],
        status=request.status.value,
        impact=rules.Impact.NONE.value,
        component_ids=[],
        created_at=now,
        updated_at=now,
        started_at=now,
    )
    session.add(started)
    session.flush()
    return started


def post(
    *,
    session: Session,
    now: datetime,
    actor: User | None,
    request: PostRequest,
    incident: Incident | None = None,
    target: StatusIncident | None = None,
) -> StatusPost:
    """Post an update for customers: opens the public incident on its first post."""
    if request.next_update is None and request.status in rules.OPEN_POST_STATUSES:
        request.next_update = _default_next_update(incident)
    minutes = int(request.next_update.total_seconds() // 60) if request.next_update else None
    rules.validate_post(request.status, request.message, minutes)
    components = [component_by_name(session, name) for name in request.components]
    shown = target or _shown_for(session, incident, request.status)
    _check_followable(shown, request.status)
    if shown is None:
        shown = _start(session, now, request, incident, components)
    elif request.title:
        shown.title = request.title.strip()[:200]
    affected = [set_status(session, now, c, request.components[c.name]) for c in components]
    if request.status is rules.PostStatus.RESOLVED and not request.components:
        affected = _all_clear(session, now, shown)
    _advance(shown, now, request.status, components, affected)
    next_at = (
        now + request.next_update
        if request.next_update and request.status is not rules.PostStatus.RESOLVED
        else None
    )
    shown.next_update_at = next_at
    made = StatusPost(
        public_id=public_id(),
        status_incident_id=shown.id,
        status=request.status.value,
        message=request.message.strip(),
        affected=affected,
        next_update_at=next_at,
        author_id=actor.id if actor else None,
        created_at=now,
        display_at=now,
    )
    session.add(made)
    session.flush()
    _record_internally(session, now, actor, shown, made)
    _enqueue_follow_ups(session, now, shown, made)
    bump(session, now)
    return made


def _all_clear(session: Session, now: datetime, shown: StatusIncident) -> list[dict[str, str]]:
    """Resolving without naming components puts the incident's components back to operational.

    Except those another open incident or running maintenance still holds: they
    stay as that one set them until it ends.
    """
    held = held_elsewhere(session, shown)
    cleared = []
    for component_id in shown.component_ids:
        component = session.get(StatusComponent, component_id)
        if component is None or component_id in held:
            continue
        if component.status != rules.ComponentStatus.OPERATIONAL.value:
            cleared.append(set_status(session, now, component, rules.ComponentStatus.OPERATIONAL))
    return cleared


def held_elsewhere(session: Session, shown: StatusIncident) -> set[int]:
    """Ids of the components that open incidents and running maintenances other than
    ``shown`` refer to."""
    active = [m.value for m in rules.ACTIVE_MAINTENANCE]
    others = session.scalars(
        select(StatusIncident.component_ids).where(
            StatusIncident.id != shown.id,
            or_(
                and_(StatusIncident.kind == "incident", StatusIncident.status.in_(OPEN_STATUSES)),
                and_(StatusIncident.kind == "maintenance", StatusIncident.status.in_(active)),
            ),
        )
    )
    return {component_id for ids in others for component_id in ids or []}


def _advance(
    shown: StatusIncident,
    now: datetime,
    status: rules.PostStatus,
    components: list[StatusComponent],
    affected: list[dict[str, str]],
) -> None:
    shown.status = status.value
    shown.updated_at = now
    shown.component_ids = list(dict.fromkeys([*shown.component_ids, *(c.id for c in components)]))
    impact = rules.impact_of([rules.ComponentStatus(a["new_status"]) for a in affected])
    shown.impact = max((rules.Impact(shown.impact), impact), key=rules.impact_rank).value
    if status is rules.PostStatus.MONITORING and shown.monitoring_at is None:
        shown.monitoring_at = now
    if status is rules.PostStatus.RESOLVED:
        shown.resolved_at = now


def _record_internally(
    session: Session, now: datetime, actor: User | None, shown: StatusIncident, made: StatusPost
) -> None:
    if shown.incident_id is None:
        return
    incident = session.get(Incident, shown.incident_id)
    if incident is not None:
        text = f"Status page ({made.status}): {made.message[:300]}"
        incident_service.record(
            session=session,
            incident=incident,
            now=now,
            actor=actor,
            kind="status_posted",
            text=text,
            data={"status_incident": shown.public_id, "post": made.public_id},
        )


def _enqueue_follow_ups(
    session: Session, now: datetime, shown: StatusIncident, made: StatusPost
) -> None:
    """Subscribers' mail, and the reminder of the promised next update, as outbox rows."""
    outbox.enqueue(
        session=session,
        now=now,
        kind=NOTIFY_SUBSCRIBERS,
        key=f"status-post-{made.public_id}",
        due_at=now,
        payload={"post_id": made.id},
        incident_id=shown.incident_id,
    )
    if made.next_update_at is not None:
        lead = min(timedelta(minutes=5), (made.next_update_at - now) / 3)
        for late, at in ((False, made.next_update_at - lead), (True, made.next_update_at)):
            outbox.enqueue(
                session=session,
                now=now,
                kind=REMIND_COMMS,
                key=f"status-{'late' if late else 'remind'}-{made.public_id}",
                due_at=at,
                payload={"status_incident_id": shown.id, "post_id": made.id, "late": late},
                incident_id=shown.incident_id,
            )


def incident_ref(shown: StatusIncident) -> str | None:
    return format_ref(shown.incident_id) if shown.incident_id else None
