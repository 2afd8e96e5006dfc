"""Background alerts at a steady rate: PagerDuty v2 triggers over keep-alive connections.

Run as its own process, so that its CPU is not the measuring process's:

    python bench/paging_load.py URL ROUTING_KEY RATE SECONDS

Sends RATE events a second (paced by a monotonic clock; one in ten repeats an
earlier dedup key) for SECONDS or until SIGINT/SIGTERM, then prints one JSON
line: how many were sent, the answers by status, errors and the rate achieved.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

CONNECTIONS = 16


def _request(host: str, key: str, n: int) -> bytes:
    dedup = f"bg-{n - 1}" if n % 10 == 9 else f"bg-{n}"
    body = json.dumps(
        {
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": dedup,
            "payload": {"summary": f"Background {dedup}", "source": "bench", "severity": "warning"},
        }
    ).encode()
    head = (
        f"POST /v2/enqueue HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _answer(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


class Load:
    def __init__(self, url: str, key: str, rate: float, seconds: float) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.key, self.rate, self.seconds = key, rate, seconds
        self.sent = 0
        self.sending = 0.0
        self.statuses: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] | None = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self.host, self.port)

    async def _send(self, n: int) -> None:
        assert self.idle is not None
        reader, writer = await self.idle.get()
        try:
            writer.write(_request(self.host, self.key, n))
            self.statuses[await _answer(reader)] += 1
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            self.errors[type(error).__name__] += 1
            writer.close()
            try:
                reader, writer = await self._connect()
            except OSError:
                await asyncio.sleep(0.1)
                reader, writer = await self._connect()
        self.idle.put_nowait((reader, writer))

    async def run(self, stop: asyncio.Event) -> float:
        self.idle = asyncio.Queue()
        for _ in range(CONNECTIONS):
            self.idle.put_nowait(await self._connect())
        started = time.monotonic()
        tasks: set[asyncio.Task[None]] = set()
        while not stop.is_set() and time.monotonic() - started < self.seconds:
            task = asyncio.create_task(self._send(self.sent))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            self.sent += 1
            wait = started + self.sent / self.rate - time.monotonic()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
        self.sending = time.monotonic() - started
        if tasks:
            await asyncio.wait(tasks, timeout=10.0)
        return time.monotonic() - started


async def main(url: str, key: str, rate: float, seconds: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    load = Load(url, key, rate, seconds)
    print("ready", flush=True)
    elapsed = await load.run(stop)
    answered = sum(load.statuses.values())
    report = {
        "sent": load.sent,
        "statuses": {str(k): v for k, v in sorted(load.statuses.items())},
        "errors": dict(load.errors),
        "seconds": round(elapsed, 2),
        "sent_rate": round(load.sent / load.sending, 1) if load.sending else 0.0,
        "rate": round(answered / elapsed, 1) if elapsed else 0.0,
    }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])))
