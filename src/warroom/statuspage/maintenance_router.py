"""JSON API for scheduled maintenance: announce, list, show, post updates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Request, status
from sqlalchemy.orm import Session

from warroom.db.uow import unit_of_work
from warroom.errors import Invalid
from warroom.statuspage import maintenance, service
from warroom.statuspage.maintenance_schemas import (
    MaintenanceCreate,
    MaintenancePostRead,
    MaintenanceRead,
    MaintenanceStatusName,
    MaintenanceUpdateCreate,
)
from warroom.statuspage.models import StatusIncident
from warroom.statuspage.router import public_url
from warroom.statuspage.rules import MaintenanceStatus
from warroom.web.deps import ClockDep, Responder, Sessions, Viewer

router = APIRouter(prefix="/api/v1/statuspage/maintenances", tags=["status page"])
IdPath = Annotated[str, Path(min_length=1, max_length=32)]


def org_time(request: Request, value: datetime | None, field: str) -> datetime | None:
    """``value`` if it has an offset; a bare local time is read in the organisation's zone.

    A local time the clocks skip (spring forward) is refused rather than shifted;
    one they repeat (fall back) means its first occurrence.
    """
    if value is None or value.utcoffset() is not None:
        return value
    zone = ZoneInfo(request.app.state.settings.time_zone)
    local = value.replace(tzinfo=zone)
    try:
        round_trip = local.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    except OverflowError:
        raise Invalid(f"{field} is out of range", field=field) from None
    if round_trip != value:
        raise Invalid(
            f"{value:%Y-%m-%d %H:%M} does not exist in {zone.key} (the clocks skip it); "
            "give an offset",
            field=field,
        )
    return local


def maintenance_read(request: Request, session: Session, shown: StatusIncident) -> MaintenanceRead:
    names = {c.id: c.name for c in service.list_components(session=session)}
    return MaintenanceRead(
        id=shown.public_id,
        title=shown.title,
        status=shown.status,
        impact=shown.impact,
        components=[names[c] for c in shown.component_ids if c in names],
        scheduled_for=shown.scheduled_for,
        scheduled_until=shown.scheduled_until,
        created_at=shown.created_at,
        updated_at=shown.updated_at,
        completed_at=shown.resolved_at,
        updates=[
            MaintenancePostRead(
                id=p.public_id,
                status=p.status,
                message=p.message,
                affected=p.affected,
                created_at=p.created_at,
            )
            for p in shown.posts
        ],
        url=public_url(request, shown),
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def schedule(
    body: MaintenanceCreate,
    request: Request,
    principal: Responder,
    sessions: Sessions,
    clock: ClockDep,
) -> MaintenanceRead:
    """Announce a maintenance to customers and subscribers; it starts and ends by itself."""
    until = org_time(request, body.scheduled_until, "scheduled_until")
    assert until is not None
    plan = maintenance.MaintenancePlan(
        title=body.title,
        message=body.message,
        components=body.components,
        scheduled_for=org_time(request, body.scheduled_for, "scheduled_for"),
        scheduled_until=until,
        start_now=body.start_now,
    )
    with unit_of_work(sessions) as session:
        made = maintenance.schedule(
            session=session, now=clock.now(), actor=principal.load(session), plan=plan
        )
        return maintenance_read(request, session, made)


@router.get("")
def list_maintenances(
    request: Request, _: Viewer, sessions: Sessions, status: MaintenanceStatusName | None = None
) -> list[MaintenanceRead]:
    """Maintenances, the latest scheduled first (100 at most), optionally of one status."""
    wanted = MaintenanceStatus(status) if status else None
    with unit_of_work(sessions, write=False) as session:
        rows = maintenance.list_maintenances(session=session, status=wanted)
        return [maintenance_read(request, session, row) for row in rows]


@router.get("/{maintenance_id}")
def show(
    maintenance_id: IdPath, request: Request, _: Viewer, sessions: Sessions
) -> MaintenanceRead:
    """One maintenance with its updates, newest first."""
    with unit_of_work(sessions, write=False) as session:
        found = maintenance.get_by_public_id(session=session, public=maintenance_id)
        return maintenance_read(request, session, found)


@router.post("/{maintenance_id}/updates", status_code=status.HTTP_201_CREATED)
def post_update(
    maintenance_id: IdPath,
    body: MaintenanceUpdateCreate,
    request: Request,
    principal: Responder,
    sessions: Sessions,
    clock: ClockDep,
) -> MaintenanceRead:
    """Post on a maintenance: start, verify or complete it early, or move its window."""
    update = maintenance.MaintenanceUpdate(
        status=MaintenanceStatus(body.status),
        message=body.message,
        scheduled_for=org_time(request, body.scheduled_for, "scheduled_for"),
        scheduled_until=org_time(request, body.scheduled_until, "scheduled_until"),
        components=body.components,
    )
    with unit_of_work(sessions) as session:
        found = maintenance.get_by_public_id(
            session=session, public=maintenance_id, for_update=True
        )
        maintenance.post_update(
            session=session,
            now=clock.now(),
            actor=principal.load(session),
            maintenance=found,
            update=update,
        )
        return maintenance_read(request, session, found)
