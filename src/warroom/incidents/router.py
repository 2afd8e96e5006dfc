"""JSON API for severities, incidents, their timeline, updates and templates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from warroom.db.uow import unit_of_work
from warroom.escalation import service as paging
from warroom.incidents import present, rules, updates
from warroom.incidents import queries as incident_queries
from warroom.incidents import service as incident_service
from warroom.incidents import severities as severity_service
from warroom.incidents.rules import Phase
from warroom.incidents.schemas import (
    IncidentCreate,
    IncidentPage,
    IncidentPatch,
    IncidentRead,
    NoteCreate,
    PhaseChange,
    RolesAssign,
    SeverityChange,
    SeverityRead,
    SeverityWrite,
    TemplateRead,
    TemplateWrite,
    TimelineRead,
    UpdateCreate,
    UpdateRead,
)
from warroom.postmortems import service as postmortems
from warroom.web.deps import Admin, ClockDep, Responder, Sessions, Viewer

router = APIRouter(prefix="/api/v1")


class JSONBytes(Response):
    """A body serialised by pydantic already (the route still declares its model)."""

    media_type = "application/json"


Ref = Annotated[str, Path(description="incident reference, e.g. INC-3", max_length=32)]


@router.get("/severities", tags=["severities"])
def list_severities(_: Viewer, sessions: Sessions) -> list[SeverityRead]:
    """Severity levels and the targets that follow from each."""
    with unit_of_work(sessions, write=False) as session:
        rows = severity_service.list_severities(session=session)
        return [SeverityRead.model_validate(r) for r in rows]


@router.put("/severities/{level}", tags=["severities"])
def put_severity(
    level: Annotated[int, Path(ge=1, le=20)], body: SeverityWrite, _: Admin, sessions: Sessions
) -> SeverityRead:
    """Create or change a severity level (admins only)."""
    with unit_of_work(sessions) as session:
        row = severity_service.put(session=session, level=level, severity_in=body)
        return SeverityRead.model_validate(row)


@router.get("/incidents", tags=["incidents"], response_model=IncidentPage)
def list_incidents(
    _: Viewer,
    sessions: Sessions,
    clock: ClockDep,
    phase: Annotated[list[Phase] | None, Query()] = None,
    severity: Annotated[list[str] | None, Query(max_length=20)] = None,
    service: Annotated[str | None, Query(max_length=63)] = None,
    open: Annotated[bool | None, Query()] = None,
    drill: Annotated[bool | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=incident_queries.MAX_PAGE)] = 50,
) -> Response:
    """Incidents, newest first, filtered; follow ``next_cursor`` for more."""
    with unit_of_work(sessions, write=False) as session:
        policies = severity_service.policies(session=session)
        levels = tuple(rules.severity_level_from(s, policies) for s in severity or [])
        filters = incident_queries.IncidentFilter(
            phases=tuple(phase or ()),
            severity_levels=levels,
            service=service,
            open=open,
            drill=drill,
        )
        rows, next_cursor = incident_queries.list_incidents(
            session=session, filters=filters, cursor=cursor, limit=limit
        )
        now = clock.now()
        items = [present.incident_read(r, now=now) for r in rows]
        # Serialised here, once: FastAPI would validate the page again first.
        return JSONBytes(IncidentPage(items=items, next_cursor=next_cursor).model_dump_json())


@router.post("/incidents", status_code=status.HTTP_201_CREATED, tags=["incidents"])
def declare(
    body: IncidentCreate, principal: Responder, sessions: Sessions, clock: ClockDep
) -> IncidentRead:
    """Declare an incident; it starts in triage."""
    now = clock.now()
    with unit_of_work(sessions) as session:
        incident = incident_service.declare(
            session=session, now=now, actor=principal.load(session), incident_in=body
        )
        paging.start(session=session, now=now, incident=incident)
        return present.incident_read(incident, now=now)


@router.get("/incidents/{ref}", tags=["incidents"], response_model=IncidentRead)
def show(
    ref: Ref, _: Viewer, sessions: Sessions, clock: ClockDep, timeline: bool = False
) -> Response:
    """One incident; ``?timeline=true`` includes its timeline."""
    with unit_of_work(sessions, write=False) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref)
        entries = (
            incident_service.timeline(session=session, incident=incident) if timeline else None
        )
        shown = present.incident_read(incident, now=clock.now(), timeline=entries)
        return JSONBytes(shown.model_dump_json())


@router.patch("/incidents/{ref}", tags=["incidents"])
def patch(
    ref: Ref, body: IncidentPatch, principal: Responder, sessions: Sessions, clock: ClockDep
) -> IncidentRead:
    """Change title, impact, theory, next action or affected services."""
    now = clock.now()
    with unit_of_work(sessions) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref, for_update=True)
        incident_service.update_fields(
            session=session,
            now=now,
            actor=principal.load(session),
            incident=incident,
            patch=body,
        )
        return present.incident_read(incident, now=now)


@router.post("/incidents/{ref}/ack", tags=["incidents"])
def acknowledge(
    ref: Ref, principal: Responder, sessions: Sessions, clock: ClockDep
) -> IncidentRead:
    """Acknowledge the incident."""
    now = clock.now()
    with unit_of_work(sessions) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref, for_update=True)
        actor = principal.load(session)
        incident_service.acknowledge(session=session, now=now, actor=actor, incident=incident)
        paging.stop_for_incident(
            session=session,
            now=now,
            incident=incident,
            actor=actor,
            why=f"acknowledged by @{actor.handle}",
        )
        return present.incident_read(incident, now=now)


@router.post("/incidents/{ref}/roles", tags=["incidents"])
def assign_roles(
    ref: Ref, body: RolesAssign, principal: Responder, sessions: Sessions, clock: ClockDep
) -> IncidentRead:
    """Assign the Incident Commander, Tech Lead and Communications Lead."""
    now = clock.now()
    with unit_of_work(sessions) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref, for_update=True)
        incident_service.assign_roles(
            session=session,
            now=now,
            actor=principal.load(session),
            incident=incident,
            roles_in=body,
        )
        return present.incident_read(incident, now=now)


@router.post("/incidents/{ref}/phase", tags=["incidents"])
def change_phase(
    ref: Ref,
    body: PhaseChange,
    request: Request,
    principal: Responder,
    sessions: Sessions,
    clock: ClockDep,
) -> IncidentRead:
    """Move the incident along its lifecycle; 409 names the allowed next phases."""
    now = clock.now()
    target = rules.parse_phase(body.phase)
    with unit_of_work(sessions) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref, for_update=True)
        incident_service.change_phase(
            session=session,
            now=now,
            actor=principal.load(session),
            incident=incident,
            phase=target,
            note=body.note,
        )
        if target is Phase.RESOLVED:
            postmortems.ensure_draft(
                session=session,
                now=now,
                incident=incident,
                due_days=request.app.state.settings.postmortem_due_days,
            )
        if target not in rules.OPEN_PHASES:
            paging.stop_for_incident(
                session=session,
                now=now,
                incident=incident,
                actor=None,
                why=f"incident {target.value}",
            )
        return present.incident_read(incident, now=now)


@router.post("/incidents/{ref}/resolve", tags=["incidents"])
def resolve(
    ref: Ref, request: Request, principal: Responder, sessions: Sessions, clock: ClockDep
) -> IncidentRead:
    """Mark the incident resolved."""
    resolved = PhaseChange(phase=Phase.RESOLVED.value)
    return change_phase(ref, resolved, request, principal, sessions, clock)


@router.post("/incidents/{ref}/severity", tags=["incidents"])
def change_severity(
    ref: Ref, body: SeverityChange, principal: Responder, sessions: Sessions, clock: ClockDep
) -> IncidentRead:
    """Change the severity; targets and cadence follow the new level."""
    now = clock.now()
    with unit_of_work(sessions) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref, for_update=True)
        incident_service.change_severity(
            session=session,
            now=now,
            actor=principal.load(session),
            incident=incident,
            severity=body.severity,
            reason=body.reason,
        )
        return present.incident_read(incident, now=now)


@router.get("/incidents/{ref}/timeline", tags=["timeline"])
def get_timeline(ref: Ref, _: Viewer, sessions: Sessions) -> list[TimelineRead]:
    """The incident's timeline in event order."""
    with unit_of_work(sessions, write=False) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref)
        entries = incident_service.timeline(session=session, incident=incident)
        return [present.timeline_read(e) for e in entries]


