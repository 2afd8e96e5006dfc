"""PagerDuty events taken inside the HTTP protocol (web/protocol.py, web/inline_ingest.py).

A real uvicorn server with warroom's protocol serves the server app. An
event POSTed to /v2/enqueue on an idle keep-alive connection skips ASGI:
its answer must be byte for byte the one the ASGI route gives (the Date
header aside), sent only once the event is committed; anything else, and
requests pipelined behind it, reach the app in order.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import generate_latest

from tests.http.alerts.ingest import PD_ENQUEUE, Made, alerts, create_integration
from tests.http.api import People
from tests.http.inline_server import Answer, Server, read_answer, request, without_date
from tests.unit.alerts.samples import pd_trigger
from warroom.alerts.endpoints import MAX_EVENT_BYTES
from warroom.web.front import Front


def post(body: bytes, path: str = PD_ENQUEUE, **headers: str) -> bytes:
    head = request(path, "POST", Content_Type="application/json", **headers)
    return head[:-2] + f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def event(made: Made, key: str, **changes: Any) -> bytes:
    body = pd_trigger(made.key)
    body["dedup_key"] = key
    body.update(changes)
    return json.dumps(body).encode()


@pytest.fixture
def made(client: TestClient, people: People) -> Made:
    return create_integration(client, people.admin, "pagerduty")


@pytest.fixture
def server(app: FastAPI, made: Made) -> Iterator[Server]:
    front = Front(
        app,
        app.state.ingest_routes,
        status=app.state.status_pages,
        enqueue=app.state.ingest.enqueue,
    )
    with Server(app, front) as running:
        yield running


def through_asgi(server: Server, raw: bytes) -> Answer:
    """The same request on a closing connection, which the inline path leaves to ASGI."""
    calls = len(server.asgi.calls)
    closing = raw.replace(b"Host: 127.0.0.1\r\n", b"Host: 127.0.0.1\r\nConnection: close\r\n")
    [answer] = server.exchange(closing)
    assert len(server.asgi.calls) == calls + 1
    status, headers, body = without_date(answer)
    assert headers.pop("connection") == "close"
    return status, headers, body


def inline(server: Server, raw: bytes) -> Answer:
    calls = len(server.asgi.calls)
    [answer] = server.exchange(raw)
    assert len(server.asgi.calls) == calls  # the app never saw it
    return without_date(answer)


@pytest.mark.parametrize(
    "case", ["accepted", "repeat", "not json", "invalid", "unknown key", "too large"]
)
def test_an_inline_answer_is_the_answer_asgi_gives(server: Server, made: Made, case: str) -> None:
    bodies = {
        "accepted": event(made, "a"),
        "repeat": event(made, "a"),
        "not json": b"{nope",
        "invalid": event(made, "b", event_action="explode"),
        "unknown key": event(made, "c", routing_key="0" * 32),
        "too large": event(made, "d", payload={"summary": "x" * MAX_EVENT_BYTES}),
    }
    raw = post(bodies[case])
    first, second = inline(server, raw), through_asgi(server, raw)
    assert first == second
    assert first[0] == (202 if case in ("accepted", "repeat") else 400)


def test_a_rate_limited_event_is_429_with_retry_after_inline_too(
    server: Server, client: TestClient, people: People
) -> None:
    made = create_integration(client, people.admin, "pagerduty", rate_limit_per_minute=3)
    answers = [inline(server, post(event(made, f"r{n}"))) for n in range(4)]
    assert [a[0] for a in answers] == [202, 202, 202, 429]
    assert answers[3] == through_asgi(server, post(event(made, "r5")))
    assert int(answers[3][1]["retry-after"]) >= 1


def test_an_event_is_committed_when_its_202_is_sent(
    server: Server, client: TestClient, people: People, made: Made
) -> None:
    status, _, body = inline(server, post(event(made, "committed")))
    assert (status, json.loads(body)["dedup_key"]) == (202, "committed")
    [shown] = alerts(client, people.viewer)
    assert (shown["dedup_key"], shown["status"]) == ("committed", "triggered")


def test_pipelined_requests_are_answered_in_order(server: Server, made: Made) -> None:
    # The second event arrives while the first waits for its commit: it is queued
    # behind it (through ASGI), as is the health check behind that.
    answers = server.exchange(post(event(made, "p1")), post(event(made, "p2")), request("/healthz"))
    assert [a[0] for a in answers] == [202, 202, 200]
    assert [json.loads(a[2]).get("dedup_key") for a in answers[:2]] == ["p1", "p2"]
    assert server.asgi.calls.count(PD_ENQUEUE) == 1


def test_keep_alive_connections_take_many_inline_events(server: Server, made: Made) -> None:
    with server.connect() as conn, conn.makefile("rb") as reader:
        for n in range(5):
            conn.sendall(post(event(made, f"k{n}")))
            assert read_answer(reader)[0] == 202
    assert server.asgi.calls == []


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (post(b"{}", Connection="close"), "closing"),
        (post(b"{}", Expect="100-continue"), "expects 100-continue"),
        (post(b"{}", path=PD_ENQUEUE + "?x=1"), "a query string"),
        (post(b"{}", path="/v2/change/enqueue"), "another endpoint"),
        (request(PD_ENQUEUE), "not a POST"),
    ],
)
def test_what_inline_does_not_take_goes_to_the_app(server: Server, raw: bytes, reason: str) -> None:
    with server.connect() as conn, conn.makefile("rb") as reader:
        conn.sendall(raw)
        if b"100-continue" in raw:
            assert reader.readline().startswith(b"HTTP/1.1 100 ")
            assert reader.readline() == b"\r\n"
        status, _, _ = read_answer(reader)
    assert len(server.asgi.calls) == 1, reason
    assert status in (400, 405), reason


def test_inline_events_are_counted_in_the_http_metrics(
    server: Server, app: FastAPI, made: Made
) -> None:
    inline(server, post(event(made, "m")))
    inline(server, post(b"{nope"))
    text = generate_latest(app.state.metrics_registry).decode()
    for status in ("202", "400"):
        line = f'warroom_http_requests_total{{method="POST",route="/v2/enqueue",status="{status}"}}'
        assert f"{line} 1.0" in text


def test_a_failure_inside_is_a_500_and_the_server_goes_on(app: FastAPI, made: Made) -> None:
    calls: list[bytes | None] = []

    async def failing(raw: bytes | None) -> Any:
        calls.append(raw)
        if len(calls) == 1:
            raise RuntimeError("a bug")
        return await app.state.ingest.enqueue(raw)

    front = Front(app, app.state.ingest_routes, enqueue=failing)
    with Server(app, front) as server:
        answers = server.exchange(post(event(made, "f1")))
        with server.connect() as conn, conn.makefile("rb") as reader:
            for key in ("f2", "f3"):
                conn.sendall(post(event(made, key)))
                assert read_answer(reader)[0] == 202
    status, headers, body = answers[0]
    assert (status, json.loads(body)) == (500, {"detail": "internal error"})
    assert headers["connection"] == "close"  # as uvicorn closes after an app's error
    assert len(calls) == 3


def test_an_event_in_flight_at_shutdown_is_answered_with_connection_close(
    app: FastAPI, made: Made
) -> None:
    # A graceful shutdown waits for the commit, then tells the client not to reuse
    # the connection (a POST sent on it next would be lost).
    arrived, release = threading.Event(), threading.Event()

    async def slow(raw: bytes | None) -> Any:
        arrived.set()
        await asyncio.to_thread(release.wait, 10)
        return await app.state.ingest.enqueue(raw)

    front = Front(app, app.state.ingest_routes, enqueue=slow)
    with Server(app, front) as server, server.connect() as conn, conn.makefile("rb") as reader:
        conn.sendall(post(event(made, "late")))
        assert arrived.wait(10)
        server.server.should_exit = True
        deadline = time.monotonic() + 10  # a safety net, not a measured threshold
        while not _told_to_close(server) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _told_to_close(server)  # the server's shutdown marked the request
        release.set()
        status, headers, body = read_answer(reader)
    assert (status, json.loads(body)["dedup_key"]) == (202, "late")
    assert headers["connection"] == "close"


def _told_to_close(server: Server) -> bool:
    connections = list(server.server.server_state.connections)
    cycles = [getattr(c, "cycle", None) for c in connections]
    return any(getattr(cycle, "keep_alive", True) is False for cycle in cycles)
