"""One PagerDuty event taken inside the HTTP protocol, without ASGI (see web/protocol.py).

In a storm of single events, uvicorn's ASGI machinery (a scope, a task run
through the middleware, four messages) cost about as much server time as the
rest of the request. An event posted to /v2/enqueue on an idle keep-alive
connection is read by the protocol's parser callbacks instead, answered by
the same Ingest.enqueue as the ASGI route (so both answer alike, once the
event is committed), and counted in the same HTTP metrics.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from warroom.alerts.endpoints import MAX_EVENT_BYTES
from warroom.web.middleware import HttpMetrics

INGEST_PATH = b"/v2/enqueue"
ROUTE = "/v2/enqueue"
INTERNAL_ERROR: tuple[int, Any, dict[str, str] | None] = (500, {"detail": "internal error"}, None)
log = logging.getLogger(__name__)

Enqueue = Callable[[bytes | None], Awaitable[tuple[int, Any, dict[str, str] | None]]]


class InlineCycle:
    """What uvicorn's protocol reads of a request in progress (its RequestResponseCycle).

    While ``response_complete`` is false uvicorn queues a request pipelined
    behind this one; it marks the request ``disconnected`` if the connection
    goes, and clears ``keep_alive`` when the server shuts down.
    """

    __slots__ = ("disconnected", "keep_alive", "message_event", "response_complete")

    def __init__(self) -> None:
        self.response_complete = False
        self.disconnected = False
        self.keep_alive = True
        self.message_event = asyncio.Event()


class InlineIngest:
    """One /v2/enqueue request: its body as it arrives, then its answer."""

    __slots__ = ("_chunks", "_enqueue", "_metrics", "_size", "_started", "cycle")

    def __init__(self, enqueue: Enqueue, metrics: HttpMetrics) -> None:
        self._enqueue = enqueue
        self._metrics = metrics
        self._chunks: list[bytes] | None = []  # None: over the size limit
        self._size = 0
        self._started = time.perf_counter()
        self.cycle = InlineCycle()

    def take(self, chunk: bytes) -> None:
        """A piece of the body; past the limit the rest is only counted, not kept."""
        self._size += len(chunk)
        if self._chunks is not None:
            if self._size > MAX_EVENT_BYTES:
                self._chunks = None
            else:
                self._chunks.append(chunk)

    async def answer(self) -> tuple[int, bytes, bytes]:
        """Status, body and header lines once committed (or refused), as send_json writes them."""
        raw = None if self._chunks is None else b"".join(self._chunks)
        try:
            status, content, headers = await self._enqueue(raw)
        except Exception:  # a bug: answered like any unexpected error, the server goes on
            log.exception("inline ingest failed")
            status, content, headers = INTERNAL_ERROR
        body = orjson.dumps(content)
        lines = b"content-type: application/json\r\ncontent-length: %d\r\n" % len(body)
        for name, value in (headers or {}).items():
            lines += name.lower().encode() + b": " + value.encode() + b"\r\n"
        self._metrics.observe("POST", ROUTE, status, time.perf_counter() - self._started)
        return status, body, lines
