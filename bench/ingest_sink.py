"""A do-nothing HTTP sink for Alertmanager's webhook receiver: 200 to every request.

Run as its own process (so its CPU is not the benchmark's):
    python bench/ingest_sink.py PORT
Prints "ready" once listening; on SIGTERM prints how many requests it answered.
"""

from __future__ import annotations

import asyncio
import signal
import sys

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class Sink(asyncio.Protocol):
    """Reads each request (headers, then Content-Length bytes) and answers 200."""

    answered = 0

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = _content_length(self.buffer[:end])
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            self.buffer = self.buffer[total:]
            Sink.answered += 1
            if self.transport is not None:
                self.transport.write(ANSWER)


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip() or 0)
    return 0


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    stopped = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stopped.set_result, None)
    loop.add_signal_handler(signal.SIGINT, stopped.set_result, None)
    server = await loop.create_server(Sink, "127.0.0.1", port, backlog=1024)
    print("ready", flush=True)
    async with server:
        await stopped
    print(f"answered {Sink.answered}", flush=True)


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
