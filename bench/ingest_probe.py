"""Alert POST to incident visible through the API, under a paced background storm.

wrk sends PagerDuty triggers to the load service at a fixed rate (common.lua's
``RATE``, paced with a monotonic clock), while a Python client probes another
service that has no open incident: it POSTs a trigger with a new dedup key,
then lists that service's open incidents until the one the alert opened shows
(its title is the alert's summary). The clock stops there. The probe then
resolves that incident, so the next probe opens a new one again.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench import ingest_warroom, ingest_wrk

VISIBLE_TIMEOUT = 5.0
TIMEOUT = 10.0  # per request
BACKGROUND_CONNECTIONS = 32  # enough that slow answers do not hold the rate down


@dataclass
class ProbeResult:
    """Latencies (ms) of each probe, and the background load that ran meanwhile."""

    visible_ms: list[float] = field(default_factory=list)
    post_ms: list[float] = field(default_factory=list)
    polls: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    background: ingest_wrk.WrkResult | None = None

    def percentile(self, p: float, values: list[float] | None = None) -> float:
        data = sorted(self.visible_ms if values is None else values)
        if not data:
            return math.nan
        return data[min(len(data) - 1, max(0, math.ceil(p / 100 * len(data)) - 1))]

    def as_dict(self) -> dict[str, Any]:
        return {
            "probes": len(self.visible_ms),
            "visible_p50_ms": self.percentile(50),
            "visible_p99_ms": self.percentile(99),
            "visible_max_ms": self.percentile(100),
            "post_p50_ms": self.percentile(50, self.post_ms),
            "post_p99_ms": self.percentile(99, self.post_ms),
            "max_polls": max(self.polls, default=0),
            "failures": self.failures,
            "background": self.background.as_dict() if self.background else None,
        }


def _trigger(key: str, dedup: str, summary: str) -> dict[str, Any]:
    payload = {"summary": summary, "source": "bench-probe", "severity": "critical"}
    return {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": dedup,
        "payload": payload,
    }


def probe_once(client: httpx.Client, key: str, n: int, result: ProbeResult) -> None:
    """One probe; a request that times out counts as a failed probe."""
    try:
        _probe(client, key, n, result)
    except httpx.TimeoutException as error:
        result.failures.append(f"probe {n}: {type(error).__name__} after {TIMEOUT:.0f} s")


def _probe(client: httpx.Client, key: str, n: int, result: ProbeResult) -> None:
    """Trigger, list until visible, then resolve the incident the alert opened."""
    summary = f"Probe {n}: search latency above target"
    started = time.perf_counter()
    answer = client.post("/v2/enqueue", json=_trigger(key, f"probe-{n}", summary))
    posted = time.perf_counter()
    if answer.status_code != 202:
        result.failures.append(f"probe {n}: POST answered {answer.status_code}")
        return
    params = {"service": ingest_warroom.PROBE_SERVICE, "open": "true", "limit": "5"}
    polls = 0
    while time.perf_counter() - started < VISIBLE_TIMEOUT:
        polls += 1
        items = client.get("/api/v1/incidents", params=params).json()["items"]
        found = next((i for i in items if i["title"] == summary), None)
        if found is not None:
            result.visible_ms.append((time.perf_counter() - started) * 1000)
            result.post_ms.append((posted - started) * 1000)
            result.polls.append(polls)
            client.post(f"/api/v1/incidents/{found['ref']}/resolve").raise_for_status()
            return
    result.failures.append(f"probe {n}: no incident after {VISIBLE_TIMEOUT:.0f} s")


def measure(
    wr: ingest_warroom.Warroom, *, probes: int, per_second: float, background_rate: int
) -> ProbeResult:
    """``probes`` probes at ``per_second`` while wrk sends ``background_rate`` alerts/s."""
    load = ingest_wrk.Load(
        "pagerduty.lua",
        {"KEY": wr.keys.pagerduty, "RUN": "bg", "RATE": str(background_rate)},
        connections=BACKGROUND_CONNECTIONS,
    )
    seconds = probes / per_second + 30  # stopped with SIGINT once the probes are done
    background = ingest_wrk.start(wr.server.base_url, load, seconds)
    result = ProbeResult()
    try:
        time.sleep(1.0)  # let the background reach its rate
        headers = {"Authorization": f"Bearer {wr.token}"}
        with httpx.Client(base_url=wr.server.base_url, headers=headers, timeout=TIMEOUT) as client:
            _paced(client, wr.keys.probe, probes, per_second, result)
    except BaseException:
        ingest_wrk.kill(background)
        raise
    result.background = ingest_wrk.finish(background, load, interrupt=True)
    return result


def _paced(
    client: httpx.Client, key: str, probes: int, per_second: float, result: ProbeResult
) -> None:
    interval = 1.0 / per_second
    next_at = time.perf_counter()
    for n in range(probes):
        probe_once(client, key, n, result)
        next_at += interval
        time.sleep(max(0.0, next_at - time.perf_counter()))
