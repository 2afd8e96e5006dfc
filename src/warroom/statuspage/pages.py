"""The public status page: every path rendered from a snapshot, served from memory.

A rendered path is kept with its ETag, gzip form and response headers until the
page's version changes; servers look at the version at most every
``check_seconds``, so a post shows within about a second while a traffic spike
costs no database work. Clients revalidate every time (max-age=0) and get a 304
when nothing changed; clients that accept gzip get the stored compressed bytes.
If the database stops answering, the last good page keeps being served. No
sign-in: only what the snapshot holds is shown.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.types import Receive, Scope, Send

from warroom.statuspage import feeds, publish
from warroom.statuspage.present import Snapshot
from warroom.web.templates import environment

HTML = "text/html; charset=utf-8"
JSON = "application/json"
ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
API = "/api/v2/"


Header = tuple[bytes, bytes]
# Clients keep the page but ask each time whether it changed: a post shows as soon as
# the server has it, and an unchanged page costs a 304 of a few headers.
CACHE_CONTROL = b"public, max-age=0, must-revalidate"
VARY = (b"vary", b"accept-encoding")
NOSNIFF = (b"x-content-type-options", b"nosniff")
MAX_PATHS = 10_000  # unknown paths kept per version

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HeaderSet:
    """Response headers as ASGI pairs and as the bytes of their HTTP/1.1 lines."""

    pairs: tuple[Header, ...]
    lines: bytes

    @classmethod
    def of(cls, *pairs: Header) -> HeaderSet:
        return cls(pairs, b"".join(name + b": " + value + b"\r\n" for name, value in pairs))


@dataclass(frozen=True, slots=True)
class Rendered:
    """A page's bytes, gzipped bytes, ETag and its response headers, all built once."""

    body: bytes
    gzipped: bytes
    etag: str
    content_type: str
    status: int
    tag: bytes
    plain_headers: HeaderSet
    gzip_headers: HeaderSet
    not_modified_headers: HeaderSet


def _when(snapshot: Snapshot) -> Callable[[datetime | None], str]:
    zone = snapshot.page.zone

    def when(value: datetime | None) -> str:
        return "" if value is None else value.astimezone(zone).strftime("%b %d, %Y %H:%M %Z")

    return when


def _html(template: str, snapshot: Snapshot, base: str, dynamic: bool, **context: Any) -> bytes:
    resolved = [i for i in snapshot.incidents if i.resolved_at is not None]
    page = environment.get_template(template).render(
        page=snapshot.page,
        base=base,
        when=_when(snapshot),
        indicator=snapshot.status[0],
        description=snapshot.status[1],
        components=[c for c in snapshot.components if not c.is_group],
        unresolved=publish.unresolved(snapshot.incidents),
        maintenances=publish.maintenances_of(snapshot.maintenances, "upcoming")
        + publish.maintenances_of(snapshot.maintenances, "active"),
        recent=resolved[:10],
        uptime=_bars(snapshot),
        subscribe=dynamic,
        **context,
    )
    return page.encode()


def _bars(snapshot: Snapshot) -> dict[str, dict[str, Any]]:
    shown = {}
    for component_id, uptime in snapshot.uptime.items():
        days = [
            {
                "day": bar.day.isoformat(),
                "css": "nodata" if bar.no_data else bar.worst.value,
                "label": "no data"
                if bar.no_data
                else f"{bar.uptime:.2f}% up"
                + (f"; {', '.join(bar.incidents)}" if bar.incidents else ""),
            }
            for bar in uptime.days
        ]
        shown[component_id] = {"days": days, "overall": uptime.overall}
    return shown


