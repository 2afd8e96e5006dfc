"""Single requests on fresh connections: what a variant answers, and post-to-visible time.

http.client sends only the headers given (no Accept-Encoding of its own when
told so), as wrk does, so a check sees exactly what the load run will get.
"""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

POLL_SECONDS = 0.01
VISIBLE_TIMEOUT = 15.0
STABLE_SECONDS = 1.0  # keep polling this long after the first sighting


@dataclass(frozen=True)
class Answer:
    """One response: status, the headers that matter here, raw body size."""

    status: int
    etag: str
    encoding: str
    cache_control: str
    body_bytes: int
    body: bytes = field(repr=False, default=b"")


def get(base_url: str, path: str, headers: dict[str, str], timeout: float = 10.0) -> Answer:
    """GET on a new connection with exactly ``headers`` (and Host)."""
    split = urlsplit(base_url)
    connection = http.client.HTTPConnection(split.hostname or "", split.port, timeout=timeout)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
        return Answer(
            status=response.status,
            etag=response.getheader("etag", ""),
            encoding=response.getheader("content-encoding", ""),
            cache_control=response.getheader("cache-control", ""),
            body_bytes=len(body),
            body=body,
        )
    finally:
        connection.close()


@dataclass
class Visibility:
    """A status post made during load, and when the public JSON showed it."""

    post_ms: float = 0.0  # the POST itself, to its 2xx
    visible_s: float | None = None  # from the 2xx to the first poll showing the incident
    last_miss_s: float = 0.0  # from the 2xx to the end of the last poll not showing it
    polls: int = 0
    misses_after_seen: int = 0  # polls not showing it after one did (another worker's cache)
    poll_p50_ms: float = 0.0
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def post(console_url: str, token: str, title: str) -> tuple[str, float, float]:
    """A standalone post through the API; returns its public incident id and timings."""
    body = {
        "new": True,
        "status": "investigating",
        "title": title,
        "message": "We are investigating elevated error rates at checkout.",
        "components": {"Checkout": "major_outage", "Payments": "partial_outage"},
    }
    headers = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    answer = httpx.post(f"{console_url}/api/v1/statuspage/posts", json=body, headers=headers)
    done = time.perf_counter()
    answer.raise_for_status()
    return str(answer.json()["status_incident"]), (done - started) * 1000, done


def _shows(base_url: str, path: str, incident: str) -> tuple[bool, float]:
    started = time.perf_counter()
    answer = get(base_url, path, {"Cache-Control": "no-cache", "Pragma": "no-cache"})
    took = (time.perf_counter() - started) * 1000
    if answer.status != 200:
        return False, took
    doc = json.loads(answer.body)
    return any(i.get("id") == incident for i in doc.get("incidents", [])), took


def watch(console_url: str, token: str, public_url: str, path: str) -> Visibility:
    """Post, then poll ``path`` every 10 ms on fresh connections until it shows the post."""
    seen = Visibility()
    incident, seen.post_ms, posted = post(console_url, token, "Checkout errors (bench post)")
    took: list[float] = []
    while time.perf_counter() - posted < VISIBLE_TIMEOUT:
        shown, ms = _shows(public_url, path, incident)
        took.append(ms)
        now = time.perf_counter() - posted
        if not shown:
            seen.last_miss_s = now
            seen.misses_after_seen += seen.visible_s is not None
        elif seen.visible_s is None:
            seen.visible_s = now
        if seen.visible_s is not None and now - seen.visible_s > STABLE_SECONDS:
            break
        time.sleep(POLL_SECONDS)
    seen.polls = len(took)
    seen.poll_p50_ms = sorted(took)[len(took) // 2] if took else 0.0
    if seen.visible_s is None:
        seen.error = f"not visible after {VISIBLE_TIMEOUT:.0f} s"
    return seen
