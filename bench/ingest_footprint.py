"""Memory and idle CPU of a server holding N open alerts, loaded with wrk.

wrk posts batches of distinct alerts (the Lua scripts wrap around after
``LIMIT`` batches, so the count is exact) until the server reports holding
them all; wrk is stopped then. After a short settle, the resident memory of
the server's process tree is read and its CPU use is sampled over an idle
window (no requests at all).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench import ingest_wrk
from bench import server as server_mod

POLL_SECONDS = 0.25
SETTLE_SECONDS = 2.0


@dataclass
class Footprint:
    """What a server used with ``open_alerts`` alerts in it."""

    open_alerts: int
    load: ingest_wrk.WrkResult
    load_seconds: float
    rss_mb: float  # VmRSS summed over the process tree, the larger of before/after idle
    pss_mb: float
    peak_mb: float  # VmHWM summed: the peak while loading
    processes: int
    idle_seconds: float
    idle_cpu_pct: float  # of one core, over the idle window
    others_cpu_pct: dict[str, float] = field(default_factory=dict)  # database, sink
    notes: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        values = dict(vars(self))
        values["load"] = self.load.as_dict()
        return values


def fill(
    url: str,
    load: ingest_wrk.Load,
    count: Callable[[], int],
    target: int,
    *,
    timeout: float,
    alive: Callable[[], None],
) -> tuple[ingest_wrk.WrkResult, int, float]:
    """Run ``load`` until ``count()`` reaches ``target``; returns wrk's result, count, seconds."""
    started = time.perf_counter()
    process = ingest_wrk.start(url, load, timeout + 30)
    held = 0
    try:
        while time.perf_counter() - started < timeout:
            time.sleep(POLL_SECONDS)
            alive()
            try:
                held = count()
            except httpx.TimeoutException:
                continue  # a server too busy to count: ask again
            if held >= target:
                break
    except BaseException:
        ingest_wrk.kill(process)
        raise
    seconds = time.perf_counter() - started
    return ingest_wrk.finish(process, load, interrupt=True), held, seconds


def cpu_of(pids: Callable[[], list[int]]) -> float:
    """CPU seconds used so far by the given processes (and their children)."""
    return sum(server_mod.cpu_seconds(pid) for pid in pids())


def quiet(
    pids: Callable[[], list[int]], *, below_pct: float = 15.0, timeout: float = 20.0
) -> float:
    """Wait until the processes use less than ``below_pct`` of a core; returns seconds waited.

    A stopped wrk leaves requests behind that the server still works through.
    """
    started = time.perf_counter()
    last = cpu_of(pids)
    while time.perf_counter() - started < timeout:
        time.sleep(POLL_SECONDS)
        now = cpu_of(pids)
        if (now - last) / POLL_SECONDS * 100 < below_pct:
            break
        last = now
    return time.perf_counter() - started


def idle(
    pid: int, seconds: float, others: dict[str, Callable[[], list[int]]]
) -> tuple[float, dict[str, float]]:
    """CPU % of one core used by ``pid``'s tree, and by ``others``, over ``seconds`` idle."""
    time.sleep(SETTLE_SECONDS)
    before = server_mod.cpu_seconds(pid)
    others_before = {name: cpu_of(pids) for name, pids in others.items()}
    started = time.perf_counter()
    time.sleep(seconds)
    wall = time.perf_counter() - started
    used = server_mod.cpu_seconds(pid) - before
    others_used = {name: cpu_of(pids) - others_before[name] for name, pids in others.items()}
    return used / wall * 100, {name: v / wall * 100 for name, v in others_used.items()}


def measure(
    pid: int,
    filled: tuple[ingest_wrk.WrkResult, int, float],
    idle_seconds: float,
    others: dict[str, Callable[[], list[int]]],
    count: Callable[[], int],
) -> Footprint:
    """Memory right after loading and after the idle window; CPU during that window.

    The alerts held are counted again after the window (a server's own count may
    lag or overshoot while alerts are still being processed).
    """
    load, _, load_seconds = filled
    loaded = server_mod.memory(pid)
    cpu_pct, others_pct = idle(pid, idle_seconds, others)
    after = server_mod.memory(pid)
    return Footprint(
        open_alerts=count(),
        load=load,
        load_seconds=load_seconds,
        rss_mb=max(loaded.rss_mb, after.rss_mb),
        pss_mb=max(loaded.pss_mb, after.pss_mb),
        peak_mb=after.peak_mb,
        processes=after.processes,
        idle_seconds=idle_seconds,
        idle_cpu_pct=cpu_pct,
        others_cpu_pct=others_pct,
    )
