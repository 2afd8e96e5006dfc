"""Reliability suite: real processes, a real SMTP server, bounded in time (see conftest.py).

The helpers below set paging up through the service layer, committed, and read
back what the worker did: ``organise`` makes two people with email, a policy
paging them in turn and a service; ``open_pages`` opens incidents whose first
step is due at once, and ``open_fired`` opens incidents whose first level was
already paged at a given instant (as the worker's job does it), so that their
second level falls due exactly one timeout later.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.factories import make_service, make_user
from warroom.db import tables as _tables  # noqa: F401  (every table known to the ORM)
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.escalation import policies
from warroom.escalation import service as paging
from warroom.escalation.models import Page
from warroom.incidents import service as incident_service
from warroom.incidents.models import TimelineEntry
from warroom.incidents.schemas import IncidentCreate
from warroom.notify import service as notify_service
from warroom.outbox import service as outbox
from warroom.outbox.models import OutboxMessage
from warroom.outbox.rules import Result

LEVEL_TIMEOUT = timedelta(seconds=60)  # the shortest timeout a policy allows


def now() -> datetime:
    return datetime.now(UTC)


def report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    """Print a figure: to the terminal at once, and into the captured output that
    `-rA` shows (the only place it shows under xdist, whose workers' terminal is lost)."""
    print(f"[reliability] {line}")
    with capsys.disabled():
        print(f"\n[reliability] {line}")


def organise(
    sessions: SessionFactory, at: datetime, *, levels: int = 2, timeout: timedelta = LEVEL_TIMEOUT
) -> None:
    """alice and bob with email; policy 'pager' pages alice, then bob; service 'checkout'."""
    with unit_of_work(sessions) as session:
        for handle in ("alice", "bob"):
            user = make_user(session, at, handle)
            notify_service.add_contact(
                session=session, now=at, user=user, kind="email", target=user.email
            )
        policy, _ = policies.save(
            session=session,
            now=at,
            slug="pager",
            name="Pager",
            repeat=0,
            levels=[
                {
                    "targets": [{"kind": "user", "ref": handle}],
                    "timeout_seconds": int(timeout.total_seconds()),
                }
                for handle in ("alice", "bob")[:levels]
            ],
        )
        policies.attach(
            session=session, service=make_service(session, at, "checkout"), policy=policy
        )


def _declare(session: Any, at: datetime, title: str) -> Any:
    incident = incident_service.declare(
        session=session,
        now=at,
        actor=None,
        incident_in=IncidentCreate(title=title, severity=1, services=["checkout"]),
    )
    page = paging.start(session=session, now=at, incident=incident)
    assert page is not None
    return incident, page


def open_pages(sessions: SessionFactory, at: datetime, count: int, prefix: str) -> list[int]:
    """``count`` incidents in one transaction, each paging level 1 at ``at``; their ids."""
    with unit_of_work(sessions) as session:
        return [_declare(session, at, f"{prefix} {n}")[0].id for n in range(count)]


def open_fired(sessions: SessionFactory, at: datetime, count: int, prefix: str) -> list[int]:
    """Incidents whose level 1 a worker fired at ``at``: level 2 falls due at ``at`` + 60 s.

    Does in one transaction what the worker's escalation job does (fire the
    step, settle its message), with ``at`` as the clock.
    """
    ids = []
    with unit_of_work(sessions) as session:
        for n in range(count):
            incident, page = _declare(session, at, f"{prefix} {n}")
            step = session.scalar(
                select(OutboxMessage).where(OutboxMessage.key == paging.step_key(page, 0, 0))
            )
            assert step is not None
            assert paging.fire_step(
                session=session, now=at, page_id=page.id, generation=0, round_=0, level=0
            )
            outbox.settle(session=session, now=at, message=step, result=Result.done())
            ids.append(incident.id)
    return ids


def outbox_states(sessions: SessionFactory) -> Counter[tuple[str, str]]:
    """(kind, status) -> number of outbox messages."""
    with unit_of_work(sessions, write=False) as session:
        rows = session.execute(
            select(OutboxMessage.kind, OutboxMessage.status, func.count()).group_by(
                OutboxMessage.kind, OutboxMessage.status
            )
        )
        return Counter({(kind, status): int(n) for kind, status, n in rows})


def fired_at(sessions: SessionFactory, incident_ids: list[int], level: int) -> dict[int, float]:
    """incident id -> when (time.time()) the 'paged' entry of ``level`` (1-based) was written."""
    label = f"Paged level {level}:"
    with unit_of_work(sessions, write=False) as session:
        rows = session.execute(
            select(TimelineEntry.incident_id, TimelineEntry.at).where(
                TimelineEntry.incident_id.in_(incident_ids),
                TimelineEntry.kind == "paged",
                TimelineEntry.text.startswith(label),
            )
        )
        return {int(i): at.timestamp() for i, at in rows}


def level_due(sessions: SessionFactory, incident_ids: list[int], level: int) -> dict[int, float]:
    """incident id -> when the step paging ``level`` (1-based) is or was due."""
    with unit_of_work(sessions, write=False) as session:
        pages = {
            p.id: p.incident_id
            for p in session.scalars(select(Page).where(Page.incident_id.in_(incident_ids)))
        }
        rows = session.execute(
            select(OutboxMessage.key, OutboxMessage.due_at, OutboxMessage.payload).where(
                OutboxMessage.kind == paging.ESCALATE,
                OutboxMessage.incident_id.in_(incident_ids),
            )
        )
        return {
            pages[int(payload["page_id"])]: due.timestamp()
            for _key, due, payload in rows
            if int(payload["level"]) == level - 1 and int(payload["page_id"]) in pages
        }


def wait_until(
    condition: Any, timeout: float, what: str, *, every: float = 0.1, state: Any = None
) -> None:
    """Poll ``condition`` until true; on timeout fail with ``state()`` for the record."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    seen = f": {state()}" if state is not None else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{seen}")
