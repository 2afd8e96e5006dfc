"""Timer jobs run a batch per transaction; one job that raises must not sink the others."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.outbox import service as outbox
from warroom.outbox.models import OutboxMessage
from warroom.outbox.rules import Result
from warroom.worker.cycle import Worker


class Jobs:
    """Timer jobs that enqueue a follow-up each (a write to roll back), one of them failing."""

    max_attempts = 5

    def __init__(self) -> None:
        self.runs: list[str] = []

    def run(self, session: object, now: datetime, message: OutboxMessage) -> Result:
        self.runs.append(message.key)
        outbox.enqueue(
            session=session,  # type: ignore[arg-type]
            now=now,
            kind="follow-up",
            key=f"after-{message.key}",
            due_at=now + timedelta(days=1),
            payload={},
        )
        if message.key == "boom":
            raise RuntimeError("the handler broke")
        return Result.done()


def statuses(sessions: SessionFactory) -> dict[str, tuple[str, int, str]]:
    with unit_of_work(sessions, write=False) as session:
        rows = session.execute(
            select(
                OutboxMessage.key,
                OutboxMessage.status,
                OutboxMessage.attempts,
                OutboxMessage.last_error,
            )
        ).all()
        return {key: (status, attempts, error) for key, status, attempts, error in rows}


def test_a_failing_job_is_retried_alone_and_the_batch_still_runs(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    now = clock.now()
    with unit_of_work(sessions) as session:
        for key in ("first", "boom", "last"):
            outbox.enqueue(
                session=session, now=now, kind="escalate", key=key, due_at=now, payload={}
            )
    jobs = Jobs()
    worker = Worker(sessions, clock, jobs)  # type: ignore[arg-type]
    assert worker.run_once() == 3
    found = statuses(sessions)
    assert found["first"][:2] == ("done", 1)
    assert found["last"][:2] == ("done", 1)
    assert found["boom"] == ("pending", 1, "job failed: the handler broke")
    # The batch ran once together (rolled back), then each alone: no follow-up twice,
    # and none for the job whose transaction failed.
    assert sorted(k for k in found if k.startswith("after-")) == ["after-first", "after-last"]
    assert jobs.runs == ["first", "boom", "first", "boom", "last"]