def _documents(snapshot: Snapshot) -> dict[str, Callable[[], dict[str, Any]]]:
    page, s = snapshot.page, snapshot
    return {
        "summary.json": lambda: publish.summary(
            page, s.components, s.incidents, s.maintenances, s.status
        ),
        "status.json": lambda: publish.status_doc(page, s.status),
        "components.json": lambda: publish.components_doc(page, s.components),
        "incidents.json": lambda: publish.incidents_doc(page, s.incidents),
        "incidents/unresolved.json": lambda: publish.unresolved_doc(page, s.incidents),
        "scheduled-maintenances.json": lambda: publish.maintenances_doc(
            page, s.maintenances, "all"
        ),
        "scheduled-maintenances/upcoming.json": lambda: publish.maintenances_doc(
            page, s.maintenances, "upcoming"
        ),
        "scheduled-maintenances/active.json": lambda: publish.maintenances_doc(
            page, s.maintenances, "active"
        ),
    }


def render(
    snapshot: Snapshot, path: str, *, base: str, host: str, dynamic: bool = True
) -> tuple[bytes, str] | None:
    """The body and content type of a page path (relative to /status), or None if none."""
    path = path.rstrip("/") or "/"
    if path in ("/", "/index.html"):
        return _html("status/index.html", snapshot, base, dynamic), HTML
    if path in ("/history", "/history.html"):
        everything = sorted(
            [*snapshot.incidents, *snapshot.maintenances], key=lambda i: i.created_at, reverse=True
        )
        return _html("status/history.html", snapshot, base, dynamic, history=everything), HTML
    if path.startswith("/incidents/"):
        found = snapshot.find(path.removeprefix("/incidents/").removesuffix(".html"))
        return (
            (_html("status/incident.html", snapshot, base, dynamic, incident=found), HTML)
            if found
            else None
        )
    if path == "/history.atom":
        return feeds.atom_feed(
            snapshot.page, [*snapshot.incidents, *snapshot.maintenances], host=host, base_url=base
        ), ATOM
    if path == "/history.rss":
        return feeds.rss_feed(
            snapshot.page, [*snapshot.incidents, *snapshot.maintenances], host=host, base_url=base
        ), RSS
    if path.startswith(API):
        build = _documents(snapshot).get(path.removeprefix(API))
        return (publish.to_bytes(build()), JSON) if build else None
    return None


def all_paths(snapshot: Snapshot) -> list[str]:
    """Every path the page has (for the static export)."""
    incidents = [f"/incidents/{i.id}" for i in [*snapshot.incidents, *snapshot.maintenances]]
    documents = [API + name for name in _documents(snapshot)]
    return ["/", "/history", *incidents, "/history.atom", "/history.rss", *documents]


def finished(body: bytes, content_type: str, status: int = 200) -> Rendered:
    squeezed, tag = publish.gzipped(body), publish.etag(body)
    validators = ((b"etag", tag.encode()), (b"cache-control", CACHE_CONTROL), VARY)
    kind = ((b"content-type", content_type.encode()), NOSNIFF)
    return Rendered(
        body=body,
        gzipped=squeezed,
        etag=tag,
        content_type=content_type,
        status=status,
        tag=tag.encode(),
        plain_headers=HeaderSet.of(*kind, *validators, _length(body)),
        gzip_headers=HeaderSet.of(
            *kind, *validators, (b"content-encoding", b"gzip"), _length(squeezed)
        ),
        # RFC 9110 §15.4.5: a 304 repeats the validators and caching fields only; no
        # Content-Length, which would claim the representation is empty.
        not_modified_headers=HeaderSet.of(*validators),
    )


def _length(body: bytes) -> Header:
    return (b"content-length", str(len(body)).encode())


NOT_FOUND = finished(b"<!doctype html><title>Not found</title><p>No such page.</p>", HTML, 404)
UNAVAILABLE = finished(
    b"<!doctype html><title>Unavailable</title><p>Status unavailable; retry.</p>", HTML, 503
)
NOT_ALLOWED = b"GET only"
NOT_ALLOWED_HEADERS: tuple[Header, ...] = (
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"allow", b"GET, HEAD"),  # RFC 9110 §15.5.6: a 405 must say what is allowed
    NOSNIFF,
    _length(NOT_ALLOWED),
)


