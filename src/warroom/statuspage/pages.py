"""The public status page: every path rendered from a snapshot, served from memory.

A rendered path is kept with its ETag and gzip form until the page's version
changes; servers look at the version at most every ``check_seconds``, so a
post shows within about a second while a traffic spike costs no database
work. Conditional GETs get 304; clients that accept gzip get the stored
compressed bytes. No sign-in: only what the snapshot holds is shown.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.types import Receive, Scope, Send

from warroom.statuspage import feeds, publish
from warroom.statuspage.present import Snapshot
from warroom.web.raw import header
from warroom.web.templates import environment

HTML = "text/html; charset=utf-8"
JSON = "application/json"
ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
API = "/api/v2/"


@dataclass(frozen=True)
class Rendered:
    body: bytes
    gzipped: bytes
    etag: str
    content_type: str
    status: int = 200


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
    return Rendered(body, publish.gzipped(body), publish.etag(body), content_type, status)


NOT_FOUND = finished(b"<!doctype html><title>Not found</title><p>No such page.</p>", HTML, 404)
UNAVAILABLE = finished(
    b"<!doctype html><title>Unavailable</title><p>Status unavailable; retry.</p>", HTML, 503
)


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
        self.checked_at = 0.0
        self.version = -1
        self.snapshot: Snapshot | None = None
        self.rendered: dict[str, Rendered] = {}
        self.lock = asyncio.Lock()

    async def page(self, path: str) -> Rendered:
        if time.monotonic() - self.checked_at > self.check_seconds:
            await self._refresh()
        cached = self.rendered.get(path)
        if cached is not None:
            return cached
        if self.snapshot is None:
            return UNAVAILABLE
        found = await asyncio.to_thread(render, self.snapshot, path, base=self.base, host=self.host)
        result = finished(*found) if found else NOT_FOUND
        if len(self.rendered) < 10_000:
            self.rendered[path] = result
        return result

    async def _refresh(self) -> None:
        async with self.lock:
            if time.monotonic() - self.checked_at <= self.check_seconds:
                return
            current = await asyncio.to_thread(self.load_version)
            if current != self.version or self.snapshot is None:
                self.snapshot = await asyncio.to_thread(self.build, current)
                self.rendered = {}
                self.version = current
            self.checked_at = time.monotonic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"].removeprefix("/status") or "/"
        if scope["method"] not in ("GET", "HEAD"):
            await _send(send, finished(b"GET only", "text/plain", 405), scope, gzip=False)
            return
        try:
            result = await self.page(path)
        except Exception:  # the page must answer even when the database does not
            result = UNAVAILABLE
        gzip = "gzip" in (header(scope, b"accept-encoding") or "")
        if header(scope, b"if-none-match") == result.etag and result.status == 200:
            await _send(send, result, scope, gzip=gzip, not_modified=True)
            return
        await _send(send, result, scope, gzip=gzip)


async def _send(
    send: Send, result: Rendered, scope: Scope, *, gzip: bool, not_modified: bool = False
) -> None:
    body = b"" if not_modified else (result.gzipped if gzip else result.body)
    headers = [
        (b"content-type", result.content_type.encode()),
        (b"etag", result.etag.encode()),
        (b"cache-control", b"public, max-age=10"),
        (b"vary", b"accept-encoding"),
        (b"x-content-type-options", b"nosniff"),
    ]
    if gzip and not not_modified:
        headers.append((b"content-encoding", b"gzip"))
    headers.append((b"content-length", str(len(body)).encode()))
    await send(
        {
            "type": "http.response.start",
            "status": 304 if not_modified else result.status,
            "headers": headers,
        }
    )
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
