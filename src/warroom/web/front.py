"""The server's outermost ASGI app: alert ingest straight to its handlers, the rest to FastAPI.

In a storm every microsecond per request counts (design.md, "Hot paths"),
so ingest requests skip FastAPI's middleware stack and router; they share
its state (group committer, metrics) and its handlers, which the app also
routes, so both paths behave the same.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from warroom.web.middleware import HttpMetrics
from warroom.web.raw import ROUTE_KEY

Handler = Callable[[Scope, Receive, Send], Awaitable[None]]
INGEST_PREFIXES = ("/v2/", "/integrations/")


def compile_template(template: str) -> re.Pattern[str]:
    """A regex for a route template such as /integrations/{type}/{key}."""
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return re.compile(pattern)


class Front:
    """Dispatch ingest POSTs directly; everything else goes to the FastAPI app."""

    def __init__(self, app: FastAPI, routes: list[tuple[str, Handler]]) -> None:
        self.app = app
        self.state = app.state
        self.metrics: HttpMetrics = app.state.http_metrics
        self.routes = [(compile_template(t), t, handler) for t, handler in routes]

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
        await self.app(scope, receive, send)
