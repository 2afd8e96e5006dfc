"""Benchmark the program report: a 90-day report over 100,000 incidents (target ≤ 1 s).

For each backend: a fresh database filled in bulk (bench/seed.py) with the
incidents spread over the 90 days, plus the alerts, internal updates,
postmortems and action items the report also reads (seed.py writes none),
then the report built the way the API builds it (reports.service.build, by
severity, service and team), timed several times. Prints the figures and
the load average (the timings mean little on a busy machine); asserts nothing.

    .venv/bin/python bench/report.py [--backend sqlite|postgresql|all] [--incidents N]
        [--no-related]    # the incidents alone, as seed.py writes them
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

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
    parser.add_argument(
        "--no-related",
        action="store_true",
        help="incidents only: no alerts, internal updates, postmortems or action items",
    )
    parser.add_argument("--pg-server", default=seed.PG_SERVER)
    parser.add_argument("--pg-database", default="warroom_bench_report")
    return parser.parse_args(argv)


def _later(backend: str, column: str, seconds: str) -> str:
    """SQL for ``column`` plus ``seconds`` (an integer SQL expression, may be negative)."""
    if backend == "sqlite":  # seed.py's text format: microseconds from character 20
        shifted = f"strftime('%Y-%m-%d %H:%M:%S', {column}, printf('%+d seconds', {seconds}))"
        return f"{shifted} || substr({column}, 20)"
    return f"{column} + ({seconds}) * interval '1 second'"


def _alerts_sql(backend: str) -> list[str]:
    """One generic integration per service; 80% of incidents opened by an alert 1-9 min old."""
    json = "::jsonb" if backend == "postgresql" else ""
    fired = _later(backend, "i.declared_at", "-60 - i.id % 480")
    return [
        "INSERT INTO integration (service_id, type, name, key_hash, key_prefix,"
        " rate_limit_per_minute, rules, config, created_at)"
        f" SELECT id, 'generic', 'bench', 'bench-' || id, 'bench', 600, '[]'{json}, '{{}}'{json},"
        " created_at FROM service",
        "INSERT INTO alert (integration_id, service_id, incident_id, dedup_key, status, summary,"
        " source, severity, urgency, labels, links, client, client_url, group_key, count,"
        " occurred_at, first_seen_at, last_seen_at, resolved_at, grouping_reason)"
        " SELECT g.id, l.service_id, i.id, 'bench-' || i.id,"
        " CASE WHEN i.resolved_at IS NULL THEN 'triggered' ELSE 'resolved' END, i.title,"
        f" 'bench', 'critical', 'high', '{{}}'{json}, '[]'{json}, '', '', '', 1, {fired},"
        " i.declared_at, i.declared_at, i.resolved_at, 'new'"
        " FROM incident i"
        " JOIN (SELECT incident_id, min(service_id) AS service_id FROM incident_service"
        " GROUP BY incident_id) l ON l.incident_id = i.id"
        " JOIN integration g ON g.service_id = l.service_id"
        " WHERE i.id % 10 < 8",
        # As ingest keeps it (alerts/triggers.py), and as the migration fills it.
        "UPDATE incident SET first_alert_at ="
        " (SELECT MIN(a.occurred_at) FROM alert a WHERE a.incident_id = incident.id)",
    ]


def _updates_sql(backend: str) -> str:
    """Three internal updates per SEV-1 to SEV-3 incident, each due a cadence after the last.

    Each lands up to 200 s either side of its slot, so about half are late.
    """
    posted = _later(
        backend,
        "i.declared_at",
        "k.k * s.update_cadence_seconds + (i.id * 37 * k.k) % 401 - 200",
    )
    due = _later(backend, posted, "s.update_cadence_seconds")
    return (
        "WITH k(k) AS (VALUES (1), (2), (3))"
        " INSERT INTO internal_update (incident_id, posted_at, author_id, phase, severity_level,"
        " impact, theory, next_action, next_update_due_at, body)"
        f" SELECT i.id, {posted}, i.created_by_id, i.phase, i.severity_level, i.customer_impact,"
        f" '', '', {due}, 'Update'"
        " FROM incident i JOIN severity s ON s.level = i.severity_level CROSS JOIN k"
        " WHERE s.update_cadence_seconds > 0"
    )


def _on_time_sql() -> str:
    """Each incident's count of updates posted by the due time in force (as post_update keeps it).

    Update k lands (id * 37 * k) % 401 - 200 s off its slot; the first is due a
    cadence after declaring (on time when not after its slot), each later one a
    cadence after the one before (on time when it lands no later off its slot).
    """
    off = [f"(id * {37 * k}) % 401" for k in (1, 2, 3)]
    on_time = [f"{off[0]} <= 200", f"{off[1]} <= {off[0]}", f"{off[2]} <= {off[1]}"]
    counted = " + ".join(f"CASE WHEN {c} THEN 1 ELSE 0 END" for c in on_time)
    return (
        f"UPDATE incident SET updates_on_time = {counted}"
        " WHERE severity_level IN (SELECT level FROM severity WHERE update_cadence_seconds > 0)"
    )


def _postmortems_sql(backend: str) -> list[str]:
    """Postmortems (due in 5 days) and two action items each for resolved SEV-1/2 incidents.

    A quarter are still drafts, the rest published after 3 to 6 days; the
    items are open, done (some late) or won't do.
    """
    json = "::jsonb" if backend == "postgresql" else ""
    day = 86_400
    due = _later(backend, "resolved_at", f"5 * {day}")
    published = _later(backend, "resolved_at", f"(3 + id % 4) * {day}")
    closed = _later(backend, "i.resolved_at", f"(10 + i.id % 8) * {day}")
    due_on = (
        "date(i.resolved_at, '+14 days')"
        if backend == "sqlite"
        else "CAST(i.resolved_at + interval '14 days' AS date)"
    )
    return [
        "INSERT INTO postmortem (incident_id, status, due_at, summary, timeline, root_cause,"
        " contributing_factors, lessons, impact, created_at, updated_at, published_at, version)"
        f" SELECT id, CASE WHEN id % 4 = 0 THEN 'draft' ELSE 'published' END, {due}, '',"
        f" '[]'{json}, '', '', '', '{{}}'{json}, resolved_at, resolved_at,"
        f" CASE WHEN id % 4 > 0 THEN {published} END, 1"
        " FROM incident WHERE severity_level <= 2 AND resolved_at IS NOT NULL",
        "UPDATE incident SET postmortem_status = p.status FROM postmortem p"
        " WHERE p.incident_id = incident.id",
        "WITH k(k) AS (VALUES (1), (2))"
        " INSERT INTO action_item (incident_id, title, category, priority, owner_id, due_on,"
        " status, reason, tracker_url, created_at, closed_at)"
        f" SELECT i.id, 'Follow-up', 'fix', 'P1', i.created_by_id, {due_on},"
        " CASE (i.id + k.k) % 3 WHEN 0 THEN 'open' WHEN 1 THEN 'done' ELSE 'wont_do' END,"
        f" '', '', i.resolved_at, CASE WHEN (i.id + k.k) % 3 = 1 THEN {closed} END"
        " FROM postmortem p JOIN incident i ON i.id = p.incident_id CROSS JOIN k",
    ]


def add_related_rows(backend: str, url: str) -> None:
    """Alerts, internal updates, postmortems and action items for the generated incidents."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            statements = [
                *_alerts_sql(backend),
                _updates_sql(backend),
                _on_time_sql(),
                *_postmortems_sql(backend),
            ]
            for statement in statements:
                connection.execute(text(statement))
        with engine.connect() as connection:
            if backend == "postgresql":
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("VACUUM ANALYZE" if backend == "postgresql" else "ANALYZE")
    finally:
        engine.dispose()


