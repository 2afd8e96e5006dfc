"""What the status page benchmark measured, as a table and as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bench.statuspage_probe import Answer, Visibility
from bench.statuspage_wrk import WrkResult

TARGET_RATIO = 0.5
TARGET_VISIBLE_S = 1.0
EXPECTED = {"plain": (200, ""), "gzip": (200, "gzip"), "conditional": (304, "")}


@dataclass
class Cell:
    """One wrk run: a server, a path, a variant of the request."""

    server: str
    path: str
    variant: str
    headers: dict[str, str]
    check: Answer
    result: WrkResult
    load_before: float
    busy_before: float  # % of a core the machine used just before, nothing here loaded

    @property
    def problems(self) -> list[str]:
        """What makes the figure suspect: errors, or not the answer the variant is about."""
        found = []
        status, encoding = EXPECTED[self.variant]
        if self.check.status != status or self.check.encoding != encoding:
            found.append(f"answered {self.check.status} {self.check.encoding or 'identity'}")
        if self.result.failures:
            r = self.result
            found.append(f"{r.non_2xx_3xx} non-2xx/3xx, {r.socket_errors} socket errors")
        codes = set(self.result.statuses) - {str(status)}
        if codes:
            found.append(f"statuses {self.result.statuses}")
        return found

    def as_dict(self) -> dict[str, Any]:
        check = {k: v for k, v in asdict(self.check).items() if k != "body"}
        return {
            "server": self.server,
            "path": self.path,
            "variant": self.variant,
            "headers": self.headers,
            "check": check,
            "load_average_before": self.load_before,
            "machine_busy_before_pct": self.busy_before,
            "problems": self.problems,
            **self.result.as_dict(),
        }


@dataclass
class Results:
    plan: dict[str, Any] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    page: dict[str, Any] = field(default_factory=dict)
    cells: list[Cell] = field(default_factory=list)
    probe: Visibility | None = None
    probe_run: WrkResult | None = None
    memory: dict[str, dict[str, float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def cell(self, server: str, path: str, variant: str) -> Cell | None:
        wanted = (server, path, variant)
        return next((c for c in self.cells if (c.server, c.path, c.variant) == wanted), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "machine": self.machine,
            "page": self.page,
            "cells": [c.as_dict() for c in self.cells],
            "ratios": ratios(self),
            "post_to_visible": self.probe.as_dict() if self.probe else None,
            "load_during_post": self.probe_run.as_dict() if self.probe_run else None,
            "memory_mb": self.memory,
            "errors": self.errors,
        }


def ratios(results: Results) -> dict[str, float]:
    """warroom's requests/s over nginx's, for each path and variant measured on both."""
    found = {}
    for cell in results.cells:
        if cell.server != "nginx":
            continue
        other = results.cell("warroom", cell.path, cell.variant)
        if other is not None and cell.result.rps:
            found[f"{cell.path} {cell.variant}"] = other.result.rps / cell.result.rps
    return found


def _side(cell: Cell | None) -> str:
    if cell is None:
        return f"{'-':>9} {'':>7} {'':>7} {'':>5}"
    r = cell.result
    return f"{r.rps:>9,.0f} {r.p99_ms:>7.1f} {r.bytes_per_response:>7,.0f} {r.server_cpu_pct:>5.0f}"


def table_lines(results: Results) -> list[str]:
    plan = results.plan
    head = f"{'req/s':>9} {'p99 ms':>7} {'bytes':>7} {'CPU%':>5}"
    lines = [
        "",
        f"wrk -t{plan.get('threads')} -c{plan.get('connections')} -d{plan.get('seconds')}s; "
        "conditional = gzip + If-None-Match; bytes = headers + body per response as wrk read "
        "them; CPU% = the server's, of one core",
        f"{'path':<29}{'variant':<12}{'nginx':<33}  {'warroom':<33} {'ratio':>6}  target",
        f"{'':<41}{head}  {head}",
    ]
    keys = dict.fromkeys((c.path, c.variant) for c in results.cells)
    for path, variant in keys:
        nginx, warroom = (results.cell(s, path, variant) for s in ("nginx", "warroom"))
        ratio = warroom.result.rps / nginx.result.rps if nginx and warroom else 0.0
        verdict = "ok" if ratio >= TARGET_RATIO else "below"
        lines.append(
            f"{path:<29}{variant:<12}{_side(nginx)}  {_side(warroom)} {ratio:>6.2f}  "
            f"≥ {TARGET_RATIO:.2f} {verdict}"
        )
    lines += _problem_lines(results)
    noise = [c.result.other_cpu_pct for c in results.cells]
    if noise:
        lines.append(
            f"CPU used by neither the server nor wrk during the runs (noise): up to "
            f"{max(noise):.0f}% of a core, median {sorted(noise)[len(noise) // 2]:.0f}%"
        )
    return lines


def _problem_lines(results: Results) -> list[str]:
    lines = []
    for cell in results.cells:
        for problem in cell.problems:
            lines.append(f"  ! {cell.server} {cell.path} {cell.variant}: {problem}")
    return lines


def other_lines(results: Results) -> list[str]:
    page = results.page
    lines = [
        "",
        f"page: {page.get('components')} components, {page.get('past_incidents')} past "
        "incidents; bodies as served:",
    ]
    for where, sizes in page.get("body_bytes", {}).items():
        lines.append(f"  {where:<40} " + ", ".join(f"{n:,} B {v}" for v, n in sizes.items()))
    for name, mem in results.memory.items():
        lines.append(
            f"{name} RSS {mem['rss_mb']:.0f} MB (peak {mem['peak_mb']:.0f} MB, "
            f"PSS {mem['pss_mb']:.0f} MB, {mem['processes']:.0f} processes)"
        )
    lines += _probe_lines(results)
    lines += [f"error: {e}" for e in results.errors]
    return lines


def _probe_lines(results: Results) -> list[str]:
    probe, run = results.probe, results.probe_run
    if probe is None:
        return ["status post during load: not measured"]
    if probe.visible_s is None:
        return [f"status post during load: {probe.error} (POST took {probe.post_ms:.0f} ms)"]
    verdict = "ok" if probe.visible_s <= TARGET_VISIBLE_S else "over"
    lines = [
        f"status post during load: visible {probe.visible_s:.2f} s after the POST's 2xx "
        f"(target ≤ {TARGET_VISIBLE_S:.0f} s: {verdict}); every poll after "
        f"{max(probe.last_miss_s, probe.visible_s):.2f} s; POST {probe.post_ms:.0f} ms; "
        f"{probe.polls} polls, p50 {probe.poll_p50_ms:.1f} ms; "
        f"{probe.misses_after_seen} misses after the first sighting"
    ]
    if run is not None:
        lines.append(
            f"  the load meanwhile: {run.rps:,.0f} req/s, p99 {run.p99_ms:.1f} ms, "
            f"{run.failures} errors"
        )
    return lines
