"""API benchmark: latency, startup and memory of `warroom serve` on a large history.

For each backend: a fresh database, migrated, filled in bulk with 100,000
incidents and 1,000,000 timeline entries; then `warroom serve` is started
(timed until /readyz answers), the hot calls are measured through HTTP
(one keep-alive client, then several concurrent ones) and the server's memory
is read from /proc. Figures are printed beside the targets of the issue; the
exit status is 0 whatever they are (this is a measurement, not a test).

    .venv/bin/python bench/api.py                      # both backends, full size
    .venv/bin/python bench/api.py --backend sqlite --incidents 10000 --json-out b.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, NoReturn

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import api_report, data, explain, load, seed, server

BACKENDS = ("sqlite", "postgresql")
SLOW_QUERY_MS = 2.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--backend", choices=(*BACKENDS, "all"), default="all")
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--entries-per-incident", type=int, default=10)
    parser.add_argument("--requests", type=int, default=500, help="per call, sequential")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured calls first")
    parser.add_argument("--threads", type=int, default=8, help="concurrent clients")
    parser.add_argument("--concurrent-seconds", type=float, default=5.0, help="per call")
    parser.add_argument("--starts", type=int, default=3, help="server starts to time")
    parser.add_argument("--workers", type=int, default=None, help="WARROOM_WORKERS")
    parser.add_argument("--pg-server", default=seed.PG_SERVER, help="PostgreSQL, no database")
    parser.add_argument("--pg-database", default=seed.PG_BENCH_DATABASE, help="created, dropped")
    parser.add_argument("--explain", action="store_true", help="print every query plan")
    parser.add_argument("--json-out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=data.Shape.seed)
    return parser.parse_args(argv)


def say(message: str) -> None:
    print(message, flush=True)


def generate(
    backend: str, url: str, args: argparse.Namespace, figures: dict[str, Any]
) -> seed.Seeded:
    """Migrate and fill the database; records the timings in ``figures``."""
    started = time.perf_counter()
    seed.upgrade(url)
    migrate_s = time.perf_counter() - started
    shape = data.Shape(
        incidents=args.incidents, entries_per_incident=args.entries_per_incident, seed=args.seed
    )
    say(f"[{backend}] generating {shape.incidents:,} incidents ...")
    seeded = seed.populate(backend, url, shape)
    figures["data"] = {
        "incidents": seeded.incidents,
        "timeline_entries": seeded.entries,
        "migrate_s": migrate_s,
        "generation_s": seeded.seconds,
    }
    say(f"[{backend}] generated in {seeded.seconds['total']:.1f} s {_rounded(seeded.seconds)}")
    return seeded


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 2) for k, v in values.items()}


def query_plans(
    url: str, seeded: seed.Seeded, args: argparse.Namespace
) -> tuple[list[dict[str, Any]], list[str]]:
    """The hot reads' SQL timed alone, with plans (as JSON, and as lines to print)."""
    ops = explain.operations(seeded.token, seeded.service_slugs[0], seeded.incidents // 2)
    plans = explain.collect(url, ops)
    lines = explain.render(plans, all_plans=args.explain, slow_ms=SLOW_QUERY_MS)
    return [p.as_dict() for p in plans], lines


def time_starts(url: str, var_dir: Path, args: argparse.Namespace) -> list[float]:
    """Start and stop the server ``--starts`` - 1 times; the last start is kept for load."""
    times = []
    for _ in range(max(args.starts, 1) - 1):
        started = server.start(url, var_dir, workers=args.workers)
        times.append(started.ready_seconds)
        server.stop(started)
    return times


def measure(
    srv: server.Server, seeded: seed.Seeded, args: argparse.Namespace, figures: dict[str, Any]
) -> None:
    """Sequential then concurrent runs of each scenario, and the memory they left."""
    pid = srv.process.pid
    idle = server.memory(pid)
    cpu = _cpu_snapshot(pid)
    sequential, concurrent = {}, {}
    with load.client(srv.base_url, seeded.token) as http:
        for n, scenario in enumerate(load.scenarios(seeded)):
            result = load.sequential(
                scenario, http, pid, requests=args.requests, warmup=args.warmup, seed=n
            )
            sequential[scenario.key] = result.summary()
            _check_alive(srv, scenario.key)
    for scenario in load.scenarios(seeded):
        result = load.concurrent(
            scenario,
            srv.base_url,
            seeded.token,
            pid,
            threads=args.threads,
            seconds=args.concurrent_seconds,
        )
        concurrent[scenario.key] = result.summary()
        _check_alive(srv, scenario.key)
    after = server.memory(pid)
    figures["cpu"] = _cpu_used(cpu, _cpu_snapshot(pid))
    figures["sequential"], figures["concurrent"] = sequential, concurrent
    figures["memory"] = {
        "idle_rss_mb": idle.rss_mb,
        "idle_peak_mb": idle.peak_mb,
        "rss_mb": after.rss_mb,
        "peak_mb": after.peak_mb,
        "pss_mb": after.pss_mb,
        "processes": after.processes,
    }


def _check_alive(srv: server.Server, during: str) -> None:
    code = srv.process.poll()
    if code is not None:
        tail = server.log_tail(srv)
        raise RuntimeError(f"warroom serve exited with status {code} during {during}:\n{tail}")


def _cpu_snapshot(pid: int) -> dict[str, float]:
    return {
        "wall": time.perf_counter(),
        "machine": server.machine_cpu_seconds(),
        "server": server.cpu_seconds(pid),
        "client": time.process_time(),
        "loadavg": os.getloadavg()[0],
    }


def _cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Where the machine's CPU went while measuring: a busy neighbour skews figures."""
    used = {k: after[k] - before[k] for k in ("wall", "machine", "server", "client")}
    return {
        "wall_s": used["wall"],
        "server_s": used["server"],
        "client_s": used["client"],
        "other_s": used["machine"] - used["server"] - used["client"],
        "capacity_s": used["wall"] * _cpus(),
        "loadavg_before": before["loadavg"],
    }


def run_backend(backend: str, args: argparse.Namespace, figures: dict[str, Any]) -> None:
    """Everything for one backend, into ``figures``; the database and temp dir are removed."""
    prefix = f"warroom-bench-{backend}-"
    with (
        tempfile.TemporaryDirectory(prefix=prefix) as tmp,
        seed.fresh_database(backend, Path(tmp), args.pg_server, args.pg_database) as url,
    ):
        var_dir = Path(tmp) / "var"
        var_dir.mkdir()
        seeded = generate(backend, url, args, figures)
        figures["queries"], plan_lines = query_plans(url, seeded, args)
        say(f"[{backend}] queries alone (median of {explain.TIMING_RUNS}):")
        say("\n".join(plan_lines))
        ready = time_starts(url, var_dir, args)
        with server.running(url, var_dir, workers=args.workers) as srv:
            ready.append(srv.ready_seconds)
            figures["serve"] = {
                "ready_s": ready,
                "ready_max_s": max(ready),
                "ready_first_s": ready[0],
            }
            say(f"[{backend}] serve ready in {', '.join(f'{s:.2f}' for s in ready)} s; measuring")
            measure(srv, seeded, args, figures)


def _interruptible() -> None:
    """SIGTERM and SIGINT (even if the parent ignored it) unwind, cleaning up on the way."""

    def handler(_signum: int, _frame: Any) -> NoReturn:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _interruptible()
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    source = _source_state()
    say(f"warroom {source}; {_cpus()} CPU(s); load average {os.getloadavg()[0]:.2f}")
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    interrupted = False
    for backend in backends:
        figures: dict[str, Any] = {"backend": backend}
        results.append(figures)
        try:
            run_backend(backend, args, figures)
        except KeyboardInterrupt:
            say(f"[{backend}] interrupted; cleaned up")
            figures["error"] = "interrupted"
            interrupted = True
            break
        except Exception as error:
            traceback.print_exc()
            figures["error"] = f"{type(error).__name__}: {error}"
        say("\n".join(api_report.detail_lines(figures) + api_report.serve_lines(figures)))
    duration = time.perf_counter() - started
    say("\n".join(api_report.target_lines(results, args.threads)))
    say(f"\nbenchmark took {duration:.0f} s on {_cpus()} CPU(s)")
    if args.json_out:
        payload = {
            "duration_s": duration,
            "cpus": _cpus(),
            "source": source,
            "args": _args_json(args),
            "targets": {
                "p95_ms": api_report.P95_TARGET_MS,
                "ready_s": api_report.READY_TARGET_S,
                "rss_mb": api_report.RSS_TARGET_MB,
            },
            "results": results,
        }
        args.json_out.write_text(json.dumps(_json_safe(payload), indent=2) + "\n")
        say(f"results written to {args.json_out}")
    return 130 if interrupted else 0


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


def _source_state() -> str:
    """The commit measured, and whether the working tree differs from it."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "src"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head}{' with uncommitted changes in src/' if dirty else ''}"


def _args_json(args: argparse.Namespace) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}


if __name__ == "__main__":
    sys.exit(main())
