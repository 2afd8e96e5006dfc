"""The one-click acknowledgement page that every page notification links to.

The signed, expiring token in the URL is the credential: it names the page
and the person paged. GET shows the incident and a button (mail scanners
fetch links, so a GET must never acknowledge); the button POSTs the ack.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from warroom.db.uow import unit_of_work
from warroom.escalation import service as paging
from warroom.escalation.models import Page
from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident
from warroom.incidents.rules import format_ref
from warroom.notify.rules import BadAckToken, verify_ack_token
from warroom.users import service as user_service
from warroom.web.deps import ClockDep, Sessions
from warroom.web.templates import templates

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Path(min_length=1, max_length=512)]


def _incident_view(incident: Incident) -> dict[str, Any]:
    return {
        "ref": format_ref(incident.id),
        "title": incident.title,
        "severity": incident.severity.name,
        "phase": incident.phase,
        "services": ", ".join(s.slug for s in incident.services),
    }


def _render(request: Request, status: int, **context: Any) -> HTMLResponse:
    context.setdefault("incident", None)
    context.setdefault("can_ack", False)
    context.setdefault("tone", "")
    context.setdefault("handle", "")
    return templates.TemplateResponse(request, "ack.html", context, status_code=status)


def _check(request: Request, token: str, now: datetime) -> tuple[int, str] | HTMLResponse:
    secret = str(request.app.state.settings.secret_key).encode()
    try:
        return verify_ack_token(secret, token, now)
    except BadAckToken as error:
        status = 410 if str(error.reason) == "expired" else 404
        message = (
            "This acknowledgement link has expired. Acknowledge with `warroom ack` instead."
            if status == 410
            else "This acknowledgement link is not valid."
        )
        return _render(request, status, title="Link not usable", message=message, tone="warn")


def _load(session: Session, page_id: int) -> tuple[Page, Incident] | None:
    page = session.get(Page, page_id)
    incident = session.get(Incident, page.incident_id) if page else None
    return (page, incident) if page and incident else None


@router.get("/ack/{token}", response_class=HTMLResponse)
def ack_form(token: Token, request: Request, sessions: Sessions, clock: ClockDep) -> HTMLResponse:
    checked = _check(request, token, clock.now())
    if isinstance(checked, HTMLResponse):
        return checked
    page_id, handle = checked
    with unit_of_work(sessions, write=False) as session:
        found = _load(session, page_id)
        if found is None:
            return _render(
                request, 404, title="Incident not found", message="It may have been deleted."
            )
        _, incident = found
        view = _incident_view(incident)
        if incident.acknowledged_at is not None:
            by = incident.acknowledged_by.handle if incident.acknowledged_by else "an integration"
            message = f"Already acknowledged by @{by} at {incident.acknowledged_at:%H:%M} UTC."
            return _render(
                request,
                200,
                title="Already acknowledged",
                incident=view,
                handle=handle,
                message=message,
                tone="ok",
            )
        return _render(
            request,
            200,
            title=f"Acknowledge {view['ref']}?",
            incident=view,
            handle=handle,
            can_ack=True,
        )


@router.post("/ack/{token}", response_class=HTMLResponse)
def ack(token: Token, request: Request, sessions: Sessions, clock: ClockDep) -> HTMLResponse:
    now = clock.now()
    checked = _check(request, token, now)
    if isinstance(checked, HTMLResponse):
        return checked
    page_id, handle = checked
    with unit_of_work(sessions) as session:
        found = _load(session, page_id)
        user = user_service.get_by_handle(session=session, handle=handle)
        if found is None or user is None or not user.active:
            return _render(
                request, 404, title="Not found", message="The incident or person is gone."
            )
        incident = incident_service.get_by_ref(
            session=session, ref=format_ref(found[1].id), for_update=True
        )
        view = _incident_view(incident)
        if incident.acknowledged_at is not None:
            by = incident.acknowledged_by.handle if incident.acknowledged_by else "an integration"
            return _render(
                request,
                200,
                title="Already acknowledged",
                incident=view,
                handle=handle,
                message=f"Already acknowledged by @{by}.",
                tone="ok",
            )
        incident_service.acknowledge(
            session=session, now=now, actor=user, incident=incident, via="link in page"
        )
        paging.stop_for_incident(
            session=session,
            now=now,
            incident=incident,
            actor=user,
            why=f"acknowledged by @{user.handle} from the page's link",
        )
        return _render(
            request,
            200,
            title="Acknowledged",
            incident=view,
            handle=handle,
            message=f"{view['ref']} is acknowledged by @{user.handle}. Paging stopped.",
            tone="ok",
        )
