"""Helpers for the status page suites: components, posts, the public pages, the worker.

The suites take the ``client``, ``app``, ``people`` (admin ada, responder
rita, viewer vic; services checkout and search) and ``clock`` fixtures of
tests/http/conftest.py; the clock stands at Friday 2026-11-27 10:00 UTC.

The public pages are served from cached bytes that look at the page's
version at most every 0.5 s (statuspage/pages.py). Most tests call
``no_cache_delay(app)`` so that the page they read after a post is current;
the caching suite checks the real delay.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

import feedparser  # type: ignore[import-untyped]
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.http.api import Headers
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.settings import Settings
from warroom.statuspage.models import StatusComponent
from warroom.statuspage.pages import StatusPages, all_paths
from warroom.worker import main as worker_main
from warroom.worker.cycle import Worker

API = "/api/v1/statuspage"
STATUS = "/status"
JSON_API = f"{STATUS}/api/v2"
DOCUMENTS = (
    "summary.json",
    "status.json",
    "components.json",
    "incidents.json",
    "incidents/unresolved.json",
    "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json",
    "scheduled-maintenances/active.json",
)
FEEDS = ("history.atom", "history.rss")


def ok(response: Any, *statuses: int) -> Any:
    """The JSON of ``response``, asserting its status (200 unless told)."""
    assert response.status_code in (statuses or (200,)), response.text
    return response.json() if response.content else None


def pages_of(app: FastAPI) -> StatusPages:
    pages: StatusPages = app.state.status_pages
    return pages


def no_cache_delay(app: FastAPI) -> StatusPages:
    """Make the app's cached pages look at the page version on every request."""
    pages = pages_of(app)
    pages.check_seconds = 0
    return pages


# Management API


def add_component(client: TestClient, headers: Headers, name: str, **fields: Any) -> dict[str, Any]:
    made: dict[str, Any] = ok(
        client.post(f"{API}/components", json={"name": name, **fields}, headers=headers), 201
    )
    return made


def post_body(
    message: str,
    *,
    status: str = "investigating",
    incident: str | None = None,
    components: dict[str, str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A post body: for ``incident``, else standalone (new=true)."""
    body: dict[str, Any] = {"status": status, "message": message, **fields}
    if incident is not None:
        body["incident"] = incident
    elif "new" not in fields:
        body["new"] = True
    if components is not None:
        body["components"] = components
    return body


def post(client: TestClient, headers: Headers, message: str, **fields: Any) -> dict[str, Any]:
    """Post to the status page (see post_body) and return the API's answer."""
    made: dict[str, Any] = ok(
        client.post(f"{API}/posts", json=post_body(message, **fields), headers=headers), 201
    )
    return made


def status_incidents(client: TestClient, headers: Headers) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(client.get(f"{API}/incidents", headers=headers))
    return found


def unpublish(sessions: SessionFactory, name: str) -> None:
    """Mark a component as still being set up (no API does this yet)."""
    with unit_of_work(sessions) as session:
        component = session.query(StatusComponent).filter_by(name=name).one()
        component.published = False


# Public side


def public(client: TestClient, path: str, **headers: str) -> Any:
    """GET a public path without any credentials; asserts 200."""
    response = client.get(f"{STATUS}{path}", headers=headers)
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return response


def document(client: TestClient, name: str) -> dict[str, Any]:
    response = public(client, f"/api/v2/{name}")
    assert response.headers["content-type"] == "application/json"
    found: dict[str, Any] = response.json()
    return found


def public_paths(client: TestClient, app: FastAPI) -> list[str]:
    """Every path of the public page now (pages.all_paths), from the served snapshot."""
    public(client, "/")
    snapshot = pages_of(app).snapshot
    assert snapshot is not None
    return all_paths(snapshot)


def every_public_body(client: TestClient, app: FastAPI) -> dict[str, str]:
    """The text of every public path, the sign-up page, and the gzip forms of the pages."""
    bodies: dict[str, str] = {}
    for path in [*public_paths(client, app), "/subscribe"]:
        plain = public(client, path)
        bodies[path] = plain.text
        squeezed = client.get(
            f"{STATUS}{path}", headers={"Accept-Encoding": "gzip"}, follow_redirects=True
        )
        bodies[f"{path} (gzip)"] = squeezed.text
    return bodies


def parse_feed(body: bytes) -> Any:
    """feedparser's view of ``body``; fails unless it parsed without complaint."""
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def gunzip(body: bytes) -> bytes:
    return gzip.decompress(body)


def strip_tags(html: str) -> str:
    """Text of an HTML page, tags removed and whitespace folded (for reading it like a person)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def leaked(markers: Iterable[str], texts: dict[str, str]) -> list[tuple[str, str, str]]:
    """(place, marker, context) for every marker found, case-insensitively, in ``texts``."""
    found = []
    for place, text in texts.items():
        folded = text.casefold()
        for marker in markers:
            at = folded.find(marker.casefold())
            if at >= 0:
                found.append((place, marker, text[max(0, at - 60) : at + 60]))
    return found


# Worker and mail


def build_worker(
    settings: Settings, sessions: SessionFactory, clock: FixedClock, smtp_url: str
) -> Worker:
    """A worker like the server's (same secret, so its links work here), mailing ``smtp_url``."""
    configured = settings.model_copy(update={"smtp_url": smtp_url, "retry_base_seconds": 10})
    return worker_main.build(configured, sessions, clock)


def drain(worker: Worker) -> None:
    """Run the worker until nothing is due at the clock's time."""
    for _ in range(50):
        if worker.run_once() == 0:
            return
    raise AssertionError("the worker never went idle")


def link_path(url: str) -> str:
    """The path of a link in a mail (they carry the server's base URL)."""
    parts = urlsplit(url)
    return parts.path


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


def header(message: Message, name: str) -> str:
    """A header's value, unfolded (long ones are folded on the wire, RFC 5322 §2.2.3)."""
    value = message[name]
    assert value is not None, f"no {name} header in {message['Subject']!r}"
    return re.sub(r"\r?\n(?=[ \t])", "", str(value)).strip()
