"""Ingest endpoints: PagerDuty Events v2, Alertmanager, Grafana and generic webhooks.

Lean ASGI handlers (design.md "Hot paths"): orjson parsing, pure parsers, and
group commit, answering 2xx only after the event is committed.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session
from starlette.types import Receive, Scope, Send

from warroom.alerts import alertmanager, bulk, formats, generic, sources, triggers
from warroom.alerts import queries as alert_queries
from warroom.alerts import service as alert_service
from warroom.alerts.events import Action, AlertEvent, EventInvalid
from warroom.alerts.integrations import IntegrationType
from warroom.alerts.ratelimit import RateLimited, SlidingMinuteLimiter
from warroom.alerts.sources import Source
from warroom.db.groupcommit import BatchScope, GroupCommitter, TransientError
from warroom.web.raw import BodyTooLargeError, header, read_body, send_json

MAX_EVENT_BYTES = 512 * 1024
MAX_WEBHOOK_BYTES = 8 * 1024 * 1024
PD_INVALID = {"status": "invalid event", "message": "Event object is invalid"}


class UnknownKey(Exception):
    """No live integration of the endpoint's type has this key."""


# Errors a job raises before it writes anything; the group commit goes on past them.
REFUSALS = (EventInvalid, UnknownKey, RateLimited)
NEW_TOGETHER: BatchScope = triggers.new_alerts_together


class Charge:
    """Whether an event was counted against its integration's rate limit: once, however
    often its job runs (a neighbour's failure re-runs every job of the batch)."""

    __slots__ = ("charged",)

    def __init__(self) -> None:
        self.charged = False