def _finish(snapshot: Snapshot, path: str, base: str, host: str) -> Rendered:
    """One path rendered and compressed; run in a thread, as both would stall the event loop."""
    found = render(snapshot, path, base=base, host=host)
    return finished(*found) if found else NOT_FOUND


@functools.lru_cache(maxsize=256)  # browsers send a handful of distinct values
def accepts_gzip(accept_encoding: bytes) -> bool:
    """Whether gzip is acceptable and at least as wanted as identity (RFC 9110 §12.5.3)."""
    qualities: dict[bytes, float] = {}
    for item in accept_encoding.lower().split(b","):
        coding, _, parameters = item.partition(b";")
        qualities.setdefault(coding.strip(), _quality(parameters))
    star = qualities.get(b"*")
    gzip = qualities.get(b"gzip", qualities.get(b"x-gzip", star or 0.0))
    identity = qualities.get(b"identity", star)  # None: no preference stated
    return gzip > 0 and (identity is None or gzip >= identity)


def _quality(parameters: bytes) -> float:
    for parameter in parameters.split(b";"):
        name, _, value = parameter.partition(b"=")
        if name.strip() == b"q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0
            return q if 0.0 <= q <= 1.0 else 0.0  # also refuses nan and inf
    return 1.0


OPAQUE_TAG = re.compile(rb'(?:W/)?("[^"]*")')


def none_match(condition: bytes, tag: bytes) -> bool:
    """Whether If-None-Match ``condition`` names ``tag``: weak comparison (RFC 9110 §13.1.2)."""
    if condition == tag:  # what a browser revalidating its copy sends
        return True
    if tag in condition:  # quotes cannot occur inside a tag, so only a listed one contains it
        return tag in OPAQUE_TAG.findall(condition)
    return condition.strip() == b"*"


class _Generation:
    """One page version: its snapshot, the paths rendered of it and those being rendered."""

    __slots__ = ("rendered", "rendering", "snapshot", "version")

    def __init__(self, version: int, snapshot: Snapshot) -> None:
        self.version, self.snapshot = version, snapshot
        self.rendered: dict[str, Rendered] = {}
        self.rendering: dict[str, asyncio.Future[Rendered]] = {}