@router.post("/incidents/{ref}/notes", status_code=status.HTTP_201_CREATED, tags=["timeline"])
def add_note(
    ref: Ref, body: NoteCreate, principal: Responder, sessions: Sessions, clock: ClockDep
) -> TimelineRead:
    """Add a note to the timeline, optionally dated earlier or correcting an entry."""
    with unit_of_work(sessions) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref, for_update=True)
        entry = incident_service.add_note(
            session=session,
            now=clock.now(),
            actor=principal.load(session),
            incident=incident,
            note_in=body,
        )
        return present.timeline_read(entry)


@router.get("/incidents/{ref}/updates", tags=["updates"])
def list_updates(ref: Ref, _: Viewer, sessions: Sessions) -> list[UpdateRead]:
    """The incident's internal updates, oldest first."""
    with unit_of_work(sessions, write=False) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref)
        return [
            present.update_read(u) for u in updates.list_updates(session=session, incident=incident)
        ]


@router.post("/incidents/{ref}/updates", status_code=status.HTTP_201_CREATED, tags=["updates"])
def post_update(
    ref: Ref, body: UpdateCreate, principal: Responder, sessions: Sessions, clock: ClockDep
) -> UpdateRead:
    """Post an internal update; the next one is due on the severity's cadence."""
    with unit_of_work(sessions) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref, for_update=True)
        update = updates.post_update(
            session=session,
            now=clock.now(),
            actor=principal.load(session),
            incident=incident,
            update_in=body,
        )
        return present.update_read(update)


@router.get("/templates/{name}", tags=["templates"])
def get_template(name: str, _: Viewer, sessions: Sessions) -> TemplateRead:
    """A message template as currently in use."""
    with unit_of_work(sessions, write=False) as session:
        body, row = updates.template_body(session=session, name=name)
        return TemplateRead(
            name=name, body=body, is_default=row is None, updated_at=row.updated_at if row else None
        )


@router.put("/templates/{name}", tags=["templates"])
def put_template(
    name: str, body: TemplateWrite, principal: Admin, sessions: Sessions, clock: ClockDep
) -> TemplateRead:
    """Replace a message template (admins only); it must render with sample values."""
    with unit_of_work(sessions) as session:
        row = updates.set_template(
            session=session,
            now=clock.now(),
            actor=principal.load(session),
            name=name,
            body=body.body,
        )
        return TemplateRead(name=name, body=row.body, is_default=False, updated_at=row.updated_at)


@router.delete("/templates/{name}", tags=["templates"])
def reset_template(name: str, _: Admin, sessions: Sessions) -> TemplateRead:
    """Go back to the built-in template (admins only)."""
    with unit_of_work(sessions) as session:
        updates.reset_template(session=session, name=name)
        body, _row = updates.template_body(session=session, name=name)
        return TemplateRead(name=name, body=body, is_default=True, updated_at=None)
