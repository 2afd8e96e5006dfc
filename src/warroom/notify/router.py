"""JSON API for people's contact methods, notification rules, tests and reachability."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Path, status
from sqlalchemy.orm import Session

from warroom.db.uow import unit_of_work
from warroom.errors import Forbidden
from warroom.notify import service as notify_service
from warroom.notify.models import ContactMethod
from warroom.notify.schemas import (
    ContactCreate,
    ContactCreated,
    ContactRead,
    RuleIn,
    RuleRead,
    TestQueued,
    Unreachable,
)
from warroom.oncall import service as oncall_service
from warroom.users import service as user_service
from warroom.users.models import User
from warroom.web.deps import ClockDep, Principal, Sessions, Viewer

router = APIRouter(prefix="/api/v1", tags=["notifications"])
HandlePath = Annotated[str, Path(min_length=1, max_length=63)]


def contact_read(method: ContactMethod) -> ContactRead:
    return ContactRead(
        id=method.id,
        kind=method.kind,
        label=method.label,
        target=method.target,
        disabled_at=method.disabled_at,
        disabled_reason=method.disabled_reason,
        last_success_at=method.last_success_at,
    )


def _person(session: Session, principal: Principal, handle: str) -> User:
    """The user ``handle``, if the caller is that user or an admin."""
    user = user_service.get_or_404(session=session, handle=handle)
    if principal.handle != user.handle and principal.role.value != "admin":
        raise Forbidden("only the person themselves or an admin can see or change contact methods")
    return user


@router.get("/users/{handle}/contact-methods")
def list_contacts(handle: HandlePath, principal: Viewer, sessions: Sessions) -> list[ContactRead]:
    with unit_of_work(sessions, write=False) as session:
        user = _person(session, principal, handle)
        return [contact_read(m) for m in notify_service.contacts_of(session=session, user=user)]


@router.post("/users/{handle}/contact-methods", status_code=status.HTTP_201_CREATED)
def add_contact(
    handle: HandlePath, body: ContactCreate, principal: Viewer, sessions: Sessions, clock: ClockDep
) -> ContactCreated:
    """Add an email address or webhook; a webhook's signing secret is shown only here."""
    with unit_of_work(sessions) as session:
        user = _person(session, principal, handle)
        method = notify_service.add_contact(
            session=session,
            now=clock.now(),
            user=user,
            kind=body.kind,
            target=body.target,
            label=body.label,
        )
        return ContactCreated(**contact_read(method).model_dump(), secret=method.secret)


@router.delete("/users/{handle}/contact-methods/{contact_id}", status_code=204)
def remove_contact(
    handle: HandlePath, contact_id: int, principal: Viewer, sessions: Sessions
) -> None:
    with unit_of_work(sessions) as session:
        user = _person(session, principal, handle)
        method = notify_service.get_contact(session=session, user=user, contact_id=contact_id)
        notify_service.remove_contact(session=session, method=method)


def _rule_reads(session: Session, user: User) -> list[RuleRead]:
    methods = {m.id: m for m in notify_service.contacts_of(session=session, user=user)}
    return [
        RuleRead(
            contact_id=r.contact_method_id,
            kind=methods[r.contact_method_id].kind,
            label=methods[r.contact_method_id].label,
            delay_minutes=r.delay_seconds / 60,
        )
        for r in notify_service.rules_of(session=session, user=user)
    ]


@router.get("/users/{handle}/notification-rules")
def get_rules(handle: HandlePath, principal: Viewer, sessions: Sessions) -> list[RuleRead]:
    """Empty means: every contact method at once when paged."""
    with unit_of_work(sessions, write=False) as session:
        return _rule_reads(session, _person(session, principal, handle))


@router.put("/users/{handle}/notification-rules")
def put_rules(
    handle: HandlePath,
    body: Annotated[list[RuleIn], Body(max_length=50)],
    principal: Viewer,
    sessions: Sessions,
) -> list[RuleRead]:
    """Replace the rules, e.g. email now and the webhook after 2 minutes."""
    with unit_of_work(sessions) as session:
        user = _person(session, principal, handle)
        items = [(r.contact_id, timedelta(minutes=r.delay_minutes)) for r in body]
        notify_service.set_rules(session=session, user=user, items=items)
        return _rule_reads(session, user)


@router.post("/users/{handle}/notify-test", status_code=status.HTTP_202_ACCEPTED)
def notify_test(
    handle: HandlePath, principal: Viewer, sessions: Sessions, clock: ClockDep
) -> TestQueued:
    """Queue a test message through each contact method; results land on the methods."""
    with unit_of_work(sessions) as session:
        user = _person(session, principal, handle)
        methods = notify_service.send_test(session=session, now=clock.now(), user=user)
        return TestQueued(queued=[contact_read(m) for m in methods])


@router.get("/oncall/unreachable")
def unreachable(_: Viewer, sessions: Sessions, clock: ClockDep) -> list[Unreachable]:
    """People on call now or within 24 h who have no working contact method."""
    now = clock.now()
    with unit_of_work(sessions, write=False) as session:
        flagged = []
        people = oncall_service.people_on_call_soon(session=session, now=now)
        for handle, shifts in sorted(people.items()):
            user = user_service.get_by_handle(session=session, handle=handle)
            if (
                user is not None
                and user.active
                and notify_service.reachable(session=session, user=user)
            ):
                continue
            flagged.append(
                Unreachable(
                    user=handle,
                    schedules=sorted({row.slug for row, _ in shifts}),
                    first_shift_start=min(s.start for _, s in shifts),
                    on_call_now=any(s.start <= now < s.end for _, s in shifts),
                    problem=(
                        "no such user"
                        if user is None
                        else "deactivated"
                        if not user.active
                        else "no working contact method"
                    ),
                )
            )
        return flagged
