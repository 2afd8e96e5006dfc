"""uvicorn's HTTP protocol: one system call per response; cached pages and events inline.

uvicorn writes a response's head when the app sends ``http.response.start``
and its body on ``http.response.body``: two writes, two TCP segments. For
the small cached answers of a traffic spike (a 304, a gzipped status page)
that second system call was about 40% of the kernel time per request. Writes
made in the same event-loop turn are held and handed to the transport
together at the end of the turn, with writelines (one writev under uvloop).

In a traffic spike nearly every request is a GET of a status page already
rendered, most of them conditional. Going through ASGI costs a task, a scope
and two messages per request, about half of the server's time per 304; such
requests are answered straight from the page cache in the parser callback
instead (StatusPages.cached). Anything else (a page not yet rendered, a
version check due, a request with a body, pipelining behind a running
request, HTTP/1.0, access logging) takes uvicorn's ordinary path.

A storm of single PagerDuty events is taken the same way (web/inline_ingest.py):
a POST to /v2/enqueue on an idle keep-alive connection is read by the parser
callbacks and answered, once committed, by the same code as the ASGI route.
While it waits for its commit it stands as the connection's request in
progress, so uvicorn queues anything pipelined behind it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from warroom.statuspage.pages import StatusPages, conditions
from warroom.web.front import Front, is_status
from warroom.web.inline_ingest import INGEST_PATH, InlineIngest


class CoalescingTransport:
    """A transport whose writes within one loop turn go out as one."""

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        if not pending or self._transport.is_closing():
            return
        if len(pending) == 1:
            self._transport.write(pending[0])
        else:
            self._transport.writelines(pending)

    def close(self) -> None:
        self.flush()  # what was written before close still goes out, in order
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # everything else is the real transport's
        return getattr(self._transport, name)


SMALL_BODY = 16 * 1024  # copied into the head's write; larger bodies go beside it
# uvicorn replaces its default headers list when the Date changes: keyed by that list.
_SERVER_LINES: dict[str, tuple[list[tuple[bytes, bytes]], bytes]] = {}


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a CoalescingTransport, with cached pages served inline."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An access log is written by the ASGI cycle: with one, every request takes it.
        front = None if self.config.access_log else front_of(self.app)
        self.front = front
        self.pages = front.status if front and isinstance(front.status, StatusPages) else None
        self.answered = False  # the current request is answered inline, not through ASGI
        self.ingest: InlineIngest | None = None  # the current request, if an inline ingest

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]

    def on_message_begin(self) -> None:
        self.answered = False
        if self.front is None:
            super().on_message_begin()
            return
        # What uvicorn's on_message_begin resets, without building the ASGI scope
        # (a dict of a dozen entries and a copy of the app state): an inline answer
        # needs none of it, and _begin_asgi() builds it when ASGI does.
        self.url = b""
        self.expect_100_continue = False
        self.headers = []

    def _begin_asgi(self) -> None:
        url, headers, expect = self.url, self.headers, self.expect_100_continue
        super().on_message_begin()
        self.url, self.headers, self.expect_100_continue = url, headers, expect
        self.scope["headers"] = headers

    def on_headers_complete(self) -> None:
        if self.front is not None:
            if self.pages is not None and self._answer_inline(self.pages):
                self.answered = True
                return
            if self._begin_inline_ingest():
                self.answered = True
                return
            self._begin_asgi()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self.ingest is not None:
            self.ingest.take(body)
        elif not self.answered:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self.ingest is not None:
            request, self.ingest = self.ingest, None
            task = self.loop.create_task(self._serve_ingest(request))
            self.tasks.add(task)  # a graceful shutdown waits for it, as for ASGI requests
            task.add_done_callback(self.tasks.discard)
        elif not self.answered:
            super().on_message_complete()

    def _answer_inline(self, pages: StatusPages) -> bool:
        """Answer a GET or HEAD of a rendered status page now; False to leave it to ASGI."""
        method = self.parser.get_method()
        if method not in (b"GET", b"HEAD") or not self._idle_keep_alive():
            return False
        path = self.url.partition(b"?")[0]
        if not path.startswith(b"/status") or b"%" in path:
            return False
        page_path = path.decode("ascii", "replace")
        rendered = pages.cached(page_path.removeprefix("/status")) if is_status(page_path) else None
        if rendered is None:
            return False
        accept, condition = conditions(self.headers)
        status, headers, body = pages.answer(rendered, method == b"HEAD", accept, condition)
        head = STATUS_LINE[status] + self._server_lines() + headers.lines + b"\r\n"
        if len(body) <= SMALL_BODY:
            self.transport.write(head + body)
        else:  # two writes, joined in one writev, rather than a copy of a large body
            self.transport.write(head)
            self.transport.write(body)
        self._response_done()
        return True

    def _begin_inline_ingest(self) -> bool:
        """Take a PagerDuty event (POST /v2/enqueue) inline; False to leave it to ASGI."""
        enqueue = self.front.enqueue if self.front is not None else None
        if enqueue is None or self.url != INGEST_PATH or self.expect_100_continue:
            return False
        if self.parser.get_method() != b"POST" or not self._idle_keep_alive():
            return False
        self.ingest = InlineIngest(enqueue, self.front.metrics)  # type: ignore[union-attr]
        # uvicorn queues a request pipelined behind this one until it is answered.
        self.cycle = self.ingest.cycle  # type: ignore[assignment]
        return True

    async def _serve_ingest(self, request: InlineIngest) -> None:
        answer = await request.answer()
        cycle = request.cycle
        cycle.response_complete = True
        if cycle.disconnected or self.transport.is_closing():
            return  # nobody to answer (what was committed stays committed)
        keep = answer.keep and cycle.keep_alive  # not if the server is shutting down
        close = b"" if keep or not answer.keep else b"connection: close\r\n"
        head = STATUS_LINE[answer.status] + self._server_lines() + answer.lines + close
        self.transport.write(head + b"\r\n" + answer.body)
        if not keep:
            self.transport.close()
            return
        self.on_response_complete()  # uvicorn's: the next pipelined request, or keep-alive

    def _server_lines(self) -> bytes:
        """The server's own header lines (Date), serialised once per value (once a second)."""
        defaults = self.server_state.default_headers
        cached = _SERVER_LINES.get("value")
        if cached is None or cached[0] is not defaults:
            lines = b"".join(name + b": " + value + b"\r\n" for name, value in defaults)
            cached = _SERVER_LINES["value"] = (defaults, lines)
        return cached[1]

    def _idle_keep_alive(self) -> bool:
        """No request still running on this connection, and the connection stays open after."""
        running = self.cycle is not None and not self.cycle.response_complete
        return (
            not running
            and not self.pipeline
            and not self.flow.write_paused  # a client that reads nothing gets nothing more
            and self.parser.get_http_version() == "1.1"
            and self.parser.should_keep_alive()
            and not self.parser.should_upgrade()
        )

    def _response_done(self) -> None:
        """What uvicorn does after a response (on_response_complete) with nothing pipelined."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self._unset_keepalive_if_required()
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )


def front_of(app: Any) -> Front | None:
    """The server app's Front, under whatever middleware uvicorn wrapped it in."""
    for _ in range(8):  # ProxyHeadersMiddleware, message logger: a few layers at most
        if isinstance(app, Front):
            return app
        app = getattr(app, "app", None)
    return None


def status_pages_of(app: Any) -> StatusPages | None:
    """The status pages of the server app, if it has them."""
    front = front_of(app)
    return front.status if front and isinstance(front.status, StatusPages) else None
