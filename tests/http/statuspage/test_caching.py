"""Cached public pages: ETags and 304, gzip, HEAD, GET only, and how soon a post shows.

The server keeps each rendered path with its ETag and gzip form until the
page's version changes, and looks at the version at most every 0.5 s.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.http.api import People
from tests.http.statuspage import (
    DOCUMENTS,
    STATUS,
    add_component,
    gunzip,
    no_cache_delay,
    pages_of,
    post,
    public,
)
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.settings import Settings
from warroom.statuspage import pages as pages_module
from warroom.statuspage import rules
from warroom.statuspage import service as status_service
from warroom.statuspage.pages import StatusPages
from warroom.statuspage.present import Snapshot, snapshot
from warroom.web.status import page_config

IDENTITY = {"Accept-Encoding": "identity"}  # httpx asks for gzip unless told
PATHS = ("/", "/history", "/history.atom", "/history.rss", *(f"/api/v2/{d}" for d in DOCUMENTS))


@pytest.fixture
def page(client: TestClient, people: People) -> str:
    """A component and an open incident: the path of its page."""
    add_component(client, people.admin, "API")
    made = post(client, people.responder, "API errors.", components={"API": "major_outage"})
    return f"/incidents/{made['status_incident']}"


def raw_get(client: TestClient, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the bytes as sent (httpx would undo the gzip)."""
    with client.stream("GET", f"{STATUS}{path}", headers=headers) as response:
        body = b"".join(response.iter_raw())
        return response.status_code, dict(response.headers), body