def _load() -> str:
    return ", ".join(f"{n:.2f}" for n in os.getloadavg())


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
    figures = built.overall
    print(
        f"    MTTD known for {figures.stats['mttd'].count:,}; update compliance"
        f" {figures.update_compliance or 0:.0%}; postmortems on time"
        f" {figures.postmortems_on_time or 0:.0%}; action items due {built.actions_due:,}"
    )
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
        started = time.perf_counter()
        if not args.no_related:
            add_related_rows(backend, url)
        spent = seeded.seconds["total"] + time.perf_counter() - started
        print(f"[{backend}] generated in {spent:.1f} s; timing the report (load {_load()})")
        return time_reports(url, args.runs)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    results = {backend: run_backend(backend, args) for backend in backends}
    print(f"\n90-day report over {args.incidents:,} incidents (target ≤ {TARGET_SECONDS:.0f} s)")
    print(f"load average {_load()} on {os.cpu_count()} CPUs")
    print(f"{'backend':<12}{'by':<10}{'median s':>10}{'worst s':>10}  verdict")
    for backend, timings in results.items():
        for by, values in timings.items():
            median, worst = statistics.median(values), max(values)
            verdict = "ok" if median <= TARGET_SECONDS else "OVER"
            print(f"{backend:<12}{by:<10}{median:>10.3f}{worst:>10.3f}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
