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
from typing import NamedTuple

import orjson

from warroom.alerts.endpoints import MAX_EVENT_BYTES
from warroom.web.front import Enqueue
from warroom.web.middleware import HttpMetrics

INGEST_PATH = b"/v2/enqueue"
ROUTE = INGEST_PATH.decode()  # as the metrics label the ASGI route
INTERNAL_ERROR = b'{"detail":"internal error"}'
log = logging.getLogger(__name__)


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

    async def answer(self) -> Response:
        """The answer once committed (or refused), as send_json writes it; never raises."""
        raw = None if self._chunks is None else b"".join(self._chunks)
        try:
            status, content, headers = await self._enqueue(raw)
            return self._response(status, orjson.dumps(content), headers)
        except Exception:
            # A bug: answered 500 and the connection closed, as uvicorn does after an
            # error in an ASGI app; the server goes on.
            log.exception("inline ingest failed")
            return self._response(500, INTERNAL_ERROR, {"Connection": "close"}, keep=False)

    def _response(
        self, status: int, body: bytes, headers: dict[str, str] | None, *, keep: bool = True
    ) -> Response:
        lines = b"content-type: application/json\r\ncontent-length: %d\r\n" % len(body)
        for name, value in (headers or {}).items():
            lines += name.lower().encode() + b": " + value.encode() + b"\r\n"
        self._metrics.observe("POST", ROUTE, status, time.perf_counter() - self._started)
        return Response(status, body, lines, keep)


class Response(NamedTuple):
    """An answer ready to write: status, body, header lines; ``keep``: the connection stays."""

    status: int
    body: bytes
    lines: bytes
    keep: bool