class StatusPages:
    """The ASGI app for GET /status/...: cached bytes, ETags, gzip."""

    def __init__(
        self,
        load: Callable[[], int],
        build: Callable[[int], Snapshot],
        *,
        base: str,
        host: str,
        check_seconds: float = 0.5,
    ) -> None:
        self.load_version = load
        self.build = build
        self.base, self.host = base, host
        self.check_seconds = check_seconds
        self.checked_at = -math.inf  # due at once (monotonic time may start near 0)
        self.current: _Generation | None = None  # None until a snapshot was first built
        self.failing = False
        self.lock = asyncio.Lock()
        # Responses by status code. A plain counter: the labelled histogram of the
        # other routes cost ~10 % of the throughput of a spike of 304s.
        self.responses: Counter[int] = Counter()

    @property
    def snapshot(self) -> Snapshot | None:
        """The snapshot now served (None until the database first answered)."""
        return None if self.current is None else self.current.snapshot

    @property
    def version(self) -> int:
        """The page version now served (-1 until the database first answered)."""
        return -1 if self.current is None else self.current.version

    async def page(self, path: str) -> Rendered:
        due = time.monotonic() - self.checked_at > self.check_seconds
        # While one request checks the version the others serve the pages they have, so
        # a slow or hung database stalls one request per check, not the whole page.
        if due and not (self.lock.locked() and self.current is not None):
            await self._refresh()
        current = self.current
        if current is None:
            return UNAVAILABLE
        key = path.rstrip("/") or "/"  # as render() reads it: one entry for /x and /x/
        cached = current.rendered.get(key)
        return cached if cached is not None else await self._render(current, key)

    async def _render(self, generation: _Generation, key: str) -> Rendered:
        pending = generation.rendering.get(key)
        if pending is None:  # one render per path, however many requests wait for it
            pending = asyncio.ensure_future(self._render_into(generation, key))
            generation.rendering[key] = pending
        # Shielded: a client hanging up must not cancel the render others are waiting for.
        return await asyncio.shield(pending)

    async def _render_into(self, generation: _Generation, key: str) -> Rendered:
        try:
            result = await asyncio.to_thread(
                _finish, generation.snapshot, key, self.base, self.host
            )
        finally:
            del generation.rendering[key]
        # Kept in the generation it was rendered from: if a new version arrived meanwhile,
        # this one is dropped with its generation instead of being served as the new page.
        # Unknown paths are bounded: anyone can make up URLs.
        if result is not NOT_FOUND or len(generation.rendered) < MAX_PATHS:
            generation.rendered[key] = result
        return result

    async def _refresh(self) -> None:
        async with self.lock:
            if time.monotonic() - self.checked_at <= self.check_seconds:
                return
            try:
                current = await asyncio.to_thread(self.load_version)
                if self.current is None or current != self.current.version:
                    snapshot = await asyncio.to_thread(self.build, current)
                    self.current = _Generation(current, snapshot)
            except Exception:
                self._failed()
            else:
                if self.failing:
                    log.info("status page: the database answers again")
                self.failing = False
            # Also after a failure: an outage costs one query per check, not one per request.
            self.checked_at = time.monotonic()

    def _failed(self) -> None:
        kept = "serving the last good page" if self.current else "no page to serve yet"
        if not self.failing:  # once per outage; then quietly, as it is retried every check
            log.warning("status page: version check failed; %s", kept, exc_info=True)
        else:
            log.debug("status page: version check failed again", exc_info=True)
        self.failing = True

    def cached(self, path: str) -> Rendered | None:
        """The page for ``path`` if it can be answered from memory now, without a version
        check or a render; None when the next answer needs the event loop (page())."""
        current = self.current
        if current is None or time.monotonic() - self.checked_at > self.check_seconds:
            return None
        return current.rendered.get(path.rstrip("/") or "/")

    def answer(
        self, result: Rendered, head: bool, accept: bytes | None, condition: bytes | None
    ) -> tuple[int, HeaderSet, bytes]:
        """Status, headers and body for ``result``: a 304, the gzipped or the plain bytes."""
        if condition is not None and result.status == 200 and none_match(condition, result.tag):
            self.responses[304] += 1
            return 304, result.not_modified_headers, b""
        self.responses[result.status] += 1
        if accept is not None and accepts_gzip(accept):
            return result.status, result.gzip_headers, b"" if head else result.gzipped
        return result.status, result.plain_headers, b"" if head else result.body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            self.responses[405] += 1
            await _send(send, 405, NOT_ALLOWED_HEADERS, NOT_ALLOWED)
            return
        path = scope["path"].removeprefix("/status") or "/"
        try:
            result = await self.page(path)
        except Exception:  # the page must answer even when rendering fails
            log.exception("status page: %s failed", path)
            result = UNAVAILABLE
        accept, condition = conditions(scope["headers"])
        status, headers, body = self.answer(result, scope["method"] == "HEAD", accept, condition)
        await _send(send, status, headers.pairs, body)


def conditions(headers: Iterable[Header]) -> tuple[bytes | None, bytes | None]:
    """Accept-Encoding and If-None-Match, in one pass over the request headers."""
    accept: bytes | None = None
    condition: bytes | None = None
    for name, value in headers:
        if name == b"accept-encoding":
            accept = value if accept is None else accept + b"," + value
        elif name == b"if-none-match":
            condition = value if condition is None else condition + b"," + value
    return accept, condition


async def _send(send: Send, status: int, headers: tuple[Header, ...], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
