"""Timers: many escalation steps pending, one `warroom worker` firing them as they fall due.

Set up through the service layer on a fresh database: PAGES pages on service
'paged' whose own first step is two hours off, then TIMERS more escalation
steps for those pages (outbox.enqueue, kind 'escalate', level 1: a re-page),
due evenly over WINDOW seconds from a lead time after the setup. @pager has
no contact method, so a step pages nobody by email: the timer is measured,
not SMTP. The worker is started once all are pending; its CPU is sampled from
/proc while nothing is due yet (IDLE seconds), then each step's lateness is
its outbox ``finished_at`` (the worker's clock when it ran the step) minus
its ``due_at``. Steps still pending when the run stops count with their
lateness so far (a lower bound), so p99 is never flattered.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench import paging_setup as setup
from bench import server as server_mod
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.escalation import service as paging
from warroom.incidents import service as incident_service
from warroom.incidents.schemas import IncidentCreate
from warroom.outbox import service as outbox
from warroom.outbox.models import OutboxMessage

PAGES = 200
CHUNK = 1000  # steps per transaction
PREFIX = "bench-timer-"
DRAIN = 30.0  # seconds after the window before the run stops
ENQUEUE_ESTIMATE = 0.006  # seconds per step, to place the window after the setup


@dataclass
class TimerResult:
    backend: str
    timers: int
    window: float
    pending_at_idle: int = 0
    idle_cpu_percent: float = 0.0
    idle_seconds: float = 0.0
    late_ms: list[float] = field(default_factory=list)
    unfired: int = 0
    fired_per_second: float = 0.0
    busy_cpu_percent: float = 0.0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "timers": self.timers,
            "window_s": self.window,
            "pending_while_idle": self.pending_at_idle,
            "idle_cpu_percent_of_a_core": round(self.idle_cpu_percent, 2),
            "idle_sampled_s": round(self.idle_seconds, 1),
            "late_p50_ms": round(setup.percentile(self.late_ms, 50), 1),
            "late_p99_ms": round(setup.percentile(self.late_ms, 99), 1),
            "late_max_ms": round(max(self.late_ms, default=float("nan")), 1),
            "unfired_at_stop": self.unfired,
            "fired_per_second": round(self.fired_per_second, 1),
            "busy_cpu_percent_of_a_core": round(self.busy_cpu_percent, 1),
            "notes": self.notes,
        }


def _pages(sessions: SessionFactory, count: int) -> list[tuple[int, int]]:
    """``count`` pages whose first step is two hours off; (page id, incident id)."""
    later = setup.utcnow() + timedelta(hours=2)
    made = []
    with unit_of_work(sessions) as session:
        for n in range(count):
            incident = incident_service.declare(
                session=session,
                now=later,
                actor=None,
                incident_in=IncidentCreate(title=f"Timer {n}", severity=1, services=["paged"]),
            )
            page = paging.start(session=session, now=later, incident=incident)
            assert page is not None
            made.append((page.id, incident.id))
    return made


def _enqueue(
    sessions: SessionFactory, pages: list[tuple[int, int]], timers: int, t0: float, window: float
) -> None:
    now = setup.utcnow()
    start = setup.utcnow() + timedelta(seconds=t0 - time.time())
    for first in range(0, timers, CHUNK):
        with unit_of_work(sessions) as session:
            for n in range(first, min(timers, first + CHUNK)):
                page_id, incident_id = pages[n % len(pages)]
                outbox.enqueue(
                    session=session,
                    now=now,
                    kind=paging.ESCALATE,
                    key=f"{PREFIX}{n}",
                    due_at=start + timedelta(seconds=window * n / timers),
                    payload={"page_id": page_id, "generation": 0, "round": 0, "level": 0},
                    incident_id=incident_id,
                )


def _counts(sessions: SessionFactory) -> tuple[int, int]:
    """(pending steps of the bench, all pending messages)."""
    with unit_of_work(sessions, write=False) as session:
        ours = select(func.count()).where(
            OutboxMessage.key.startswith(PREFIX), OutboxMessage.status == "pending"
        )
        every = select(func.count()).where(OutboxMessage.status == "pending")
        return int(session.scalar(ours) or 0), int(session.scalar(every) or 0)


def _lateness(sessions: SessionFactory, stopped: float) -> tuple[list[float], int, float]:
    """Lateness (ms) of every bench step, unfired ones as now - due; unfired; fired/s."""
    with unit_of_work(sessions, write=False) as session:
        rows = session.execute(
            select(OutboxMessage.due_at, OutboxMessage.finished_at, OutboxMessage.status).where(
                OutboxMessage.key.startswith(PREFIX)
            )
        ).all()
    late, unfired, finished = [], 0, []
    for due, done_at, status in rows:
        if status == "pending" or done_at is None:
            unfired += 1
            late.append(max(0.0, stopped - due.timestamp()) * 1000)
        else:
            late.append((done_at - due).total_seconds() * 1000)
            finished.append(done_at.timestamp())
    first_due = min((due.timestamp() for due, _, _ in rows), default=0.0)
    span = (max(finished) - first_due) if finished else 0.0
    return late, unfired, (len(finished) / span if span > 0 else 0.0)


def _wait_started(worker: setup.Child, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while "worker running" not in worker.tail():
        if worker.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"warroom worker did not start:\n{worker.tail()}")
        time.sleep(0.1)


def run(backend: str, workdir: Path, *, timers: int, window: float, idle: float) -> TimerResult:
    result = TimerResult(backend, timers, window)
    with setup.database(backend, workdir) as sessions:
        setup.organise(sessions, contact=False, timeout=timedelta(hours=1))
        pages = _pages(sessions, min(PAGES, timers))
        # The window opens once the steps are written and the idle CPU is sampled.
        t0 = time.time() + timers * ENQUEUE_ESTIMATE + idle + 10.0
        _enqueue(sessions, pages, timers, t0, window)
        env = setup.environ(setup.url_of(sessions), workdir / "var")
        with setup.worker(env, workdir / "worker.log") as worker:
            _wait_started(worker)
            time.sleep(2.0)  # past its first cycles
            _, result.pending_at_idle = _counts(sessions)
            sample = min(idle, t0 - time.time() - 1.0)
            if sample < idle:
                result.notes.append(f"setup ran late: idle CPU sampled over {sample:.1f} s only")
            if sample > 0:
                cpu0, wall0 = server_mod.cpu_seconds(worker.pid), time.monotonic()
                time.sleep(sample)
                result.idle_seconds = time.monotonic() - wall0
                busy = server_mod.cpu_seconds(worker.pid) - cpu0
                result.idle_cpu_percent = 100 * busy / result.idle_seconds
            time.sleep(max(0.0, t0 - time.time()))
            cpu0, wall0 = server_mod.cpu_seconds(worker.pid), time.monotonic()
            deadline = t0 + window + DRAIN
            while time.time() < deadline:
                if time.time() > t0 + window and _counts(sessions)[0] == 0:
                    break
                time.sleep(1.0)
            busy = server_mod.cpu_seconds(worker.pid) - cpu0
            result.busy_cpu_percent = 100 * busy / (time.monotonic() - wall0)
            stopped = time.time()
            if worker.process.poll() is not None:
                result.notes.append(f"the worker exited:\n{worker.tail()}")
        result.late_ms, result.unfired, result.fired_per_second = _lateness(sessions, stopped)
    return result


def print_result(result: TimerResult) -> None:
    d = result.as_dict()
    print(
        f"  (b) idle worker with {d['pending_while_idle']} messages pending: CPU "
        f"{d['idle_cpu_percent_of_a_core']:.2f}% of a core over {d['idle_sampled_s']:.0f} s "
        "(target < 5%)"
    )
    bound = " (lower bounds: steps unfired at the stop count as late as they were)"
    print(
        f"      {d['timers']} steps due over {d['window_s']:.0f} s: lateness p50 "
        f"{d['late_p50_ms']:.0f} ms, p99 {d['late_p99_ms']:.0f} ms, max {d['late_max_ms']:.0f} ms "
        f"(target p99 <= 1000 ms); {d['fired_per_second']:.1f} fired/s, {d['unfired_at_stop']} "
        f"unfired {DRAIN:.0f} s after the window{bound if d['unfired_at_stop'] else ''}; "
        f"worker CPU {d['busy_cpu_percent_of_a_core']:.0f}% of a core while firing"
    )
    for note in d["notes"]:
        print(f"      ! {note}")