def test_every_page_has_a_strong_etag_and_answers_304_to_it(
    client: TestClient, app: FastAPI, page: str
) -> None:
    no_cache_delay(app)
    for path in (*PATHS, page):
        first = public(client, path)
        etag = first.headers["etag"]
        assert re.fullmatch(r'"[0-9a-f]{32}"', etag), etag
        assert first.headers["cache-control"] == "public, max-age=0, must-revalidate"
        assert first.headers["vary"] == "accept-encoding"
        again = client.get(f"{STATUS}{path}", headers={"If-None-Match": etag})
        assert again.status_code == 304, path
        assert again.content == b""
        assert again.headers["etag"] == etag
        other = client.get(f"{STATUS}{path}", headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200
        assert other.content == first.content


def test_a_post_changes_the_etag_so_the_old_one_gets_the_new_page(
    client: TestClient, app: FastAPI, people: People, page: str
) -> None:
    no_cache_delay(app)
    before = public(client, "/api/v2/summary.json")
    post(client, people.responder, "Another problem.")
    after = client.get(
        f"{STATUS}/api/v2/summary.json", headers={"If-None-Match": before.headers["etag"]}
    )
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert len(after.json()["incidents"]) == 2


def test_the_same_page_has_the_same_etag_after_an_unrelated_change(
    client: TestClient, app: FastAPI, people: People, page: str
) -> None:
    """ETags hash the bytes, so a new version that renders the same keeps them."""
    no_cache_delay(app)
    before = public(client, "/api/v2/scheduled-maintenances.json").headers["etag"]
    post(client, people.responder, "Another problem.")
    assert public(client, "/api/v2/scheduled-maintenances.json").headers["etag"] == before


def test_gzip_is_served_to_clients_that_accept_it(
    client: TestClient, app: FastAPI, page: str
) -> None:
    no_cache_delay(app)
    for path in (*PATHS, page):
        status, plain_headers, plain = raw_get(client, path, **IDENTITY)
        assert status == 200
        assert "content-encoding" not in plain_headers
        assert int(plain_headers["content-length"]) == len(plain)
        status, headers, squeezed = raw_get(client, path, **{"Accept-Encoding": "gzip, br"})
        assert status == 200
        assert headers["content-encoding"] == "gzip"
        assert headers["vary"] == "accept-encoding"
        assert int(headers["content-length"]) == len(squeezed)
        assert gunzip(squeezed) == plain, path
        assert headers["content-type"] == plain_headers["content-type"]
        if len(plain) > 2000:
            assert len(squeezed) < len(plain) / 2, path
        # A conditional gzip request is answered 304 too, with nothing to decompress.
        status, headers, body = raw_get(
            client, path, **{"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]}
        )
        assert (status, body) == (304, b"")
        assert "content-encoding" not in headers


def test_head_answers_the_headers_of_get_without_a_body(
    client: TestClient, app: FastAPI, page: str
) -> None:
    no_cache_delay(app)
    for path in (*PATHS, page):
        got = public(client, path, **IDENTITY)
        head = client.head(f"{STATUS}{path}", headers=IDENTITY)
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["etag"] == got.headers["etag"]
        assert head.headers["content-type"] == got.headers["content-type"]
        assert int(head.headers["content-length"]) == len(got.content)
        _, _, body = raw_get(client, path, **{"Accept-Encoding": "gzip"})
        head = client.head(f"{STATUS}{path}", headers={"Accept-Encoding": "gzip"})
        assert head.headers["content-encoding"] == "gzip"
        assert int(head.headers["content-length"]) == len(body)
        conditional = client.head(f"{STATUS}{path}", headers={"If-None-Match": got.headers["etag"]})
        assert conditional.status_code == 304
    assert client.head(f"{STATUS}/incidents/nonexistent1").status_code == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_cached_paths_take_get_only(
    client: TestClient, app: FastAPI, page: str, method: str
) -> None:
    for path in ("/", page, "/api/v2/summary.json", "/history.atom", "/nonexistent"):
        answer = client.request(method, f"{STATUS}{path}", content=b"x=1")
        assert answer.status_code == 405, (method, path)
        assert answer.text == "GET only"


def test_a_405_says_which_methods_are_allowed(client: TestClient, page: str) -> None:
    answer = client.post(f"{STATUS}/")
    assert answer.status_code == 405
    assert answer.headers.get("allow") == "GET, HEAD"


def test_a_304_does_not_claim_an_empty_body(client: TestClient, app: FastAPI, page: str) -> None:
    got = public(client, "/")
    again = client.get(f"{STATUS}/", headers={"If-None-Match": got.headers["etag"]})
    assert again.status_code == 304
    assert again.headers.get("content-length") in (None, str(len(got.content)))


def test_metrics_count_status_page_answers_by_status(client: TestClient, page: str) -> None:
    got = public(client, "/")
    client.get(f"{STATUS}/", headers={"If-None-Match": got.headers["etag"]})
    client.get(f"{STATUS}/nowhere")
    client.post(f"{STATUS}/")
    text = client.get("/metrics").text
    counted = dict(
        re.findall(r'^warroom_status_page_responses_total\{status="(\d+)"\} (\S+)$', text, re.M)
    )
    assert {code: float(n) for code, n in counted.items()} == {
        "200": 1.0,
        "304": 1.0,
        "404": 1.0,
        "405": 1.0,
    }


def test_a_client_refusing_gzip_gets_plain_bytes(client: TestClient, page: str) -> None:
    status, headers, body = raw_get(client, "/", **{"Accept-Encoding": "gzip;q=0, identity"})
    assert status == 200
    assert "content-encoding" not in headers
    assert body.startswith(b"<!doctype html>")


@pytest.mark.parametrize(
    ("accept", "gzip"),
    [
        ("gzip, deflate, br, zstd", True),
        ("GZIP;Q=0.5", True),
        ("*", True),
        ("x-gzip", True),
        ("gzip;q=0", False),
        ("gzip;q=0.5, identity", False),  # identity (q=1) is preferred
        ("*;q=0, identity", False),
        ("br, identity", False),
        ("gzip;q=nan", False),
        ("", False),
    ],
)
def test_accept_encoding_is_read_with_its_qualities(accept: str, gzip: bool) -> None:
    assert pages_module.accepts_gzip(accept.encode()) is gzip


@pytest.mark.parametrize("form", ["list", "weak", "star"])
def test_if_none_match_takes_lists_weak_tags_and_star(
    client: TestClient, page: str, form: str
) -> None:
    etag = public(client, "/").headers["etag"]
    value = {"list": f'"old", {etag}', "weak": f"W/{etag}", "star": "*"}[form]
    assert client.get(f"{STATUS}/", headers={"If-None-Match": value}).status_code == 304


def test_a_post_shows_on_the_cached_page_within_a_second(
    client: TestClient, app: FastAPI, people: People, page: str
) -> None:
    assert pages_of(app).check_seconds == 0.5
    before = public(client, "/api/v2/incidents/unresolved.json").json()["incidents"]
    assert len(before) == 1
    post(client, people.responder, "A second problem.", title="Slow search")
    posted = time.monotonic()
    while True:
        shown = public(client, "/api/v2/incidents/unresolved.json").json()["incidents"]
        if len(shown) == 2:
            break
        assert time.monotonic() - posted < 1.0, "the post did not show within a second"
        time.sleep(0.05)
    assert shown[0]["name"] == "Slow search"
    assert "Slow search" in public(client, "/").text
    assert "Slow search" in public(client, "/history.atom").text


def test_within_half_a_second_the_page_is_served_without_reading_the_version(
    client: TestClient, app: FastAPI, people: People, page: str
) -> None:
    pages = pages_of(app)
    pages.check_seconds = 60
    first = public(client, "/api/v2/summary.json").content
    post(client, people.responder, "Another problem.")
    # Not rechecked yet: still the cached bytes.
    assert public(client, "/api/v2/summary.json").content == first
    pages.check_seconds = 0
    assert public(client, "/api/v2/summary.json").content != first


# The cache on its own (no HTTP): what it reads, and when


class Source:
    """A page version and snapshots built from the test database, counting the reads."""

    def __init__(self, sessions: SessionFactory, clock: FixedClock, settings: Settings) -> None:
        self.sessions, self.clock = sessions, clock
        self.config = page_config(settings)
        self.loads = 0
        self.builds = 0
        self.fail = False

    def load(self) -> int:
        self.loads += 1
        if self.fail:
            raise RuntimeError("database down")
        with unit_of_work(self.sessions, write=False) as session:
            return status_service.version(session)

    def build(self, version: int) -> Snapshot:
        self.builds += 1
        with unit_of_work(self.sessions, write=False) as session:
            return snapshot(session, self.config, self.clock.now(), version)

    def pages(self, check_seconds: float) -> StatusPages:
        return StatusPages(
            self.load,
            self.build,
            base=self.config.url,
            host="127.0.0.1",
            check_seconds=check_seconds,
        )


@pytest.fixture
def source(sessions: SessionFactory, clock: FixedClock, settings: Settings) -> Source:
    return Source(sessions, clock, settings)


def standalone_post(sessions: SessionFactory, clock: FixedClock, message: str) -> None:
    with unit_of_work(sessions) as session:
        status_service.post(
            session=session,
            now=clock.now(),
            actor=None,
            request=status_service.PostRequest(
                status=rules.PostStatus.INVESTIGATING, message=message
            ),
        )


def fetch(pages: StatusPages, path: str) -> bytes:
    return asyncio.run(pages.page(path)).body


def test_the_cache_builds_once_per_version_and_renders_once_per_path(
    source: Source, sessions: SessionFactory, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    renders: list[str] = []
    real_render = pages_module.render

    def counting(snap: Snapshot, path: str, **kw: Any) -> tuple[bytes, str] | None:
        renders.append(path)
        return real_render(snap, path, **kw)

    monkeypatch.setattr(pages_module, "render", counting)
    pages = source.pages(check_seconds=0)
    for _ in range(5):
        for path in ("/", "/api/v2/summary.json"):
            fetch(pages, path)
    assert (source.builds, renders) == (1, ["/", "/api/v2/summary.json"])
    assert source.loads == 10  # with check_seconds=0 every request reads the version

    standalone_post(sessions, clock, "Something broke.")
    assert b"Something broke." in fetch(pages, "/api/v2/summary.json")
    assert source.builds == 2
    assert b"Service disruption" in fetch(pages, "/")
    assert renders[2:] == ["/api/v2/summary.json", "/"]


def test_a_traffic_spike_reads_the_version_at_most_every_check(source: Source) -> None:
    pages = source.pages(check_seconds=60)
    for _ in range(200):
        fetch(pages, "/")
    assert (source.loads, source.builds) == (1, 1)


def test_the_page_answers_503_until_the_database_answers(source: Source) -> None:
    served = TestClient(source.pages(check_seconds=0))
    source.fail = True
    down = served.get("/status/")
    assert down.status_code == 503
    assert "Status unavailable" in down.text
    source.fail = False
    assert served.get("/status/").status_code == 200


def test_the_last_good_page_is_served_while_the_database_is_down(source: Source) -> None:
    served = TestClient(source.pages(check_seconds=0))
    good = served.get("/status/")
    assert good.status_code == 200
    source.fail = True
    assert served.get("/status/").status_code == 200


def test_an_outage_is_retried_once_per_check_not_once_per_request(source: Source) -> None:
    pages = source.pages(check_seconds=60)
    good = fetch(pages, "/")
    source.fail = True
    pages.checked_at = 0  # the check is due
    for _ in range(20):
        assert fetch(pages, "/") == good
    assert source.loads == 2
    source.fail = False
    pages.checked_at = 0
    assert fetch(pages, "/") == good
    assert (source.loads, source.builds) == (3, 1)


def test_a_render_racing_a_new_version_is_not_cached_as_the_new_page(
    source: Source, sessions: SessionFactory, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_render = pages_module.render
    started, release = threading.Event(), threading.Event()

    def slow_summary(snap: Snapshot, path: str, **kw: Any) -> tuple[bytes, str] | None:
        if path == "/api/v2/summary.json" and not release.is_set():
            started.set()
            assert release.wait(10)
        return real_render(snap, path, **kw)

    monkeypatch.setattr(pages_module, "render", slow_summary)
    pages = source.pages(check_seconds=0)

    async def scenario() -> bytes:
        slow = asyncio.create_task(pages.page("/api/v2/summary.json"))  # renders version 0
        await asyncio.to_thread(started.wait, 10)
        await asyncio.to_thread(standalone_post, sessions, clock, "New problem.")
        await pages.page("/")  # sees version 1 and empties the cache
        release.set()
        await slow
        return (await pages.page("/api/v2/summary.json")).body

    assert b"New problem." in asyncio.run(scenario())
