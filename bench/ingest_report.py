"""Results of bench/ingest.py and their printed report: runs, then targets side by side."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from bench.ingest_footprint import Footprint
from bench.ingest_probe import ProbeResult
from bench.ingest_wrk import WrkResult

RSS_TARGET_MB = 200.0
NOISE = 0.05  # run-to-run variation of throughput figures
IDLE_CPU_TARGET_PCT = 5.0
VISIBLE_P99_TARGET_MS = 100.0
BUSY_WARNING_PCT = 20.0  # CPU used by neither the server nor wrk, in % of one core


@dataclass(frozen=True)
class Shape:
    key: str
    label: str
    short: str
    target_ratio: float


SHAPES = (
    Shape("single", "PagerDuty v2 single events (1 in 10 a duplicate)", "single events", 1.5),
    Shape("batch", "Alertmanager webhooks of 100 distinct alerts", "webhooks of 100", 2.0),
)


@dataclass
class BackendRun:
    """Everything measured on one warroom backend."""

    backend: str
    runs: dict[int, dict[str, WrkResult]] = field(default_factory=dict)  # workers → shape
    footprint_workers: int | None = None
    footprint: Footprint | None = None
    probe: ProbeResult | None = None
    errors: list[str] = field(default_factory=list)

    def best(self, shape: str) -> tuple[int, WrkResult] | None:
        """The workers count with the most requests/s on ``shape`` (failures allowed)."""
        found = [(w, r[shape]) for w, r in self.runs.items() if shape in r]
        return max(found, key=lambda x: x[1].rps) if found else None

    def deployed(self, shape: str) -> int | None:
        """The workers count to deploy for ``shape``: the fewest within NOISE of the fastest.

        Runs vary by several per cent; a process more (~100 MB) for a difference
        inside that is not what anyone would deploy.
        """
        best = self.best(shape)
        if best is None:
            return None
        close = [
            w
            for w, r in self.runs.items()
            if shape in r and r[shape].rps >= best[1].rps * (1 - NOISE)
        ]
        return min(close)

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "runs": {w: {s: r.as_dict() for s, r in rs.items()} for w, rs in self.runs.items()},
            "footprint_workers": self.footprint_workers,
            "footprint": self.footprint.as_dict() if self.footprint else None,
            "probe": self.probe.as_dict() if self.probe else None,
            "errors": self.errors,
        }


@dataclass
class Results:
    source: str = ""
    am_version: str = ""
    am_runs: dict[str, WrkResult] = field(default_factory=dict)
    am_footprint: Footprint | None = None
    backends: list[BackendRun] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "alertmanager": {
                "version": self.am_version,
                "runs": {s: r.as_dict() for s, r in self.am_runs.items()},
                "footprint": self.am_footprint.as_dict() if self.am_footprint else None,
            },
            "warroom": [b.as_dict() for b in self.backends],
            "errors": self.errors,
        }


def _num(value: float, digits: int = 0) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def _run_line(label: str, run: WrkResult) -> str:
    p50, p99 = (run.p50_ms, run.p99_ms) if run.requests else (math.nan, math.nan)
    return (
        f"  {label:28}{run.rps:>10,.0f}{run.alerts_per_s:>11,.0f}{_num(p50, 1):>8}"
        f"{_num(p99, 1):>9}{run.non_2xx:>9,}{run.socket_errors:>9,}"
        f"{_num(run.server_cpu_pct):>10}%{_num(run.wrk_cpu_pct):>7}%{_num(run.other_cpu_pct):>8}%"
    )


def throughput_lines(results: Results, seconds: float, connections: int) -> list[str]:
    lines = [
        "",
        f"== Throughput: wrk -t1 -c{connections} --latency, {seconds:g} s per run (CPU in % of"
        " one core: the server's processes with its PostgreSQL backends, wrk, and everything"
        " else on the machine)",
        f"  {'server':28}{'req/s':>10}{'alerts/s':>11}{'p50 ms':>8}{'p99 ms':>9}"
        f"{'non-2xx':>9}{'sock err':>9}{'server CPU':>12}{'wrk':>8}{'other':>9}",
    ]
    for shape in SHAPES:
        lines.append(f" {shape.label}")
        if shape.key in results.am_runs:
            lines.append(_run_line("alertmanager (accept only)", results.am_runs[shape.key]))
        for backend in results.backends:
            for workers, runs in sorted(backend.runs.items()):
                if shape.key in runs:
                    label = f"warroom {backend.backend} w{workers}"
                    lines.append(_run_line(label, runs[shape.key]))
    busy = [r.other_cpu_pct for r in _all_runs(results) if not math.isnan(r.other_cpu_pct)]
    if busy and max(busy) > BUSY_WARNING_PCT:
        lines.append(
            f"  WARNING: other processes used up to {max(busy):.0f}% of a core during a run: "
            "the machine was shared, throughput figures are pessimistic and noisy"
        )
    return lines


def _all_runs(results: Results) -> list[WrkResult]:
    runs = list(results.am_runs.values())
    for backend in results.backends:
        runs += [r for by_shape in backend.runs.values() for r in by_shape.values()]
    return runs


def footprint_lines(results: Results, alerts: int) -> list[str]:
    lines = ["", f"== Memory and idle CPU with {alerts:,} open alerts (loaded in webhooks of 100)"]
    rows = []
    if results.am_footprint:
        rows.append(("alertmanager (webhook receiver)", results.am_footprint))
    for backend in results.backends:
        if backend.footprint:
            rows.append(
                (f"warroom {backend.backend} w{backend.footprint_workers}", backend.footprint)
            )
    for label, fp in rows:
        others = ", ".join(f"{k} {v:.1f}%" for k, v in fp.others_cpu_pct.items())
        notes = ", ".join(f"{k} {v:,}" for k, v in fp.notes.items())
        lines.append(
            f"  {label:32} holds {fp.open_alerts:,} (loaded in {fp.load_seconds:.1f} s, "
            f"{fp.load.alerts_per_s:,.0f} alerts/s, {fp.load.failures} failed requests); "
            f"RSS {fp.rss_mb:,.0f} MB (PSS {fp.pss_mb:,.0f}, peak {fp.peak_mb:,.0f}, "
            f"{fp.processes} process(es)); idle CPU {fp.idle_cpu_pct:.1f}% of a core over "
            f"{fp.idle_seconds:g} s"
            + (f"; meanwhile {others}" if others else "")
            + (f"; {notes}" if notes else "")
        )
    return lines


def probe_lines(results: Results) -> list[str]:
    lines = ["", "== Alert POST → incident visible in GET /api/v1/incidents, under background"]
    for backend in results.backends:
        probe = backend.probe
        if probe is None:
            continue
        bg = probe.background
        bg_text = (
            f"background {bg.rps:,.0f} alerts/s achieved ({bg.failures} failed, p99 "
            f"{bg.p99_ms:.1f} ms)"
            if bg
            else "no background result"
        )
        lines.append(
            f"  warroom {backend.backend} w{backend.footprint_workers}: {len(probe.visible_ms)} "
            f"probes, visible p50 {_num(probe.percentile(50), 1)} ms, p99 "
            f"{_num(probe.percentile(99), 1)} ms, max {_num(probe.percentile(100), 1)} ms "
            f"(the POST alone: p50 {_num(probe.percentile(50, probe.post_ms), 1)}, p99 "
            f"{_num(probe.percentile(99, probe.post_ms), 1)} ms; most GETs needed "
            f"{max(probe.polls, default=0)}); {bg_text}"
        )
        lines += [f"    failure: {f}" for f in probe.failures[:5]]
    return lines


def _ratio_cell(results: Results, backend: BackendRun, shape: Shape) -> tuple[str, bool | None]:
    am, best = results.am_runs.get(shape.key), backend.best(shape.key)
    if am is None or best is None or am.rps == 0:
        return "-", None
    workers, run = best
    ratio = run.rps / am.rps
    ok = ratio >= shape.target_ratio and run.failures == 0 and am.failures == 0
    failed = f", {run.failures} failed" if run.failures else ""
    return f"{ratio:.2f} (w{workers}{failed})", ok


def _footprint_cells(backend: BackendRun, alerts: int) -> list[tuple[str, bool | None]]:
    fp = backend.footprint
    if fp is None:
        return [("-", None), ("-", None)]
    if fp.open_alerts < alerts:  # not all loaded in time: the figures are for fewer
        short = f" (only {fp.open_alerts:,})"
        return [(f"{fp.rss_mb:,.0f} MB{short}", False), (f"{fp.idle_cpu_pct:.1f}%{short}", None)]
    return [
        (f"{fp.rss_mb:,.0f} MB", fp.rss_mb <= RSS_TARGET_MB),
        (f"{fp.idle_cpu_pct:.1f}%", fp.idle_cpu_pct < IDLE_CPU_TARGET_PCT),
    ]


def _probe_cell(backend: BackendRun) -> tuple[str, bool | None]:
    probe = backend.probe
    if probe is None or not probe.visible_ms:
        return "-", None
    p99 = probe.percentile(99)
    bg_failed = probe.background.failures if probe.background else 0
    ok = p99 <= VISIBLE_P99_TARGET_MS and not probe.failures and bg_failed == 0
    return f"{p99:.1f} ms", ok


def target_lines(results: Results, alerts: int, background: int) -> list[str]:
    labels = [
        *(f"{s.short} req/s: warroom/AM (best workers)" for s in SHAPES),
        f"RSS with {alerts:,} open alerts",
        "idle CPU afterwards (of one core)",
        f"POST → incident visible p99 ({background}/s bg)",
    ]
    targets = [
        *(f">= {s.target_ratio:g}" for s in SHAPES),
        f"<= {RSS_TARGET_MB:g} MB",
        f"< {IDLE_CPU_TARGET_PCT:g}%",
        f"<= {VISIBLE_P99_TARGET_MS:g} ms",
    ]
    columns = [
        [
            *(_ratio_cell(results, b, s) for s in SHAPES),
            *_footprint_cells(b, alerts),
            _probe_cell(b),
        ]
        for b in results.backends
    ]
    head = f"  {'figure':44}{'target':>10}" + "".join(f"{b.backend:>28}" for b in results.backends)
    lines = ["", "== Targets", head]
    for row, (label, target) in enumerate(zip(labels, targets, strict=True)):
        cells = "".join(f"{_verdict(*column[row]):>28}" for column in columns)
        lines.append(f"  {label:44}{target:>10}{cells}")
    for backend in results.backends:
        lines += [f"  {backend.backend}: ERROR {e}" for e in backend.errors]
    lines += [f"  ERROR {e}" for e in results.errors]
    return lines


def _verdict(text: str, ok: bool | None) -> str:
    return text if ok is None else f"{text} {'PASS' if ok else 'FAIL'}"
