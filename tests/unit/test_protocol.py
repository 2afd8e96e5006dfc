"""The coalescing transport under uvicorn: one write per loop turn, nothing lost or reordered."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import uvicorn

from tests.e2e.harness import free_port
from warroom.web.protocol import CoalescingTransport


class Recorder:
    """A transport that records what reaches it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.calls.append(("write", data))

    def writelines(self, data: list[bytes]) -> None:
        self.calls.append(("writelines", list(data)))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True
        self.calls.append(("close", None))

    def get_extra_info(self, name: str) -> str:
        return f"extra:{name}"


def wrapped(loop: asyncio.AbstractEventLoop) -> tuple[Recorder, CoalescingTransport]:
    raw = Recorder()
    return raw, CoalescingTransport(raw, loop)  # type: ignore[arg-type]


def test_writes_of_one_turn_go_out_together_in_order() -> None:
    async def scenario() -> list[tuple[str, Any]]:
        raw, transport = wrapped(asyncio.get_running_loop())
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(b"body")
        assert raw.calls == []  # held until the turn ends
        await asyncio.sleep(0)
        transport.write(b"next")
        await asyncio.sleep(0)
        return raw.calls

    assert asyncio.run(scenario()) == [
        ("writelines", [b"HTTP/1.1 200 OK\r\n\r\n", b"body"]),
        ("write", b"next"),
    ]


def test_close_sends_what_was_written_first_and_later_writes_are_dropped() -> None:
    async def scenario() -> list[tuple[str, Any]]:
        raw, transport = wrapped(asyncio.get_running_loop())
        transport.write(b"last words")
        transport.close()
        transport.write(b"too late")
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return raw.calls

    assert asyncio.run(scenario()) == [("write", b"last words"), ("close", None)]


def test_everything_else_is_the_real_transports() -> None:
    async def scenario() -> str:
        _, transport = wrapped(asyncio.get_running_loop())
        return str(transport.get_extra_info("peername"))

    assert asyncio.run(scenario()) == "extra:peername"


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    size = int(scope["path"].strip("/") or 0)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    for n in range(3):  # streamed in parts, across turns, then the end
        await send(
            {"type": "http.response.body", "body": bytes([65 + n]) * size, "more_body": True}
        )
        await asyncio.sleep(0)
    await send({"type": "http.response.body", "body": b"."})


@pytest.mark.parametrize("size", [0, 10, 300_000])
def test_a_real_server_answers_whole_responses_over_keep_alive(size: int) -> None:
    port = free_port()
    config = uvicorn.Config(
        _app,
        host="127.0.0.1",
        port=port,
        http="warroom.web.protocol:HttpProtocol",
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)

    async def scenario() -> list[bytes]:
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                return [(await client.get(f"/{size}")).content for _ in range(3)]
        finally:
            server.should_exit = True
            await task

    expected = b"A" * size + b"B" * size + b"C" * size + b"."
    assert asyncio.run(scenario()) == [expected] * 3
