"""Scheduled maintenance: announce, start, verify, complete. Flushes only.

A maintenance is a StatusIncident of kind "maintenance". Every change is a
StatusPost (so the page, feeds and JSON show it, and subscribers get mail) and
bumps the page version. Announcing is itself a post: subscribers hear of a
maintenance when it is scheduled, not only when it starts.

At ``scheduled_for`` a timer in the outbox starts it (its components go
``under_maintenance``); at ``scheduled_until`` another completes it (they go
back to operational unless another open incident or active maintenance still
holds them). A timer carries the time it was set for, so one left behind by a
moved or finished maintenance finds nothing to do.

The public vocabulary has no "cancelled": completing a maintenance that never
started is how it is called off, and the author's message says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.errors import Conflict, Invalid, NotFound
from warroom.outbox import service as outbox
from warroom.statuspage import rules, service
from warroom.statuspage.models import StatusComponent, StatusIncident, StatusPost
from warroom.statuspage.rules import ComponentStatus, MaintenanceStatus
from warroom.users.models import User

KIND = "maintenance"
TIMER = "status_maintenance"
START, COMPLETE = "start", "complete"
TIMER_STEPS = frozenset({START, COMPLETE})
MAX_AHEAD = timedelta(days=366)
# Statuspage's own wording for the automatic transitions.
STARTED_MESSAGE = (
    "Scheduled maintenance is currently in progress. We will provide updates as necessary."
)
COMPLETED_MESSAGE = "The scheduled maintenance has been completed."

# Where a post may take a maintenance from each status. Verifying may fall back
# to in progress (the check failed); completed is final.
NEXT_STATUSES: dict[MaintenanceStatus, tuple[MaintenanceStatus, ...]] = {
    MaintenanceStatus.SCHEDULED: (
        MaintenanceStatus.SCHEDULED,
        MaintenanceStatus.IN_PROGRESS,
        MaintenanceStatus.COMPLETED,
    ),
    MaintenanceStatus.IN_PROGRESS: (
        MaintenanceStatus.IN_PROGRESS,
        MaintenanceStatus.VERIFYING,
        MaintenanceStatus.COMPLETED,
    ),
    MaintenanceStatus.VERIFYING: (
        MaintenanceStatus.VERIFYING,
        MaintenanceStatus.IN_PROGRESS,
        MaintenanceStatus.COMPLETED,
    ),
    MaintenanceStatus.COMPLETED: (),
}


@dataclass(frozen=True)
class MaintenancePlan:
    """A maintenance to announce; times are timezone-aware."""

    title: str
    message: str
    components: list[str]
    scheduled_until: datetime
    scheduled_for: datetime | None = None
    start_now: bool = False


@dataclass(frozen=True)
class MaintenanceUpdate:
    """A post on a maintenance; new times (aware) move its window."""

    status: MaintenanceStatus
    message: str
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None
    components: list[str] | None = None  # the new set; only while it stays scheduled


def _title(text: str) -> str:
    title = text.strip()
    if not 1 <= len(title) <= rules.MAX_TITLE:
        raise Invalid(f"a title has 1 to {rules.MAX_TITLE} characters", field="title")
    return title


def _message(text: str) -> str:
    message = text.strip()
    if not message:
        raise Invalid("write a message for customers", field="message")
    if len(message) > rules.MAX_MESSAGE:
        raise Invalid(f"the message is longer than {rules.MAX_MESSAGE} characters", field="message")
    return message


def _future(value: datetime, now: datetime, field: str) -> datetime:
    """``value`` in UTC, if it is aware, in the future and at most MAX_AHEAD away."""
    if value.utcoffset() is None:
        raise Invalid(f"{field} must carry a time zone offset", field=field)
    try:
        at = value.astimezone(UTC)
    except OverflowError:  # e.g. year 1 with a positive offset
        raise Invalid(f"{field} is out of range", field=field) from None
    if at <= now:
        raise Invalid(f"{field} must be in the future", field=field)
    # Also keeps every time renderable in any page zone (year 9999 is not).
    if at > now + MAX_AHEAD:
        raise Invalid(f"{field} is more than a year ahead", field=field)
    return at


def _window(now: datetime, plan: MaintenancePlan) -> tuple[datetime, datetime]:
    """The (start, end) of a new maintenance, in UTC, or Invalid naming the field."""
    if plan.start_now:
        if plan.scheduled_for is not None:
            raise Invalid(
                "leave scheduled_for out when starting now (it starts now)", field="scheduled_for"
            )
        starts = now
    elif plan.scheduled_for is None:
        raise Invalid(
            "scheduled_for is missing: say when it starts, or start it now", field="scheduled_for"
        )
    else:
        starts = _future(plan.scheduled_for, now, "scheduled_for")
    ends = _future(plan.scheduled_until, now, "scheduled_until")
    if ends <= starts:
        raise Invalid("scheduled_until must be after scheduled_for", field="scheduled_until")
    return starts, ends


def _components(session: Session, names: list[str]) -> list[StatusComponent]:
    wanted = list(dict.fromkeys(name.strip() for name in names))
    if not wanted:
        raise Invalid("name at least one component under maintenance", field="components")
    return [service.component_by_name(session, name, field_name="components") for name in wanted]


def schedule(
    *, session: Session, now: datetime, actor: User | None, plan: MaintenancePlan
) -> StatusIncident:
    """Announce a maintenance (a post subscribers get); ``start_now`` starts it at once."""
    title, message = _title(plan.title), _message(plan.message)
    starts, ends = _window(now, plan)
    components = _components(session, plan.components)
    maintenance = StatusIncident(
        public_id=service.public_id(),
        kind=KIND,
        title=title,
        status=MaintenanceStatus.SCHEDULED.value,
        impact=rules.Impact.MAINTENANCE.value,
        component_ids=[c.id for c in components],
        scheduled_for=starts,
        scheduled_until=ends,
        created_at=now,
        updated_at=now,
        started_at=now,
    )
    session.add(maintenance)
    session.flush()
    wanted = MaintenanceStatus.IN_PROGRESS if plan.start_now else MaintenanceStatus.SCHEDULED
    _move(session, now, actor, maintenance, wanted, message)
    if not plan.start_now:
        _set_timer(session, now, maintenance, START, starts)
    _set_timer(session, now, maintenance, COMPLETE, ends)
    return maintenance


def post_update(
    *,
    session: Session,
    now: datetime,
    actor: User | None,
    maintenance: StatusIncident,
    update: MaintenanceUpdate,
) -> StatusPost:
    """Post on a maintenance: a new status (see NEXT_STATUSES), and maybe a moved window."""
    was = MaintenanceStatus(maintenance.status)
    if update.status not in NEXT_STATUSES[was]:
        allowed = ", ".join(s.value for s in NEXT_STATUSES[was])
        raise Conflict(
            f"a {was.value} maintenance can move to {allowed} only"
            if allowed
            else "this maintenance is completed; schedule a new one",
            field="status",
        )
    message = _message(update.message)
    moved = _reschedule(now, maintenance, update)
    if update.components is not None:
        _rescope(session, was, maintenance, update)
    made = _move(session, now, actor, maintenance, update.status, message)
    for step, at in moved:
        _set_timer(session, now, maintenance, step, at)
    return made


def _reschedule(
    now: datetime, maintenance: StatusIncident, update: MaintenanceUpdate
) -> list[tuple[str, datetime]]:
    """Apply new times; the timers they need. Old timers stay and find a changed time."""
    moved: list[tuple[str, datetime]] = []
    starts, ends = maintenance.scheduled_for, maintenance.scheduled_until
    # Every maintenance is made with both times (schedule()).
    assert starts is not None
    assert ends is not None
    if update.scheduled_for is not None:
        if update.status is not MaintenanceStatus.SCHEDULED:
            raise Invalid(
                "only a maintenance that stays scheduled can get a new start", field="scheduled_for"
            )
        starts = _future(update.scheduled_for, now, "scheduled_for")
        moved.append((START, starts))
    if update.scheduled_until is not None:
        if update.status is MaintenanceStatus.COMPLETED:
            raise Invalid("a completed maintenance has no end to move", field="scheduled_until")
        ends = _future(update.scheduled_until, now, "scheduled_until")
        moved.append((COMPLETE, ends))
    if ends <= starts:
        raise Invalid("scheduled_until must be after scheduled_for", field="scheduled_until")
    maintenance.scheduled_for, maintenance.scheduled_until = starts, ends
    return moved


def _rescope(
    session: Session, was: MaintenanceStatus, maintenance: StatusIncident, update: MaintenanceUpdate
) -> None:
    """A new set of components, before any of them was put under maintenance."""
    if was is not MaintenanceStatus.SCHEDULED or update.status is not MaintenanceStatus.SCHEDULED:
        # Started, its components carry its status; swapping them mid-window would
        # leave some under maintenance with nothing to end it.
        raise Invalid(
            "components change only while the maintenance stays scheduled; "
            "complete this one and schedule another",
            field="components",
        )
    maintenance.component_ids = [c.id for c in _components(session, update.components or [])]


def _move(
    session: Session,
    now: datetime,
    actor: User | None,
    maintenance: StatusIncident,
    status: MaintenanceStatus,
    message: str,
) -> StatusPost:
    """Set ``status`` with its component changes, as one post."""
    was = MaintenanceStatus(maintenance.status)
    affected: list[dict[str, str]] = []
    if status in rules.ACTIVE_MAINTENANCE and was not in rules.ACTIVE_MAINTENANCE:
        affected = _begin(session, now, maintenance)
    elif status is MaintenanceStatus.COMPLETED and was in rules.ACTIVE_MAINTENANCE:
        affected = _end(session, now, maintenance)
    maintenance.status = status.value
    maintenance.updated_at = now
    if status is MaintenanceStatus.VERIFYING and maintenance.monitoring_at is None:
        maintenance.monitoring_at = now
    if status is MaintenanceStatus.COMPLETED:
        maintenance.resolved_at = now
    return _publish(session, now, actor, maintenance, status, message, affected)


def _of(session: Session, maintenance: StatusIncident) -> list[StatusComponent]:
    query = (
        select(StatusComponent)
        .where(StatusComponent.id.in_(maintenance.component_ids))
        .order_by(StatusComponent.position, StatusComponent.id)
    )
    return list(session.scalars(query))


def _begin(session: Session, now: datetime, maintenance: StatusIncident) -> list[dict[str, str]]:
    """Put the components under maintenance, except those already worse off.

    An outage outranks maintenance (rules.COMPONENT_RANK): customers should keep
    seeing it rather than a planned-work label that hides it.
    """
    maintained = ComponentStatus.UNDER_MAINTENANCE
    return [
        service.set_status(session, now, component, maintained)
        for component in _of(session, maintenance)
        if rules.badness(ComponentStatus(component.status)) < rules.badness(maintained)
    ]


def _end(session: Session, now: datetime, maintenance: StatusIncident) -> list[dict[str, str]]:
    """Put components this maintenance left under maintenance back to operational.

    Components another open incident or active maintenance names keep their
    status: that one still speaks for them. Components someone changed during
    the window (no longer under maintenance) are theirs, not ours, to restore.
    """
    held = service.held_elsewhere(session, maintenance)
    return [
        service.set_status(session, now, component, ComponentStatus.OPERATIONAL)
        for component in _of(session, maintenance)
        if component.status == ComponentStatus.UNDER_MAINTENANCE.value and component.id not in held
    ]


def _publish(
    session: Session,
    now: datetime,
    actor: User | None,
    maintenance: StatusIncident,
    status: MaintenanceStatus,
    message: str,
    affected: list[dict[str, str]],
) -> StatusPost:
    """The post, its subscriber mail (through the outbox) and a new page version."""
    made = StatusPost(
        public_id=service.public_id(),
        status_incident_id=maintenance.id,
        status=status.value,
        message=message,
        affected=affected,
        next_update_at=None,
        author_id=actor.id if actor else None,
        created_at=now,
        display_at=now,
    )
    session.add(made)
    session.flush()
    # The posts relationship was loaded before this one existed.
    session.expire(maintenance, ["posts"])
    # Same kind and key as service.post's, so the worker fans it out the same way.
    outbox.enqueue(
        session=session,
        now=now,
        kind=service.NOTIFY_SUBSCRIBERS,
        key=f"status-post-{made.public_id}",
        due_at=now,
        payload={"post_id": made.id},
    )
    service.bump(session, now)
    return made


def _set_timer(
    session: Session, now: datetime, maintenance: StatusIncident, step: str, at: datetime
) -> None:
    # Keyed by the time: moving a window back to a time already timed reuses
    # that (still pending) timer instead of adding a second one.
    outbox.enqueue(
        session=session,
        now=now,
        kind=TIMER,
        key=f"maintenance-{step}-{maintenance.public_id}-{at.strftime('%Y%m%dT%H%M%S%f')}",
        due_at=at,
        payload={"step": step, "maintenance_id": maintenance.id, "at": at.isoformat()},
    )


def fire_timer(
    *, session: Session, now: datetime, maintenance_id: int, step: str, at: datetime
) -> str | None:
    """Start or complete a maintenance whose time has come; why not, when it did nothing."""
    maintenance = session.get(
        StatusIncident, maintenance_id, with_for_update=True, populate_existing=True
    )
    if maintenance is None or maintenance.kind != KIND:
        return "the maintenance is gone"
    status = MaintenanceStatus(maintenance.status)
    if step == START:
        if maintenance.scheduled_for != at:
            return "the maintenance was moved; a newer timer starts it"
        if status is not MaintenanceStatus.SCHEDULED:
            return "the maintenance was started or completed already"
        if maintenance.scheduled_until is not None and maintenance.scheduled_until <= now:
            return "its window has passed; the completion timer closes it"
        _move(session, now, None, maintenance, MaintenanceStatus.IN_PROGRESS, STARTED_MESSAGE)
        return None
    if maintenance.scheduled_until != at:
        return "the maintenance was moved; a newer timer completes it"
    if status is MaintenanceStatus.COMPLETED:
        return "the maintenance was completed already"
    _move(session, now, None, maintenance, MaintenanceStatus.COMPLETED, COMPLETED_MESSAGE)
    return None


def get_by_public_id(*, session: Session, public: str, for_update: bool = False) -> StatusIncident:
    """The maintenance ``public``, or NotFound (incidents are not maintenances)."""
    query = select(StatusIncident).where(
        StatusIncident.public_id == public, StatusIncident.kind == KIND
    )
    found = session.scalar(query.with_for_update() if for_update else query)
    if found is None:
        raise NotFound(f"no scheduled maintenance {public}")
    return found


def list_maintenances(
    *, session: Session, status: MaintenanceStatus | None = None, limit: int = 100
) -> list[StatusIncident]:
    """Maintenances, the latest scheduled first."""
    query = (
        select(StatusIncident)
        .where(StatusIncident.kind == KIND)
        .order_by(StatusIncident.scheduled_for.desc(), StatusIncident.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(StatusIncident.status == status.value)
    return list(session.scalars(query))
