"""The SQL behind the hot reads, as the services emit it, with plans and timings.

The statements are captured while calling the real service functions, then
explained (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN ANALYZE) and timed
on their own, so a slow HTTP figure can be told apart from a slow query.
"""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from warroom.db.engine import make_engine, make_session_factory
from warroom.db.uow import unit_of_work
from warroom.incidents import present
from warroom.incidents import queries as incident_queries
from warroom.incidents import service as incident_service
from warroom.incidents import severities as severity_service
from warroom.incidents.queries import IncidentFilter
from warroom.users import service as user_service

TIMING_RUNS = 15
Operation = Callable[[Session], object]


@dataclass(frozen=True)
class QueryPlan:
    """One SELECT of one operation: its SQL, its median time alone, its plan."""

    operation: str
    sql: str
    count: int
    median_ms: float
    plan: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "sql": self.sql,
            "count": self.count,
            "median_ms": self.median_ms,
            "plan": self.plan,
        }


def operations(token: str, slug: str, incident: int) -> dict[str, Operation]:
    """What the list, show and authentication routes ask the database, presentation included.

    Presenting is part of it: a relationship loaded lazily shows up as one more
    statement per row (N+1), which the statement counts make visible.
    """
    now = datetime.now(UTC)

    def list_page(filters: IncidentFilter) -> Operation:
        def run(session: Session) -> object:
            severity_service.policies(session=session)
            rows, _ = incident_queries.list_incidents(session=session, filters=filters)
            return [present.incident_read(row, now=now) for row in rows]

        return run

    def show_timeline(session: Session) -> object:
        row = incident_service.get_by_ref(session=session, ref=f"INC-{incident}")
        entries = incident_service.timeline(session=session, incident=row)
        return present.incident_read(row, now=now, timeline=entries)

    def authenticate(session: Session) -> object:
        return user_service.authenticate_token(session=session, plain=token)

    return {
        "list_open_sev1": list_page(IncidentFilter(open=True, severity_levels=(1,))),
        "list_service": list_page(IncidentFilter(service=slug)),
        "show_timeline": show_timeline,
        "authenticate": authenticate,
    }


def collect(url: str, ops: dict[str, Operation]) -> list[QueryPlan]:
    """Capture every SELECT that ``ops`` run; explain and time each distinct one."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    plans: list[QueryPlan] = []
    try:
        for name, operation in ops.items():
            captured = _capture(engine, sessions, operation)
            counts = Counter(sql for sql, _params in captured)
            first = dict(reversed(captured))  # the first parameters seen
            for sql, count in counts.items():
                plans.append(_explain(engine, name, sql, first[sql], count))
    finally:
        engine.dispose()
    return plans


def _capture(engine: Engine, sessions: Any, operation: Operation) -> list[tuple[str, Any]]:
    captured: list[tuple[str, Any]] = []

    def listen(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, _many: Any) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            captured.append((sql, params))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        with unit_of_work(sessions, write=False) as session:
            operation(session)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return captured


def _explain(engine: Engine, name: str, sql: str, params: Any, count: int) -> QueryPlan:
    postgres = engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, COSTS OFF) " if postgres else "EXPLAIN QUERY PLAN "
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(prefix + sql, params).fetchall()
        timings = []
        for _ in range(TIMING_RUNS):
            started = time.perf_counter()
            connection.exec_driver_sql(sql, params).fetchall()
            timings.append(1000 * (time.perf_counter() - started))
    plan = [str(r[0]) for r in rows] if postgres else _sqlite_tree(rows)
    return QueryPlan(name, _brief(sql), count, statistics.median(timings), plan)


def _sqlite_tree(rows: Sequence[Any]) -> list[str]:
    """EXPLAIN QUERY PLAN rows (id, parent, _, detail) as an indented tree."""
    depth: dict[int, int] = {0: -1}
    lines = []
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + str(detail))
    return lines


def _brief(sql: str) -> str:
    """The statement on one line, its long column list elided."""
    flat = re.sub(r"\s+", " ", sql).strip()
    head, sep, tail = flat.partition(" FROM ")
    return f"SELECT … FROM {tail}" if sep and len(head) > 60 else flat


def render(plans: list[QueryPlan], *, all_plans: bool, slow_ms: float) -> list[str]:
    """Per operation: statements run; each distinct one's time alone, and slow ones' plans."""
    lines = []
    for operation in dict.fromkeys(p.operation for p in plans):
        mine = [p for p in plans if p.operation == operation]
        total = sum(p.count * p.median_ms for p in mine)
        statements = sum(p.count for p in mine)
        lines.append(f"  {operation}: {statements} statements, {total:.1f} ms in the database")
        for plan in mine:
            lines.append(f"    x{plan.count:<3} {plan.median_ms:6.2f} ms  {plan.sql[:300]}")
            if all_plans or plan.median_ms >= slow_ms:
                lines.extend(f"          {line}" for line in plan.plan)
    return lines
