"""Helpers for lean ASGI endpoints on the hot paths (no per-request model machinery)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send


class BodyTooLargeError(Exception):
    """The request body is over the endpoint's limit."""


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body, or BodyTooLargeError past ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def send_json(
    send: Send, status: int, content: Any, headers: dict[str, str] | None = None
) -> None:
    """Send ``content`` as a JSON response."""
    body = orjson.dumps(content)
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def header(scope: Scope, name: bytes) -> str | None:
    """A request header's value (latin-1 decoded), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


ROUTE_KEY = "warroom.route"


class AsgiEndpoint:
    """Wrap an ``async (scope, receive, send)`` callable so a Route runs it as raw ASGI.

    Starlette wraps plain functions and methods into request/response handlers;
    an object with ``__call__`` is treated as an ASGI app and runs without that.
    """

    def __init__(
        self, path: str, handler: Callable[[Scope, Receive, Send], Awaitable[None]]
    ) -> None:
        self.path = path
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[ROUTE_KEY] = self.path  # for the metrics middleware's route label
        await self.handler(scope, receive, send)
