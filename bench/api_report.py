"""The printed report: details per backend, then every target side by side."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

P95_TARGET_MS = 20.0
READY_TARGET_S = 2.0
RSS_TARGET_MB = 150.0
BUSY_WARNING = 0.10  # share of all CPUs used by other processes while measuring

Figures = dict[str, Any]


def verdict(value: float | None, target: float) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return "PASS" if value <= target else f"OVER x{value / target:.1f}"


def _ms(value: float) -> str:
    return f"{'-':>7}" if math.isnan(value) else f"{value:7.1f}"


def detail_lines(figures: Figures) -> list[str]:
    """Latency, throughput and server CPU of each scenario on one backend."""
    data = figures.get("data")
    if data is None:
        return ["", f"== {figures['backend']}: no data generated"]
    gen = data["generation_s"]
    lines = [
        "",
        f"== {figures['backend']}: {data['incidents']:,} incidents, "
        f"{data['timeline_entries']:,} timeline entries; generated in {gen['total']:.1f} s "
        f"(incidents {gen['incidents']:.1f} s, timeline {gen['timeline']:.1f} s, "
        f"analyze {gen['analyze']:.1f} s; migrate {data['migrate_s']:.1f} s)",
        f"{'':34}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'max ms':>8}{'req/s':>8}"
        f"{'CPU ms/req':>11}{'errors':>7}  p95 vs {P95_TARGET_MS:.0f} ms",
    ]
    for mode in ("sequential", "concurrent"):
        runs = figures.get(mode, {})
        if not runs:
            continue
        first = next(iter(runs.values()))
        lines.append(f" {mode} ({first['threads']} client{'s' * (first['threads'] > 1)})")
        for run in runs.values():
            lines.append(
                f"  {run['label']:32}{_ms(run['p50_ms'])} {_ms(run['p95_ms'])} "
                f"{_ms(run['p99_ms'])} {_ms(run['max_ms'])} {run['throughput_rps']:7.0f} "
                f"{run['server_cpu_ms_per_request']:10.2f} {run['errors']:6d}  "
                f"{verdict(run['p95_ms'], P95_TARGET_MS)}"
            )
            if run["first_error"]:
                lines.append(f"      first error: {run['first_error']}")
    return lines


def _p95(mode: str, key: str) -> Callable[[Figures], float | None]:
    def get(figures: Figures) -> float | None:
        run = figures.get(mode, {}).get(key)
        return None if run is None else float(run["p95_ms"])

    return get


def _get(*path: str) -> Callable[[Figures], float | None]:
    def get(figures: Figures) -> float | None:
        value: Any = figures
        for part in path:
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return float(value)

    return get


def target_rows(threads: int) -> list[tuple[str, str, float, str, Callable[[Figures], Any]]]:
    """(label, unit, target, format, getter) of each figure the issue sets a target for."""
    rows: list[tuple[str, str, float, str, Callable[[Figures], Any]]] = []
    labels = {
        "list_open_sev1": "list ?open&severity=1",
        "list_service": "list ?service&limit=50",
        "show_timeline": "show ?timeline=true",
        "declare": "declare (POST)",
    }
    for mode, who in (("sequential", "1 client"), ("concurrent", f"{threads} clients")):
        for key, label in labels.items():
            rows.append((f"{label} p95, {who}", "ms", P95_TARGET_MS, "{:.1f}", _p95(mode, key)))
    rows += [
        ("serve ready (worst start)", "s", READY_TARGET_S, "{:.2f}", _get("serve", "ready_max_s")),
        (
            "serve ready (first start)",
            "s",
            READY_TARGET_S,
            "{:.2f}",
            _get("serve", "ready_first_s"),
        ),
        ("server RSS after load", "MB", RSS_TARGET_MB, "{:.0f}", _get("memory", "rss_mb")),
        ("server peak RSS (VmHWM)", "MB", RSS_TARGET_MB, "{:.0f}", _get("memory", "peak_mb")),
    ]
    return rows


def target_lines(results: list[Figures], threads: int) -> list[str]:
    """Every target, one column per backend, PASS or how far over."""
    names = [r["backend"] for r in results]
    lines = ["", f"{'figure':40}{'target':>10}" + "".join(f"{n:>24}" for n in names)]
    for label, unit, target, fmt, get in target_rows(threads):
        cells = []
        for figures in results:
            value = get(figures)
            missing = value is None or math.isnan(value)
            shown = "-" if missing else f"{fmt.format(value)} {unit} {verdict(value, target)}"
            cells.append(f"{shown:>24}")
        lines.append(f"{label:40}{'≤ ' + format(target, 'g') + ' ' + unit:>10}" + "".join(cells))
    for figures in results:
        if "error" in figures:
            lines.append(f"{figures['backend']}: FAILED: {figures['error'].splitlines()[0]}")
    return lines


def serve_lines(figures: Figures) -> list[str]:
    """Startup, memory and where the CPU went while measuring."""
    serve, memory, cpu = figures.get("serve"), figures.get("memory"), figures.get("cpu")
    if serve is None or memory is None or cpu is None:
        return []
    starts = ", ".join(f"{s:.2f}" for s in serve["ready_s"])
    lines = [
        f" serve ready: {starts} s (spawn to first 200 from /readyz)",
        f" server memory: idle {memory['idle_rss_mb']:.0f} MB (peak so far "
        f"{memory['idle_peak_mb']:.0f} MB), after load "
        f"{memory['rss_mb']:.0f} MB (PSS {memory['pss_mb']:.0f} MB), peak "
        f"{memory['peak_mb']:.0f} MB ({memory['processes']} process(es), VmRSS/VmHWM summed)",
        f" CPU while measuring: {cpu['wall_s']:.0f} s x {cpu['capacity_s'] / cpu['wall_s']:.0f} "
        f"CPUs = {cpu['capacity_s']:.0f} CPU-s; server {cpu['server_s']:.0f}, bench client "
        f"{cpu['client_s']:.0f}, everything else {cpu['other_s']:.0f} (PostgreSQL, other "
        f"processes); load average before {cpu['loadavg_before']:.2f}",
    ]
    busy = cpu["other_s"] / cpu["capacity_s"] if cpu["capacity_s"] else 0.0
    if busy > BUSY_WARNING:
        who = " (PostgreSQL included)" if figures["backend"] == "postgresql" else ""
        lines.append(
            f" WARNING: {busy:.0%} of the machine's CPU went to other processes{who} while "
            "measuring; latencies are pessimistic unless that was the database"
        )
    return lines