class Ingest:
    """Shared state of the ingest endpoints: the group committer and rate limits."""

    def __init__(self, committer: GroupCommitter) -> None:
        self.committer = committer
        self.limiter = SlidingMinuteLimiter()

    def integration(
        self, session: Session, now: datetime, key: str, type_: IntegrationType, charge: Charge
    ) -> Source:
        """The live integration for ``key``, checked against its type and rate limit."""
        found = sources.by_key(session, key, now)
        if found is None:
            raise UnknownKey("unknown or revoked integration key")
        if found.type != type_.value:
            path = "/v2/enqueue" if found.type == "pagerduty" else f"/integrations/{found.type}/KEY"
            raise UnknownKey(f"this key belongs to a {found.type} integration; send to {path}")
        if not charge.charged:
            self.limiter.hit(found.id, found.rate_limit_per_minute, now.timestamp())
            charge.charged = True
        return found

    async def pagerduty(self, scope: Scope, receive: Receive, send: Send) -> None:
        """POST /v2/enqueue: PagerDuty Events API v2 alert events."""
        await send_json(send, *await self.enqueue(await _event_body(receive)))

    async def enqueue(self, raw: bytes | None) -> Answer:
        """The answer to a /v2/enqueue body (None: over the size limit), once committed.

        Shared by the ASGI route and the HTTP protocol's inline path (web/protocol.py).
        """
        body = _pd_json(raw)
        if isinstance(body, Answer):
            return body
        try:
            routing_key, event = formats.parse_pagerduty(body)
        except EventInvalid as error:
            return Answer(400, {**PD_INVALID, "errors": error.errors})

        charge = Charge()

        def job(session: Session, now: datetime) -> Any:
            found = self.integration(session, now, routing_key, IntegrationType.PAGERDUTY, charge)
            return alert_service.ingest(session=session, now=now, source=found, event=event)

        if event.action is Action.TRIGGER:  # its batch's new alerts looked up and written together
            note = (routing_key, event.dedup_key)
            submitted = self._outcome(job, pd_style=True, scope=NEW_TOGETHER, note=note)
        else:
            submitted = self._outcome(job, pd_style=True)
        ok, outcome = await submitted
        if not ok:
            return outcome  # type: ignore[no-any-return]
        content = {"status": "success", "message": "Event processed", "dedup_key": event.dedup_key}
        return Answer(202, content)

    async def pagerduty_change(self, scope: Scope, receive: Receive, send: Send) -> None:
        """POST /v2/change/enqueue: change events (deploys, config changes)."""
        body = _pd_json(await _event_body(receive))
        if isinstance(body, Answer):
            await send_json(send, *body)
            return
        try:
            routing_key, change = formats.parse_pagerduty_change(body)
        except EventInvalid as error:
            await send_json(send, 400, {**PD_INVALID, "errors": error.errors})
            return

        charge = Charge()

        def job(session: Session, now: datetime) -> Any:
            found = self.integration(session, now, routing_key, IntegrationType.PAGERDUTY, charge)
            return alert_queries.record_change(
                session=session, now=now, integration=found, change=change
            )

        if await self._run(send, job, pd_style=True):
            await send_json(send, 202, {"status": "success", "message": "Change event processed"})

    async def webhook(self, scope: Scope, receive: Receive, send: Send) -> None:
        """POST /integrations/{type}/{key}: Alertmanager, Grafana and generic webhooks."""
        params = scope.get("path_params", {})
        try:
            type_ = IntegrationType(params.get("type", ""))
        except ValueError:
            await send_json(send, 404, {"detail": "unknown integration type"})
            return
        key = params.get("key") or _credential(scope)
        if not key or type_ is IntegrationType.PAGERDUTY:
            detail = (
                "PagerDuty events go to /v2/enqueue"
                if type_ is IntegrationType.PAGERDUTY
                else "the integration key is missing: put it in the URL or send "
                "'Authorization: Bearer <key>'"
            )
            await send_json(send, 401 if not key else 404, {"detail": detail})
            return
        raw = await _raw_or_answer(receive, send, MAX_WEBHOOK_BYTES)
        if raw is None:
            return
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            await send_json(send, 400, {"detail": "the request body is not valid JSON"})
            return
        if _has_nul(raw, body):
            await send_json(send, 400, {"detail": NUL_MESSAGE})
            return
        job = self._webhook_job(type_, key, body, raw, scope)
        result = await self._run(send, job, pd_style=False)
        if result:
            await send_json(send, 200, {"status": "success", **result})

    def _webhook_job(
        self, type_: IntegrationType, key: str, body: Any, raw: bytes, scope: Scope
    ) -> Callable[[Session, datetime], Any]:
        charge = Charge()

        def job(session: Session, now: datetime) -> Any:
            found = self.integration(session, now, key, type_, charge)
            events = _parse_webhook(type_, found, body, raw, scope, now.timestamp())
            if len(events.events) > 1:
                triggers.expect_new(
                    session,
                    found,
                    (e.dedup_key for e in events.events if e.action is Action.TRIGGER),
                )
            with bulk.deferred(session, now):
                results = [
                    alert_service.ingest(session=session, now=now, source=found, event=e)
                    for e in events.events
                ]
            return {
                "alerts": len(results),
                "truncated": events.truncated,
                "incidents": sorted({r.incident_ref for r in results if r.incident_ref}),
            }

        return job

    async def _run(
        self, send: Send, job: Callable[[Session, datetime], Any], *, pd_style: bool
    ) -> Any:
        """Run a job under group commit; answer errors here. Returns the result or None."""
        ok, outcome = await self._outcome(job, pd_style=pd_style)
        if not ok:
            await send_json(send, *outcome)
            return None
        return outcome if outcome is not None else True

    async def _outcome(
        self,
        job: Callable[[Session, datetime], Any],
        *,
        pd_style: bool,
        scope: BatchScope | None = None,
        note: Any = None,
    ) -> tuple[bool, Any]:
        """(True, the job's result) once committed, or (False, the Answer to its error)."""
        try:
            # Jobs of one event are small; webhooks (up to thousands of alerts) are not.
            small = pd_style
            return True, await self.committer.submit(job, scope=scope, note=note, small=small)
        except EventInvalid as error:
            body = {**PD_INVALID, "errors": error.errors} if pd_style else _invalid(error)
            return False, Answer(400, body)
        except UnknownKey as error:
            if pd_style:
                return False, Answer(400, {**PD_INVALID, "errors": [str(error)]})
            return False, Answer(403, {"detail": str(error)})
        except RateLimited as error:
            content = {"status": "throttle event", "message": str(error), "errors": [str(error)]}
            return False, Answer(429, content, {"Retry-After": str(error.retry_after)})
        except DataError:
            # Validation let through a value the database refuses: wrong forever.
            message = "a value in the event cannot be stored"
            body = {**PD_INVALID, "errors": [message]} if pd_style else {"detail": message}
            return False, Answer(400, body)
        except TransientError as error:
            content = {"status": "unavailable", "message": str(error)}
            return False, Answer(503, content, {"Retry-After": "1"})


