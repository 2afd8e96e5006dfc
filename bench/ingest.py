"""Ingest benchmark: warroom against Debian's Alertmanager, same shapes, one run.

Load comes from Debian's wrk (-t1 -c32) with Lua scripts that vary every body
(bench/ingest_lua/). In order:
1. Alertmanager 0.25 with a receiver that sends nothing: single alerts per POST
   (1 in 10 a duplicate), then POSTs of 100 distinct alerts, a fresh process
   for each; then, with a webhook receiver notifying a do-nothing sink, its
   memory holding N open alerts and its CPU while idle afterwards.
2. warroom on each backend, each workers count, on a fresh database (the demo
   organisation, no escalation policy): PagerDuty v2 single events (1 in 10 a
   duplicate dedup key) and Alertmanager webhooks of 100 distinct alerts.
   Then, with the fewest workers that took webhooks within 5% of the fastest
   and a fresh database: memory with N open alerts and idle CPU, and the time from an
   alert POST to its incident visible through the API while wrk sends a
   steady background of alerts.
Ratios and targets are printed at the end; the exit status is 0 whatever the
figures (1 only if a step failed to run).

    .venv/bin/python bench/ingest.py                    # both backends, 10 s runs
    .venv/bin/python bench/ingest.py --quick --backend sqlite
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (
    ingest_am,
    ingest_footprint,
    ingest_probe,
    ingest_report,
    ingest_source,
    ingest_warroom,
)
from bench import server as server_mod
from bench.ingest_report import SHAPES, BackendRun, Results
from bench.ingest_wrk import Load, WrkResult, run

BACKENDS = ("sqlite", "postgresql")
BATCH = 100  # alerts per webhook / per Alertmanager API POST


@dataclass(frozen=True)
class Plan:
    seconds: float
    warmup: float
    alerts: int
    idle: float
    probes: int
    probe_rate: float
    background: int
    workers: tuple[int, ...]
    connections: int
    fill_timeout: float


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s runs, 10,000 open alerts")
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    parser.add_argument("--workers", default="1,2", help="warroom server processes to try")
    parser.add_argument("--seconds", type=float, default=None, help="per wrk run")
    parser.add_argument("--alerts", type=int, default=None, help="open alerts for memory")
    parser.add_argument("--probes", type=int, default=None, help="alert→incident probes")
    parser.add_argument("--background", type=int, default=500, help="alerts/s during probes")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--fill-timeout", type=float, default=None, help="s to load --alerts")
    parser.add_argument("--json-out", type=Path, default=None)
    parser.add_argument(
        "--no-snapshot", action="store_true", help="import the live src/, not a copy made at start"
    )
    return parser.parse_args(argv)


def plan_of(args: argparse.Namespace) -> Plan:
    quick = args.quick
    return Plan(
        seconds=args.seconds or (3.0 if quick else 10.0),
        warmup=1.0,
        alerts=args.alerts or (10_000 if quick else 100_000),
        idle=5.0 if quick else 10.0,
        probes=args.probes or (50 if quick else 200),
        probe_rate=10.0,
        background=args.background,
        workers=tuple(int(w) for w in args.workers.split(",")),
        connections=args.connections,
        fill_timeout=args.fill_timeout or (60.0 if quick else 180.0),
    )


def say(message: str) -> None:
    print(message, flush=True)


def measured(url: str, load: Load, plan: Plan, pids: Callable[[], list[int]]) -> WrkResult:
    """A warm-up run (same shape, not kept), then the measured run with the CPU it took."""
    warm = Load(load.script, load.env | {"RUN": "warm"}, load.alerts_per_request, load.connections)
    run(url, warm, plan.warmup)
    ingest_footprint.quiet(pids)  # the warm-up's abandoned requests must not count
    server_before = ingest_footprint.cpu_of(pids)
    machine_before = server_mod.machine_cpu_seconds()
    wrk_before = _children_cpu()
    result = run(url, load, plan.seconds)
    wrk = _children_cpu() - wrk_before  # wrk is the only child that ends meanwhile
    server = ingest_footprint.cpu_of(pids) - server_before
    machine = server_mod.machine_cpu_seconds() - machine_before
    return replace(
        result,
        server_cpu_pct=server / result.seconds * 100,
        machine_cpu_pct=machine / result.seconds * 100,
        wrk_cpu_pct=wrk / result.seconds * 100,
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def am_load(shape: str, tag: str, plan: Plan, limit: int = 0) -> Load:
    size = 1 if shape == "single" else BATCH
    env = {"SIZE": str(size), "RUN": tag, "LIMIT": str(limit)}
    return Load("alertmanager_api.lua", env, size, plan.connections)


def warroom_load(
    shape: str, keys: ingest_warroom.Keys, tag: str, plan: Plan, limit: int = 0
) -> Load:
    if shape == "single":
        return Load("pagerduty.lua", {"KEY": keys.pagerduty, "RUN": tag}, 1, plan.connections)
    env = {"KEY": keys.alertmanager, "SIZE": str(BATCH), "RUN": tag, "LIMIT": str(limit)}
    return Load("warroom_webhook.lua", env, BATCH, plan.connections)


def _show(label: str, result: WrkResult) -> None:
    failed = f"; {result.non_2xx} non-2xx, {result.socket_errors} socket errors" * bool(
        result.failures
    )
    say(
        f"  {label}: {result.rps:,.0f} req/s, {result.alerts_per_s:,.0f} alerts/s, "
        f"p99 {result.p99_ms:.1f} ms{failed}"
    )


def run_alertmanager(workdir: Path, plan: Plan, results: Results) -> None:
    results.am_version = ingest_am.version()
    say(f"[alertmanager] {results.am_version}")
    for shape in SHAPES:
        with ingest_am.running(workdir / shape.key, ingest_am.ACCEPT_CONFIG) as am:
            load = am_load(shape.key, "m", plan)
            result = measured(am.base_url, load, plan, partial(list, [am.process.pid]))
        results.am_runs[shape.key] = result
        _show(f"[alertmanager] {shape.key}", result)
    results.am_footprint = am_footprint(workdir / "footprint", plan)


def am_footprint(workdir: Path, plan: Plan) -> ingest_footprint.Footprint:
    say(f"[alertmanager] loading {plan.alerts:,} alerts (webhook receiver) ...")
    with ingest_am.sink() as sink:
        config = ingest_am.WEBHOOK_CONFIG.format(port=sink.port)
        with ingest_am.running(workdir, config) as am:

            def alive() -> None:
                if am.process.poll() is not None:
                    raise RuntimeError("alertmanager exited while loading")

            def count() -> int:
                return sum(ingest_am.alert_counts(am).values())

            filled = ingest_footprint.fill(
                am.base_url,
                am_load("batch", "fill", plan, limit=plan.alerts // BATCH),
                count,
                plan.alerts,
                timeout=plan.fill_timeout,
                alive=alive,
            )
            others = {"webhook sink": lambda: [sink.process.pid]}
            fp = ingest_footprint.measure(am.process.pid, filled, plan.idle, others, count)
            fp.notes["webhook notifications sent"] = ingest_am.notifications(am)
    return fp


def run_backend(backend: str, workdir: Path, plan: Plan, result: BackendRun) -> None:
    """Shapes with each workers count (one failing does not stop the others), then the rest."""
    for workers in plan.workers:
        try:
            run_shapes(backend, workdir, workers, plan, result)
        except Exception as error:
            result.errors.append(f"workers={workers}: {_failed(error)}")
    result.footprint_workers = result.deployed("batch") or plan.workers[0]
    workers = result.footprint_workers
    pg_name = f"bench_ingest_{os.getpid()}_fp"
    with ingest_warroom.serving(backend, workdir / "fp", workers, pg_name) as wr:
        result.footprint = warroom_footprint(wr, plan)
        say(f"[{backend} w{workers}] probing alert → incident visible ...")
        result.probe = ingest_probe.measure(
            wr, probes=plan.probes, per_second=plan.probe_rate, background_rate=plan.background
        )
        wr.alive("the latency probe")


def run_shapes(backend: str, workdir: Path, workers: int, plan: Plan, result: BackendRun) -> None:
    tag = f"w{workers}"
    pg_name = f"bench_ingest_{os.getpid()}_{tag}"
    with ingest_warroom.serving(backend, workdir / tag, workers, pg_name) as wr:
        say(f"[{backend} {tag}] serve ready in {wr.server.ready_seconds:.1f} s")
        result.runs[workers] = {}
        for shape in SHAPES:
            load = warroom_load(shape.key, wr.keys, "m", plan)
            outcome = measured(wr.server.base_url, load, plan, wr.pids)
            wr.alive(shape.key)
            result.runs[workers][shape.key] = outcome
            _show(f"[{backend} {tag}] {shape.key}", outcome)


def warroom_footprint(wr: ingest_warroom.Warroom, plan: Plan) -> ingest_footprint.Footprint:
    say(f"[{wr.backend} w{wr.workers}] loading {plan.alerts:,} alerts ...")

    def count() -> int:
        return ingest_warroom.open_alerts(wr.url)

    filled = ingest_footprint.fill(
        wr.server.base_url,
        warroom_load("batch", wr.keys, "fill", plan, limit=plan.alerts // BATCH),
        count,
        plan.alerts,
        timeout=plan.fill_timeout,
        alive=lambda: wr.alive("loading"),
    )
    others = {}
    if wr.backend == "postgresql":
        others["database"] = lambda: ingest_warroom.database_pids(wr.url)
    return ingest_footprint.measure(wr.pid, filled, plan.idle, others, count)


def _failed(error: Exception) -> str:
    """Print the whole traceback now; keep one line for the report."""
    say(traceback.format_exc())
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def _interruptible() -> None:
    """SIGTERM and SIGINT unwind, stopping every process started on the way."""

    def handler(_signum: int, _frame: Any) -> NoReturn:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run_all(plan: Plan, backends: tuple[str, ...], results: Results, *, snapshot: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="warroom-ingest-") as tmp:
        if snapshot:
            ingest_source.snapshot(Path(tmp))
        say(f"measuring {results.source}, imported from {ingest_source.imported_from()}")
        try:
            run_alertmanager(Path(tmp) / "alertmanager", plan, results)
        except Exception as error:
            results.errors.append(f"alertmanager: {_failed(error)}")
        for backend in backends:
            result = BackendRun(backend)
            results.backends.append(result)
            try:
                run_backend(backend, Path(tmp) / backend, plan, result)
            except Exception as error:
                result.errors.append(_failed(error))


def report(results: Results, plan: Plan) -> None:
    lines = [
        *ingest_report.throughput_lines(results, plan.seconds, plan.connections),
        *ingest_report.footprint_lines(results, plan.alerts),
        *ingest_report.probe_lines(results),
        *ingest_report.target_lines(results, plan.alerts, plan.background),
    ]
    say("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = plan_of(args)
    _interruptible()
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    cpus = len(os.sched_getaffinity(0))
    say(f"{cpus} CPU(s); load average {os.getloadavg()[0]:.2f}; plan: {plan}")
    started, results, interrupted = time.perf_counter(), Results(), False
    results.source = ingest_source.describe()
    try:
        run_all(plan, backends, results, snapshot=not args.no_snapshot)
    except KeyboardInterrupt:
        interrupted = True
        say("interrupted: every process started was stopped")
    report(results, plan)
    say(f"\ntotal {time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.2f}")
    if args.json_out:
        payload = {"plan": vars(plan), "cpus": cpus, **results.as_dict()}
        args.json_out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    if interrupted:
        return 130
    failed = results.errors or any(b.errors for b in results.backends)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
