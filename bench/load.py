"""HTTP load: the hot API calls, measured sequentially and with concurrent clients."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench import server as server_mod
from bench.seed import Seeded

Call = Callable[[httpx.Client, random.Random], httpx.Response]


@dataclass(frozen=True)
class Scenario:
    """One kind of request, e.g. the filtered first page of the incident list."""

    key: str
    label: str
    call: Call
    expect: int = 200


def scenarios(seeded: Seeded) -> list[Scenario]:
    """List (two filters), show with timeline, declare."""
    slugs, handles, top = seeded.service_slugs, seeded.handles, seeded.incidents

    def list_open_sev1(client: httpx.Client, rng: random.Random) -> httpx.Response:
        return client.get("/api/v1/incidents", params={"open": "true", "severity": "1"})

    def list_service(client: httpx.Client, rng: random.Random) -> httpx.Response:
        params = {"service": rng.choice(slugs), "limit": "50"}
        return client.get("/api/v1/incidents", params=params)

    def show(client: httpx.Client, rng: random.Random) -> httpx.Response:
        return client.get(f"/api/v1/incidents/INC-{rng.randint(1, top)}?timeline=true")

    def declare(client: httpx.Client, rng: random.Random) -> httpx.Response:
        body = {
            "title": f"Bench: elevated errors on {rng.choice(slugs)}",
            "severity": rng.randint(1, 4),
            "services": rng.sample(slugs, 2),
            "commander": rng.choice(handles),
            "customer_impact": "Some checkouts fail with 500",
        }
        return client.post("/api/v1/incidents", json=body)

    return [
        Scenario("list_open_sev1", "list open SEV-1 (first page)", list_open_sev1),
        Scenario("list_service", "list by service, limit 50", list_service),
        Scenario("show_timeline", "show with timeline", show),
        Scenario("declare", "declare", declare, expect=201),
    ]


def client(base_url: str, token: str) -> httpx.Client:
    """A keep-alive client that sends the bench admin's token."""
    return httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30.0
    )


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Result:
    """Latencies (ms) of one scenario and what they cost the server."""

    key: str
    label: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    seconds: float = 0.0
    server_cpu_s: float = 0.0
    threads: int = 1

    def record(self, response: httpx.Response | None, expect: int, ms: float, why: str) -> None:
        if response is not None and response.status_code == expect:
            self.latencies.append(ms)
            return
        self.errors += 1
        if not self.first_error:
            detail = why or f"HTTP {response.status_code if response else '?'}"
            body = response.text[:200] if response is not None else ""
            self.first_error = f"{detail} {body}".strip()

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        count = len(ordered) + self.errors
        return {
            "label": self.label,
            "threads": self.threads,
            "requests": count,
            "errors": self.errors,
            "first_error": self.first_error or None,
            "p50_ms": percentile(ordered, 50),
            "p95_ms": percentile(ordered, 95),
            "p99_ms": percentile(ordered, 99),
            "max_ms": ordered[-1] if ordered else math.nan,
            "throughput_rps": count / self.seconds if self.seconds else math.nan,
            "server_cpu_ms_per_request": 1000 * self.server_cpu_s / count if count else math.nan,
        }


def _timed(scenario: Scenario, http: httpx.Client, rng: random.Random, result: Result) -> None:
    started = time.perf_counter()
    response, why = None, ""
    try:
        response = scenario.call(http, rng)
        response.read()
    except httpx.HTTPError as error:
        why = f"{type(error).__name__}: {error}"
    result.record(response, scenario.expect, 1000 * (time.perf_counter() - started), why)


def sequential(
    scenario: Scenario, http: httpx.Client, pid: int, *, requests: int, warmup: int, seed: int
) -> Result:
    """``requests`` calls one after another on one keep-alive connection, after a warm-up."""
    rng = random.Random(seed)
    discard = Result(scenario.key, scenario.label)
    for _ in range(warmup):
        _timed(scenario, http, rng, discard)
    result = Result(scenario.key, scenario.label)
    cpu_before, started = server_mod.cpu_seconds(pid), time.perf_counter()
    for _ in range(requests):
        _timed(scenario, http, rng, result)
    result.seconds = time.perf_counter() - started
    result.server_cpu_s = server_mod.cpu_seconds(pid) - cpu_before
    return result


def concurrent(
    scenario: Scenario, base_url: str, token: str, pid: int, *, threads: int, seconds: float
) -> Result:
    """``threads`` clients, each with its own connection, calling for ``seconds``."""
    result = Result(scenario.key, scenario.label, threads=threads)
    lock = threading.Lock()
    clock: dict[str, float] = {}

    def go() -> None:  # runs once, when every client has connected
        clock["cpu"], clock["start"] = server_mod.cpu_seconds(pid), time.perf_counter()
        clock["deadline"] = clock["start"] + seconds

    barrier = threading.Barrier(threads + 1, action=go)

    def worker(n: int) -> None:
        rng, mine = random.Random(1000 + n), Result(scenario.key, scenario.label)
        with client(base_url, token) as http:
            _timed(scenario, http, rng, Result(scenario.key, scenario.label))  # connect
            barrier.wait(timeout=60)
            while time.perf_counter() < clock["deadline"]:
                _timed(scenario, http, rng, mine)
        with lock:
            result.latencies.extend(mine.latencies)
            result.errors += mine.errors
            result.first_error = result.first_error or mine.first_error

    workers = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(threads)]
    for thread in workers:
        thread.start()
    barrier.wait(timeout=60)
    for thread in workers:
        thread.join()
    result.seconds = time.perf_counter() - clock["start"]
    result.server_cpu_s = server_mod.cpu_seconds(pid) - clock["cpu"]
    return result
