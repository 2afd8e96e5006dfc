"""Cached status pages answered inside the HTTP protocol (web/protocol.py), skipping ASGI.

A real uvicorn server with warroom's protocol runs the server app in a thread.
Each answer given inline must be byte for byte the answer ASGI gives (the
Date header aside); whatever the inline path cannot answer safely must reach
the app, in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.http.api import People
from tests.http.inline_server import Server, read_answer, request, without_date
from tests.http.statuspage import DOCUMENTS, add_component, pages_of, post
from warroom.statuspage.pages import StatusPages
from warroom.web.protocol import status_pages_of

PATHS = ("/status/", "/status/history", "/status/history.rss", "/status/api/v2/summary.json")
VARIANTS: dict[str, dict[str, str]] = {
    "plain": {},
    "gzip": {"Accept-Encoding": "gzip, deflate"},
    "refuses gzip": {"Accept-Encoding": "gzip;q=0, identity"},
}


@pytest.fixture
def page(client: TestClient, people: People) -> str:
    add_component(client, people.admin, "API")
    made = post(client, people.responder, "API errors.", components={"API": "major_outage"})
    return f"/status/incidents/{made['status_incident']}"


@pytest.fixture
def server(app: FastAPI, page: str) -> Iterator[Server]:
    with Server(app) as running:
        yield running


def settled(pages: StatusPages) -> StatusPages:
    """No version check falls due during the test: every rendered page is answered inline."""
    pages.check_seconds = 3600
    return pages


@pytest.mark.parametrize("variant", VARIANTS)
def test_an_inline_answer_is_the_answer_asgi_gives(
    server: Server, app: FastAPI, page: str, variant: str
) -> None:
    settled(pages_of(app))
    for path in (*PATHS, page, *(f"/status/api/v2/{d}" for d in DOCUMENTS[1:3])):
        get, head = request(path, **VARIANTS[variant]), request(path, "HEAD", **VARIANTS[variant])
        [through_asgi] = server.exchange(get)  # not rendered yet: the app renders it
        assert server.asgi.calls[-1] == path
        calls = len(server.asgi.calls)
        [inline, inline_head] = server.exchange(get, head)
        assert len(server.asgi.calls) == calls, f"{path} went through ASGI"
        assert without_date(inline) == without_date(through_asgi)
        assert inline[0] == 200
        assert without_date(inline_head)[:2] == without_date(through_asgi)[:2]
        assert inline_head[2] == b""


def test_an_inline_304_repeats_the_validators_only(server: Server, app: FastAPI) -> None:
    pages = settled(pages_of(app))
    [first] = server.exchange(request("/status/", Accept_Encoding="gzip"))
    etag = first[1]["etag"]
    before = pages.responses[304]
    listed = f'"other", W/{etag}'
    answers = server.exchange(*(request("/status/", If_None_Match=c) for c in (etag, listed, "*")))
    assert [a[0] for a in answers] == [304, 304, 304]
    assert set(without_date(answers[0])[1]) == {"etag", "cache-control", "vary"}
    assert pages.responses[304] == before + 3  # counted for /metrics as ASGI answers are
    assert server.asgi.calls == ["/status/"]
    [changed] = server.exchange(request("/status/", If_None_Match='"other"'))
    assert changed[0] == 200
    assert changed[1]["etag"] == etag
    assert b"</html>" in changed[2]


def test_pipelined_requests_are_answered_in_order(server: Server, app: FastAPI) -> None:
    settled(pages_of(app))
    server.exchange(request("/status/"), request("/status/history"))  # both rendered now
    # An unrendered page goes through ASGI; the rendered ones behind it must wait for it.
    answers = server.exchange(
        request("/status/"),
        request("/status/api/v2/components.json"),
        request("/status/history"),
        request("/status/"),
    )
    assert [a[1]["content-type"].split(";")[0] for a in answers] == [
        "text/html",
        "application/json",
        "text/html",
        "text/html",
    ]
    assert answers[0][2] == answers[3][2]
    assert b"<title>" in answers[2][2]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (request("/status/", version="1.0"), "HTTP/1.0"),
        (request("/status/", Connection="close"), "closing"),
        (request("/status/%68istory"), "percent-encoded"),
        (request("/status/", "POST", Content_Length="0"), "not GET"),
        (request("/status/subscribe"), "a form, not a cached page"),
    ],
)
def test_what_inline_cannot_answer_safely_goes_to_the_app(
    server: Server, app: FastAPI, raw: bytes, reason: str
) -> None:
    settled(pages_of(app))
    server.exchange(request("/status/"), request("/status/history"))
    calls = len(server.asgi.calls)
    with server.connect() as conn:
        conn.sendall(raw)
        status, _headers, _ = read_answer(conn.makefile("rb"))
    assert len(server.asgi.calls) == calls + 1, reason
    assert status in (200, 405), reason


def test_a_query_string_is_ignored_as_the_app_ignores_it(server: Server, app: FastAPI) -> None:
    settled(pages_of(app))
    [plain] = server.exchange(request("/status/"))
    [queried] = server.exchange(request("/status/?utm_source=mail&x=%00"))
    assert server.asgi.calls == ["/status/"]
    assert without_date(queried) == without_date(plain)


def test_a_due_version_check_goes_to_the_app_so_a_post_shows(
    server: Server, app: FastAPI, client: TestClient, people: People
) -> None:
    pages = settled(pages_of(app))
    [before] = server.exchange(request("/status/api/v2/summary.json"))
    post(client, people.responder, "Still looking.", title="API errors")
    [cached] = server.exchange(request("/status/api/v2/summary.json"))
    assert without_date(cached) == without_date(before)  # the check is not due yet
    pages.check_seconds = 0  # the check is due on every request now
    [after] = server.exchange(request("/status/api/v2/summary.json"))
    assert b"Still looking." in after[2]
    assert server.asgi.calls == ["/status/api/v2/summary.json"] * 2


def test_keep_alive_connections_take_many_inline_answers(server: Server, app: FastAPI) -> None:
    settled(pages_of(app))
    server.exchange(request("/status/"))
    with server.connect() as conn:
        reader = conn.makefile("rb")
        bodies = set()
        for _ in range(50):
            conn.sendall(request("/status/"))
            status, _, body = read_answer(reader)
            assert status == 200
            bodies.add(body)
    assert len(bodies) == 1
    assert server.asgi.calls == ["/status/"]


def test_the_pages_are_found_under_middleware_and_only_in_a_front(server: Server) -> None:
    async def bare(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(0)

    assert status_pages_of(server.server.config.loaded_app) is server.asgi.app.status
    assert status_pages_of(bare) is None
