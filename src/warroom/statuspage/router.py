"""JSON API to manage the status page: components and posts (the public page is in public.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Request, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.db.uow import unit_of_work
from warroom.errors import Invalid
from warroom.statuspage import rules, service
from warroom.statuspage.models import StatusComponent, StatusIncident, StatusPost
from warroom.statuspage.schemas import (
    ComponentCreate,
    ComponentRead,
    PostCreate,
    PostRead,
    StatusIncidentRead,
)
from warroom.users.models import Service
from warroom.web.deps import Admin, ClockDep, Responder, Sessions, Viewer

router = APIRouter(prefix="/api/v1/statuspage", tags=["status page"])


def public_url(request: Request, shown: StatusIncident) -> str:
    return f"{request.app.state.settings.base_url}/status/incidents/{shown.public_id}"


def component_read(session: Session, component: StatusComponent) -> ComponentRead:
    group = session.get(StatusComponent, component.group_id) if component.group_id else None
    linked = session.get(Service, component.service_id) if component.service_id else None
    return ComponentRead(
        id=component.public_id,
        name=component.name,
        group=group.name if group else None,
        service=linked.slug if linked else None,
        status=component.status,
        published=component.published,
        updated_at=component.updated_at,
    )


@router.get("/components")
def list_components(_: Viewer, sessions: Sessions) -> list[ComponentRead]:
    with unit_of_work(sessions, write=False) as session:
        return [
            component_read(session, c)
            for c in service.list_components(session=session)
            if not c.is_group
        ]


@router.post("/components", status_code=status.HTTP_201_CREATED)
def add_component(
    body: ComponentCreate, _: Admin, sessions: Sessions, clock: ClockDep
) -> ComponentRead:
    """Add a component customers will see (its group is created on first use)."""
    with unit_of_work(sessions) as session:
        component = service.add_component(
            session=session,
            now=clock.now(),
            name=body.name,
            group=body.group,
            service=body.service,
            description=body.description,
        )
        return component_read(session, component)


@router.post("/posts", status_code=status.HTTP_201_CREATED)
def post(
    body: PostCreate, request: Request, principal: Responder, sessions: Sessions, clock: ClockDep
) -> PostRead:
    """Post an update for customers, from an internal incident or (``new``) standalone.

    ``incident`` is an internal reference (INC-42) or a status page incident's id,
    which is how a standalone incident is followed up and resolved.
    """
    if (body.incident is None) == (not body.new):
        raise Invalid(
            "give an incident reference, or new=true for a standalone post", field="incident"
        )
    now = clock.now()
    wanted = service.PostRequest(
        status=rules.PostStatus(body.status),
        message=body.message,
        components={name: rules.ComponentStatus(value) for name, value in body.components.items()},
        title=body.title,
        next_update=timedelta(minutes=body.next_update_minutes)
        if body.next_update_minutes
        else None,
    )
    with unit_of_work(sessions) as session:
        incident, target = (
            service.subject_of(session=session, reference=body.incident)
            if body.incident
            else (None, None)
        )
        made = service.post(
            session=session,
            now=now,
            actor=principal.load(session),
            request=wanted,
            incident=incident,
            target=target,
        )
        shown = session.get(StatusIncident, made.status_incident_id)
        assert shown is not None
        return _post_read(request, shown, made)


def _post_read(request: Request, shown: StatusIncident, made: StatusPost) -> PostRead:
    return PostRead(
        id=made.public_id,
        status_incident=shown.public_id,
        incident=service.incident_ref(shown),
        title=shown.title,
        status=made.status,
        message=made.message,
        affected=made.affected,
        next_update_at=made.next_update_at,
        created_at=made.created_at,
        url=public_url(request, shown),
    )


@router.get("/incidents")
def list_incidents(
    request: Request, _: Viewer, sessions: Sessions, clock: ClockDep
) -> list[StatusIncidentRead]:
    """Public incidents, newest first, with whether the promised next update is late."""
    now = clock.now()
    with unit_of_work(sessions, write=False) as session:
        rows = session.scalars(select(StatusIncident).order_by(StatusIncident.id.desc()).limit(100))
        return [_incident_read(request, shown, now) for shown in rows]


def _incident_read(request: Request, shown: StatusIncident, now: datetime) -> StatusIncidentRead:
    late = (
        shown.next_update_at is not None
        and shown.next_update_at < now
        and shown.status != "resolved"
    )
    return StatusIncidentRead(
        id=shown.public_id,
        incident=service.incident_ref(shown),
        kind=shown.kind,
        title=shown.title,
        status=shown.status,
        impact=shown.impact,
        next_update_at=shown.next_update_at,
        update_late=late,
        updated_at=shown.updated_at,
        url=public_url(request, shown),
    )