class Answer(NamedTuple):
    """An ingest endpoint's answer: status, JSON content and extra headers."""

    status: int
    content: Any
    headers: dict[str, str] | None = None


def _invalid(error: EventInvalid) -> dict[str, Any]:
    return {"detail": "; ".join(error.errors), "errors": error.errors}


async def _raw_or_answer(receive: Receive, send: Send, limit: int) -> bytes | None:
    try:
        return await read_body(receive, limit)
    except BodyTooLargeError:
        await send_json(send, 413, {"detail": f"the body is larger than {limit} bytes"})
        return None


async def _event_body(receive: Receive) -> bytes | None:
    """A PagerDuty request's body; None past MAX_EVENT_BYTES (answered as _pd_json says)."""
    try:
        return await read_body(receive, MAX_EVENT_BYTES)
    except BodyTooLargeError:
        return None


def _pd_json(raw: bytes | None) -> Any:
    """A PagerDuty body parsed, or the Answer refusing it (None: over the size limit)."""
    if raw is None:
        errors = [f"the request body is larger than {MAX_EVENT_BYTES // 1024} KB"]
        return Answer(400, {**PD_INVALID, "errors": errors})
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return Answer(400, {**PD_INVALID, "errors": ["the body is not valid JSON"]})
    if _has_nul(raw, body):
        return Answer(400, {**PD_INVALID, "errors": [NUL_MESSAGE]})
    return body


NUL_MESSAGE = "NUL characters (\\u0000) are not accepted anywhere in the event"


def _has_nul(raw: bytes, body: Any) -> bool:
    # The byte search is cheap and almost always false; only then walk the JSON.
    return b"\\u0000" in raw and formats.contains_nul(body)


def _credential(scope: Scope) -> str | None:
    """An integration key from 'Authorization: Bearer KEY' or basic auth's password."""
    value = header(scope, b"authorization")
    if not value:
        return None
    scheme, _, credential = value.partition(" ")
    if scheme.lower() == "bearer":
        return credential.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credential.strip()).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def _parse_webhook(
    type_: IntegrationType,
    integration: Source,
    body: Any,
    raw: bytes,
    scope: Scope,
    now: float,
) -> alertmanager.Notification:
    config = integration.config or {}
    if type_ is IntegrationType.ALERTMANAGER:
        return alertmanager.parse_notification(body, expect_version="4")
    if type_ is IntegrationType.GRAFANA:
        _check_grafana_signature(config, raw, scope, now)
        return alertmanager.parse_notification(body, expect_version="1")
    _check_standard_signature(config, raw, scope, now)
    paths = generic.FieldPaths(**config.get("paths", {}))
    event: AlertEvent = generic.parse_generic(body, paths)
    return alertmanager.Notification(events=[event], group_key="", truncated=0)


def _check_grafana_signature(config: dict[str, Any], raw: bytes, scope: Scope, now: float) -> None:
    secret = config.get("hmac_secret")
    if not secret:
        return
    name = str(config.get("hmac_header", "X-Grafana-Alerting-Signature")).lower().encode()
    signature = header(scope, name) or ""
    stamp_header = config.get("hmac_timestamp_header")
    stamp = header(scope, str(stamp_header).lower().encode()) if stamp_header else None
    if not generic.grafana_signature_valid(
        secret.encode(), body=raw, signature=signature, timestamp=stamp, now=now
    ):
        raise EventInvalid(["the signature does not match the body"])


def _check_standard_signature(config: dict[str, Any], raw: bytes, scope: Scope, now: float) -> None:
    secret = config.get("signing_secret")
    if not secret:
        return
    key = base64.b64decode(secret.removeprefix("whsec_"))
    valid = generic.standard_webhook_valid(
        key,
        webhook_id=header(scope, b"webhook-id") or "",
        timestamp=header(scope, b"webhook-timestamp") or "",
        body=raw,
        signatures=header(scope, b"webhook-signature") or "",
        now=now,
    )
    if not valid:
        raise EventInvalid(["the webhook signature is missing, stale or wrong"])
