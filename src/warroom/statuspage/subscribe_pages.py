"""Public sign-up pages: subscribe (double opt-in), confirm, unsubscribe. No sign-in.

Links carry a token signed with the server's secret; GET shows a button and
only POST changes anything, so mail scanners that follow links change
nothing (mail clients use the List-Unsubscribe-Post one-click header).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from warroom.db.uow import unit_of_work
from warroom.errors import WarroomError
from warroom.signing import feed_token_valid
from warroom.statuspage import subscribers
from warroom.statuspage.models import Subscriber
from warroom.statuspage.present import PageConfig
from warroom.statuspage.service import list_components
from warroom.web.deps import ClockDep, Sessions
from warroom.web.templates import templates

router = APIRouter(prefix="/status", include_in_schema=False)
MAX_FORM = 16 * 1024


def _render(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    config: PageConfig = request.app.state.status_config
    context.setdefault("message", "")
    context.setdefault("button", "")
    context.setdefault("form", False)
    base = {"page": config, "base": config.url, "subscribe": True}
    return templates.TemplateResponse(
        request, "status/subscribe.html", base | context, status_code=status
    )


def _components(request: Request, sessions: Sessions) -> list[dict[str, str]]:
    with unit_of_work(sessions, write=False) as session:
        rows = list_components(session=session)
        return [{"id": c.public_id, "name": c.name} for c in rows if c.published and not c.is_group]


@router.get("/subscribe", response_class=HTMLResponse)
def subscribe_form(request: Request, sessions: Sessions) -> HTMLResponse:
    return _render(
        request,
        title="Get status updates by email",
        form=True,
        components=_components(request, sessions),
    )


@router.post("/subscribe", response_class=HTMLResponse)
async def subscribe(request: Request, sessions: Sessions, clock: ClockDep) -> HTMLResponse:
    body = await request.body()
    if len(body) > MAX_FORM:
        return _render(request, 413, title="Too large", message="The form was too large.")
    fields = parse_qs(body.decode("utf-8", "replace"))
    email = (fields.get("email") or [""])[0]
    try:
        with unit_of_work(sessions) as session:
            subscribers.subscribe(
                session=session, now=clock.now(), email=email, components=fields.get("component")
            )
    except WarroomError as error:
        return _render(
            request,
            422,
            title="Get status updates by email",
            form=True,
            message=str(error),
            components=_components(request, sessions),
        )
    return _render(
        request,
        202,
        title="Check your inbox",
        message="We sent a confirmation link. Updates start once you confirm.",
    )


def _signed(request: Request, subject: str, token: str) -> bool:
    return feed_token_valid(str(request.app.state.settings.secret_key).encode(), subject, token)


def _checked(request: Request, purpose: str, subscriber_id: int, token: str) -> bool:
    return _signed(request, f"{purpose}:{subscriber_id}", token)


def _confirmation(request: Request, subscriber_id: int, token: str) -> tuple[bool, str | None]:
    """Whether a confirmation token is valid, and the new component choice it carries."""
    choice, dot, signature = token.rpartition(".")
    if not dot:
        return _checked(request, "confirm", subscriber_id, token), None
    subject = subscribers.confirm_subject(subscriber_id, choice)
    return _signed(request, subject, signature), choice


@router.get("/subscribe/{subscriber_id}/{token}", response_class=HTMLResponse)
def confirm_form(subscriber_id: int, token: str, request: Request) -> HTMLResponse:
    if not _confirmation(request, subscriber_id, token)[0]:
        return _render(
            request, 404, title="Link not valid", message="This confirmation link is not valid."
        )
    return _render(request, title="Confirm your subscription", button="Confirm")


@router.post("/subscribe/{subscriber_id}/{token}", response_class=HTMLResponse)
def confirm(
    subscriber_id: int, token: str, request: Request, sessions: Sessions, clock: ClockDep
) -> HTMLResponse:
    valid, choice = _confirmation(request, subscriber_id, token)
    if not valid:
        return _render(
            request, 404, title="Link not valid", message="This confirmation link is not valid."
        )
    with unit_of_work(sessions) as session:
        found = session.get(Subscriber, subscriber_id)
        if found is None:
            return _render(
                request,
                404,
                title="Not found",
                message="This subscription does not exist any more.",
            )
        subscribers.confirm(session=session, now=clock.now(), subscriber=found, choice=choice)
    return _render(
        request, title="Subscribed", message="You will get an email for every status update."
    )


@router.get("/unsubscribe/{subscriber_id}/{token}", response_class=HTMLResponse)
def unsubscribe_form(subscriber_id: int, token: str, request: Request) -> HTMLResponse:
    if not _checked(request, "unsubscribe", subscriber_id, token):
        return _render(
            request, 404, title="Link not valid", message="This unsubscribe link is not valid."
        )
    return _render(request, title="Unsubscribe", button="Unsubscribe")


@router.post("/unsubscribe/{subscriber_id}/{token}", response_class=HTMLResponse)
def unsubscribe(
    subscriber_id: int, token: str, request: Request, sessions: Sessions
) -> HTMLResponse:
    if not _checked(request, "unsubscribe", subscriber_id, token):
        return _render(
            request, 404, title="Link not valid", message="This unsubscribe link is not valid."
        )
    with unit_of_work(sessions) as session:
        found = session.get(Subscriber, subscriber_id)
        if found is not None:
            subscribers.unsubscribe(session=session, subscriber=found)
    return _render(request, title="Unsubscribed", message="You will get no more status mail.")
