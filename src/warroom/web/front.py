"""The server's outermost ASGI app: alert ingest straight to its handlers, the rest to FastAPI.

In a storm every microsecond per request counts (design.md, "Hot paths"),
so ingest requests skip FastAPI's middleware stack and router; they share
its state (group committer, metrics) and its handlers, which the app also
routes, so both paths behave the same.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from warroom.web.middleware import HttpMetrics
from warroom.web.raw import ROUTE_KEY, send_json

Handler = Callable[[Scope, Receive, Send], Awaitable[None]]
# A PagerDuty body (None: over the size limit) -> (status, JSON content, extra headers)
Enqueue = Callable[[bytes | None], Awaitable[tuple[int, Any, dict[str, str] | None]]]
INGEST_PREFIXES = ("/v2/", "/integrations/")


def compile_template(template: str) -> re.Pattern[str]:
    """A regex for a route template such as /integrations/{type}/{key}."""
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return re.compile(pattern)


class Front:
    """Dispatch ingest POSTs directly; everything else goes to the FastAPI app."""

    def __init__(
        self,
        app: FastAPI,
        routes: list[tuple[str, Handler]],
        *,
        status: Handler | None = None,
        public_only: bool = False,
        enqueue: Enqueue | None = None,
    ) -> None:
        self.app = app
        self.state = app.state
        self.metrics: HttpMetrics = app.state.http_metrics
        self.routes = [(compile_template(t), t, handler) for t, handler in routes]
        self.status = status
        self.public_only = public_only
        # /v2/enqueue's answer from its body, for the HTTP protocol's inline path
        self.enqueue = enqueue

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].startswith(INGEST_PREFIXES)
        ):
            for pattern, template, handler in self.routes:
                match = pattern.fullmatch(scope["path"])
                if match is not None:
                    scope["path_params"] = match.groupdict()
                    scope[ROUTE_KEY] = template
                    await self.metrics.timed(handler, scope, receive, send)
                    return
        if self.status is not None and scope["type"] == "http" and is_status(scope["path"]):
            # Counted by the status app itself (StatusPageCollector): the timed wrapper
            # cost ~10 % of the throughput of a spike of cached answers.
            await self.status(scope, receive, send)
            return
        if self.public_only and scope["type"] == "http" and not _is_public(scope["path"]):
            await send_json(
                send, 404, {"detail": "this server serves only the status page and ingest"}
            )
            return
        await self.app(scope, receive, send)


PUBLIC_PATHS = frozenset({"/healthz", "/readyz"})


def _is_public(path: str) -> bool:
    """What `serve --public` answers besides the status pages and ingest."""
    return path in PUBLIC_PATHS or path.startswith(("/status/subscribe", "/status/unsubscribe"))


def is_status(path: str) -> bool:
    """The cached public pages; sign-up pages are ordinary routes (they take forms)."""
    if path.startswith(("/status/subscribe", "/status/unsubscribe")):
        return False
    return path == "/status" or path.startswith("/status/")
