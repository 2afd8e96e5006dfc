"""A real uvicorn server running warroom's HTTP protocol in a thread, spoken to in raw HTTP/1.1.

Used by the suites of the protocol's inline answers (status pages, PagerDuty
events): what is answered inline must be what ASGI answers, and what is not
must reach the app, in order.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import uvicorn
from fastapi import FastAPI

from tests.e2e.harness import free_port
from warroom.web.front import Front


class Counted:
    """ASGI middleware counting the HTTP requests that reach the app."""

    def __init__(self, app: Front) -> None:
        self.app = app  # the attribute uvicorn's middleware use too: the protocol looks through
        self.calls: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.calls.append(scope["path"])
        await self.app(scope, receive, send)


class Server:
    """uvicorn with warroom's protocol in a thread; raw HTTP/1.1 over sockets."""

    def __init__(self, app: FastAPI, front: Front | None = None) -> None:
        self.asgi = Counted(front or Front(app, [], status=app.state.status_pages))
        self.port = free_port()
        config = uvicorn.Config(
            self.asgi,
            host="127.0.0.1",
            port=self.port,
            http="warroom.web.protocol:HttpProtocol",
            proxy_headers=True,  # wraps the app once more, as `warroom serve` does
            lifespan="off",
            log_level="warning",
            server_header=False,
            access_log=False,  # as `warroom serve` runs unless debugging (an access log goes
            # through ASGI, which writes it)
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        while not self.server.started:
            self.thread.join(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    def exchange(self, *requests: bytes) -> list[Answer]:
        """Send ``requests`` in one write (pipelined) on a new connection; read the answers."""
        with self.connect() as conn:
            conn.sendall(b"".join(requests))
            reader = conn.makefile("rb")
            return [read_answer(reader, head=r.startswith(b"HEAD")) for r in requests]


Answer = tuple[int, dict[str, str], bytes]


def request(path: str, method: str = "GET", version: str = "1.1", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/{version}", "Host: 127.0.0.1"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_answer(reader: Any, *, head: bool = False) -> Answer:
    status = int(reader.readline().split()[1])
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        assert name.lower() not in headers, f"{name} sent twice"
        headers[name.lower()] = value.strip()
    length = 0 if head or status == 304 else int(headers["content-length"])
    return status, headers, reader.read(length)


def without_date(answer: Answer) -> Answer:
    status, headers, body = answer
    assert "date" in headers  # the server's own headers are sent inline too
    return status, {k: v for k, v in headers.items() if k != "date"}, body
