"""Benchmark the program report: a 90-day report over 100,000 incidents (target ≤ 1 s).

For each backend: a fresh database filled in bulk (bench/seed.py) with the
incidents spread over the 90 days, then the report built the way the API
builds it (reports.service.build, by severity, service and team), timed
several times. Prints the figures; asserts nothing.

    .venv/bin/python bench/report.py [--backend sqlite|postgresql|all] [--incidents N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import data, seed
from warroom.db.engine import make_engine, make_session_factory
from warroom.db.uow import unit_of_work
from warroom.reports import service as report_service

BACKENDS = ("sqlite", "postgresql")
TARGET_SECONDS = 1.0
DAYS = 90


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--backend", choices=(*BACKENDS, "all"), default="all")
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--entries-per-incident", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pg-server", default=seed.PG_SERVER)
    parser.add_argument("--pg-database", default="warroom_bench_report")
    return parser.parse_args(argv)


def time_reports(url: str, runs: int) -> dict[str, list[float]]:
    sessions = make_session_factory(make_engine(url))
    now = datetime.now(UTC)
    since = now - timedelta(days=DAYS + 2)
    timings: dict[str, list[float]] = {}
    for by in ("severity", "service", "team"):
        for _ in range(runs):
            started = time.perf_counter()
            with unit_of_work(sessions, write=False) as session:
                built = report_service.build(session=session, now=now, since=since, by=by)
            timings.setdefault(by, []).append(time.perf_counter() - started)
        print(f"    by {by}: {built.overall.incidents:,} incidents, {len(built.groups)} groups")
    return timings


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, list[float]]:
    with (
        tempfile.TemporaryDirectory() as workdir,
        seed.fresh_database(backend, Path(workdir), args.pg_server, args.pg_database) as url,
    ):
        seed.upgrade(url)
        shape = data.Shape(
            incidents=args.incidents,
            entries_per_incident=args.entries_per_incident,
            years=DAYS / 365,
        )
        print(f"[{backend}] generating {shape.incidents:,} incidents over {DAYS} days ...")
        seeded = seed.populate(backend, url, shape)
        print(f"[{backend}] generated in {seeded.seconds['total']:.1f} s; timing the report")
        return time_reports(url, args.runs)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    results = {backend: run_backend(backend, args) for backend in backends}
    print(f"\n90-day report over {args.incidents:,} incidents (target ≤ {TARGET_SECONDS:.0f} s)")
    print(f"{'backend':<12}{'by':<10}{'median s':>10}{'worst s':>10}  verdict")
    for backend, timings in results.items():
        for by, values in timings.items():
            median, worst = statistics.median(values), max(values)
            verdict = "ok" if median <= TARGET_SECONDS else "OVER"
            print(f"{backend:<12}{by:<10}{median:>10.3f}{worst:>10.3f}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
