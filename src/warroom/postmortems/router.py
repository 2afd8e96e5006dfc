"""JSON API for postmortems (Markdown, HTML, JSON) and action items."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy.orm import Session

from warroom.db.uow import unit_of_work
from warroom.errors import NotFound
from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident
from warroom.incidents.rules import format_ref
from warroom.postmortems import actions, markdown, service
from warroom.postmortems.models import ActionItem, Postmortem
from warroom.postmortems.rules import ActionStatus, Status, is_overdue
from warroom.postmortems.schemas import (
    ActionClose,
    ActionCreate,
    ActionRead,
    Finding,
    MarkdownIn,
    PostmortemPatch,
    PostmortemRead,
)
from warroom.web.deps import ClockDep, Responder, Sessions, Viewer
from warroom.web.templates import templates

router = APIRouter(prefix="/api/v1", tags=["postmortems"])
RefPath = Annotated[str, Path(min_length=1, max_length=32)]
Format = Literal["json", "md", "html"]


def zone_of(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.settings.time_zone)


def action_read(item: ActionItem, today: datetime) -> ActionRead:
    return ActionRead(
        id=item.id,
        incident=format_ref(item.incident_id),
        title=item.title,
        category=item.category,
        priority=item.priority,
        owner=item.owner.handle,
        due=item.due_on,
        status=item.status,
        reason=item.reason,
        tracker_url=item.tracker_url,
        overdue=is_overdue(item.due_on, ActionStatus(item.status), today.date()),
        created_at=item.created_at,
        closed_at=item.closed_at,
    )


def postmortem_read(
    session: Session, incident: Incident, postmortem: Postmortem, zone: ZoneInfo, now: datetime
) -> PostmortemRead:
    doc = service.document(session, incident, postmortem, zone)
    return PostmortemRead(
        incident=format_ref(incident.id),
        title=incident.title,
        status=postmortem.status,
        due_at=postmortem.due_at,
        overdue=bool(
            postmortem.due_at
            and postmortem.due_at < now
            and postmortem.status != Status.PUBLISHED.value
        ),
        summary=postmortem.summary,
        timeline=postmortem.timeline,
        root_cause=postmortem.root_cause,
        contributing_factors=postmortem.contributing_factors,
        lessons=postmortem.lessons,
        impact=postmortem.impact or {},
        duration_minutes=doc.duration_seconds / 60 if doc.duration_seconds is not None else None,
        action_items=[
            action_read(i, now) for i in actions.for_incident(session=session, incident=incident)
        ],
        markdown=markdown.render(doc, zone),
        updated_at=postmortem.updated_at,
        published_at=postmortem.published_at,
    )


def _loaded(session: Session, ref: str, *, lock: bool = False) -> tuple[Incident, Postmortem]:
    incident = incident_service.get_by_ref(session=session, ref=ref, for_update=lock)
    postmortem = service.get_for(session=session, incident=incident)
    if postmortem is None:
        raise NotFound(
            f"{format_ref(incident.id)} has no postmortem yet: one is drafted when an incident "
            "whose severity requires it is resolved, or create one with POST"
        )
    return incident, postmortem


def _answer(request: Request, read: PostmortemRead, fmt: Format) -> Response:
    if fmt == "md":
        return Response(read.markdown, media_type="text/markdown; charset=utf-8")
    if fmt == "html":
        zone = zone_of(request)

        def local(at: str) -> str:
            return datetime.fromisoformat(at).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")

        return templates.TemplateResponse(request, "postmortem.html", {"pm": read, "local": local})
    return Response(read.model_dump_json(), media_type="application/json")


@router.get("/incidents/{ref}/postmortem", response_model=PostmortemRead)
def get_postmortem(
    ref: RefPath,
    request: Request,
    _: Viewer,
    sessions: Sessions,
    clock: ClockDep,
    format: Format = "json",
) -> Response:
    """The postmortem as JSON, Markdown (``?format=md``) or HTML (``?format=html``)."""
    now = clock.now()
    with unit_of_work(sessions, write=False) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref)
        missing = service.get_for(session=session, incident=incident) is None
    if missing:  # required but not drafted yet (e.g. resolved before this version): draft now
        with unit_of_work(sessions) as session:
            incident = incident_service.get_by_ref(session=session, ref=ref, for_update=True)
            service.ensure_draft(
                session=session,
                now=now,
                incident=incident,
                due_days=request.app.state.settings.postmortem_due_days,
            )
    with unit_of_work(sessions, write=False) as session:
        incident, postmortem = _loaded(session, ref)
        read = postmortem_read(session, incident, postmortem, zone_of(request), now)
    return _answer(request, read, format)


@router.post("/incidents/{ref}/postmortem", status_code=201)
def create_postmortem(
    ref: RefPath, request: Request, _: Responder, sessions: Sessions, clock: ClockDep
) -> PostmortemRead:
    """Draft a postmortem for any incident, even one whose severity does not require it."""
    now = clock.now()
    with unit_of_work(sessions) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref, for_update=True)
        postmortem = service.ensure_draft(
            session=session,
            now=now,
            incident=incident,
            force=True,
            due_days=request.app.state.settings.postmortem_due_days,
        )
        assert postmortem is not None
        return postmortem_read(session, incident, postmortem, zone_of(request), now)


@router.patch("/incidents/{ref}/postmortem")
def patch_postmortem(
    ref: RefPath,
    body: PostmortemPatch,
    request: Request,
    _: Responder,
    sessions: Sessions,
    clock: ClockDep,
) -> PostmortemRead:
    now = clock.now()
    with unit_of_work(sessions) as session:
        incident, postmortem = _loaded(session, ref, lock=True)
        changes = body.model_dump(exclude_unset=True)
        service.update_fields(session=session, now=now, postmortem=postmortem, changes=changes)
        return postmortem_read(session, incident, postmortem, zone_of(request), now)


@router.put("/incidents/{ref}/postmortem/markdown")
def put_markdown(
    ref: RefPath,
    body: MarkdownIn,
    request: Request,
    principal: Responder,
    sessions: Sessions,
    clock: ClockDep,
) -> PostmortemRead:
    """Replace the postmortem from edited Markdown; errors name the section and line."""
    now = clock.now()
    with unit_of_work(sessions) as session:
        incident, postmortem = _loaded(session, ref, lock=True)
        service.apply_markdown(
            session=session,
            now=now,
            postmortem=postmortem,
            incident=incident,
            actor=principal.load(session),
            text=body.markdown,
            zone=zone_of(request),
        )
        return postmortem_read(session, incident, postmortem, zone_of(request), now)


def _move(
    ref: str,
    request: Request,
    principal: Responder,
    sessions: Sessions,
    clock: ClockDep,
    target: Status,
) -> PostmortemRead:
    now = clock.now()
    with unit_of_work(sessions) as session:
        incident, postmortem = _loaded(session, ref, lock=True)
        service.move(
            session=session,
            now=now,
            postmortem=postmortem,
            incident=incident,
            actor=principal.load(session),
            target=target,
        )
        return postmortem_read(session, incident, postmortem, zone_of(request), now)


@router.post("/incidents/{ref}/postmortem/review")
def review(
    ref: RefPath, request: Request, principal: Responder, sessions: Sessions, clock: ClockDep
) -> PostmortemRead:
    """Send the draft for review."""
    return _move(ref, request, principal, sessions, clock, Status.IN_REVIEW)


@router.post("/incidents/{ref}/postmortem/publish")
def publish(
    ref: RefPath, request: Request, principal: Responder, sessions: Sessions, clock: ClockDep
) -> PostmortemRead:
    """Publish the reviewed postmortem; the incident may then be closed."""
    return _move(ref, request, principal, sessions, clock, Status.PUBLISHED)


@router.post("/incidents/{ref}/postmortem/draft")
def back_to_draft(
    ref: RefPath, request: Request, principal: Responder, sessions: Sessions, clock: ClockDep
) -> PostmortemRead:
    """Send a postmortem in review back to draft for changes."""
    return _move(ref, request, principal, sessions, clock, Status.DRAFT)


@router.get("/incidents/{ref}/postmortem/lint")
def lint(ref: RefPath, _: Viewer, sessions: Sessions) -> list[Finding]:
    """Wording that blames people, each with a neutral suggestion (empty: none found)."""
    with unit_of_work(sessions, write=False) as session:
        incident, postmortem = _loaded(session, ref)
        return [
            Finding(
                section=section,
                start=f.start,
                end=f.end,
                text=f.text,
                rule=f.rule,
                message=f.message,
                suggestion=f.suggestion,
            )
            for section, f in service.lint(
                session=session, incident=incident, postmortem=postmortem
            )
        ]


@router.post("/incidents/{ref}/actions", status_code=201, tags=["action items"])
def add_action(
    ref: RefPath, body: ActionCreate, principal: Responder, sessions: Sessions, clock: ClockDep
) -> ActionRead:
    """Add an action item: category, priority, owner and due date are all required."""
    now = clock.now()
    with unit_of_work(sessions) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref, for_update=True)
        item = actions.add(
            session=session,
            now=now,
            incident=incident,
            actor=principal.load(session),
            title=body.title,
            category=body.category,
            priority=body.priority,
            owner=body.owner,
            due_on=body.due,
            tracker_url=body.tracker_url,
        )
        return action_read(item, now)


@router.get("/actions", tags=["action items"])
def list_actions(
    _: Viewer,
    sessions: Sessions,
    clock: ClockDep,
    overdue: bool = False,
    owner: Annotated[str | None, Query(max_length=63)] = None,
    status: Literal["open", "done", "wont_do"] | None = None,
) -> list[ActionRead]:
    now = clock.now()
    with unit_of_work(sessions, write=False) as session:
        items = actions.list_items(
            session=session,
            today=now.date(),
            overdue=overdue,
            owner=owner,
            status=ActionStatus(status) if status else None,
        )
        return [action_read(i, now) for i in items]


@router.post("/actions/{item_id}/close", tags=["action items"])
def close_action(
    item_id: int, body: ActionClose, principal: Responder, sessions: Sessions, clock: ClockDep
) -> ActionRead:
    """Mark an action item done, or won't do (a reason is required)."""
    now = clock.now()
    with unit_of_work(sessions) as session:
        item = actions.get_or_404(session=session, item_id=item_id)
        actions.close(
            session=session,
            now=now,
            item=item,
            actor=principal.load(session),
            status=ActionStatus(body.status),
            reason=body.reason,
        )
        return action_read(item, now)
