"""The group committer the ingest endpoints write through: results, errors, neighbours."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from tests.factories import make_service
from tests.integration.alerts.world import World, make_integration
from tests.unit.alerts.samples import pd_trigger
from warroom.alerts.endpoints import REFUSALS, Ingest
from warroom.alerts.integrations import IntegrationType
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.db.filelock import WriteLock
from warroom.db.groupcommit import GroupCommitter, Job, TransientError
from warroom.db.uow import unit_of_work
from warroom.users.models import Service

WAIT = 10  # seconds; a safety net against a hung writer thread, not a measured threshold


@pytest.fixture
def committer(sessions: SessionFactory, clock: FixedClock) -> Iterator[GroupCommitter]:
    running = GroupCommitter(sessions, clock.now)
    yield running
    running.stop()


def _services(sessions: SessionFactory) -> list[str]:
    with unit_of_work(sessions, write=False) as session:
        return list(session.scalars(select(Service.slug).order_by(Service.slug)))


def _service_job(slug: str) -> Job:
    def job(session: Session, now: datetime) -> str:
        make_service(session, now, slug)
        return slug

    return job


def _bad_data(session: Session, now: datetime) -> None:
    make_service(session, now, "half-written")
    session.flush()
    raise DataError("INSERT INTO alert ...", {}, Exception("invalid byte sequence: 0x00"))


def _batch(committer: GroupCommitter, jobs: list[Job]) -> list[Any]:
    """Run ``jobs`` in one batch: hold the writer on a first job until all are queued."""
    started, gate = threading.Event(), threading.Event()

    def hold(session: Session, now: datetime) -> str:
        started.set()
        gate.wait(WAIT)
        return "held"

    async def main() -> list[Any]:
        first = asyncio.create_task(committer.submit(hold))
        assert await asyncio.to_thread(started.wait, WAIT)
        rest = [asyncio.create_task(committer.submit(job)) for job in jobs]
        await asyncio.sleep(0)  # let every task queue its job
        gate.set()
        results = await asyncio.gather(first, *rest, return_exceptions=True)
        assert results[0] == "held"
        return results[1:]

    return asyncio.run(main())


def test_job_result_comes_back_with_the_clocks_now(committer, clock):
    async def main() -> Any:
        return await committer.submit(lambda session, now: now)

    assert asyncio.run(main()) == clock.now()


def test_batch_commits_every_job(committer, sessions):
    assert _batch(committer, [_service_job("a"), _service_job("b")]) == ["a", "b"]
    assert _services(sessions) == ["a", "b"]


def test_jobs_of_one_event_loop_turn_share_one_transaction(sessions, clock):
    # The writer is woken once per turn with all of its jobs, not once per job.
    committer = GroupCommitter(sessions, clock.now, max_batch=3)

    def session_of(session: Session, now: datetime) -> object:
        return session.info.setdefault("transaction", object())  # kept alive: ids stay unique

    async def main() -> list[object]:
        return list(await asyncio.gather(*(committer.submit(session_of) for _ in range(7))))

    try:
        seen = asyncio.run(main())
    finally:
        committer.stop()
    # ... and a turn's jobs are still split into transactions of at most max_batch.
    assert [next(i for i, o in enumerate(seen) if o is s) for s in seen] == [0, 0, 0, 3, 3, 3, 6]


@pytest.mark.parametrize("inline", [False, True], ids=["writer-thread", "inline"])
def test_a_batch_scope_is_entered_once_around_its_jobs_with_their_notes(sessions, clock, inline):
    committer = GroupCommitter(sessions, clock.now, inline=inline)
    calls: list[tuple[str, Any]] = []

    @contextmanager
    def scope(session: Session, now: datetime, notes: list[Any]) -> Iterator[None]:
        session.info["noted"] = list(notes)  # what the jobs of this transaction will find
        calls.append(("enter", list(notes)))
        yield
        calls.append(("leave", session.in_transaction()))  # before the commit

    def job(name: str) -> Job:
        def run(session: Session, now: datetime) -> Any:
            calls.append((name, session.info.get("noted")))
            return name

        return run

    async def main() -> list[Any]:
        return list(
            await asyncio.gather(
                committer.submit(job("a"), scope=scope, note="a's key", small=True),
                committer.submit(job("plain"), small=True),  # names no scope: adds no note
                committer.submit(job("b"), scope=scope, note="b's key", small=True),
            )
        )

    try:
        assert asyncio.run(main()) == ["a", "plain", "b"]
    finally:
        committer.stop()
    notes = ["a's key", "b's key"]
    assert calls == [
        ("enter", notes),
        ("a", notes),
        ("plain", notes),
        ("b", notes),
        ("leave", True),
    ]


@pytest.mark.parametrize("fails_on", ["enter", "leave"])
def test_a_failing_batch_scope_costs_its_batch_only_the_scope(committer, sessions, fails_on):
    left: list[str] = []

    @contextmanager
    def scope(session: Session, now: datetime, notes: list[Any]) -> Iterator[None]:
        if fails_on == "enter":
            raise RuntimeError("a bug in the scope")
        yield
        left.append("left")
        raise RuntimeError("what the scope deferred could not be written")

    async def main() -> list[Any]:
        submitted = [committer.submit(_service_job(n), scope=scope, note=n) for n in "xy"]
        return list(await asyncio.gather(*submitted))

    # The batch runs again job by job, without the scope, and every job is written.
    assert asyncio.run(main()) == ["x", "y"]
    assert _services(sessions) == ["x", "y"]
    assert left == ([] if fails_on == "enter" else ["left"])


def test_a_failing_job_leaves_the_batch_scope_with_its_error(committer, sessions):
    seen: list[type[BaseException] | None] = []

    @contextmanager
    def scope(session: Session, now: datetime, notes: list[Any]) -> Iterator[None]:
        try:
            yield
        except BaseException as error:  # what a scope holding writes back must drop them
            seen.append(type(error))
            raise
        seen.append(None)

    def fails(session: Session, now: datetime) -> None:
        raise LookupError("no such thing")

    async def main() -> list[Any]:
        submitted = [
            committer.submit(_service_job("kept"), scope=scope, note=1),
            committer.submit(fails, scope=scope, note=2),
        ]
        return list(await asyncio.gather(*submitted, return_exceptions=True))

    kept, error = asyncio.run(main())
    assert kept == "kept"
    assert isinstance(error, LookupError)
    assert len(seen) == 1
    assert seen[0] is not None  # left with the failure, before the job-by-job run
    assert _services(sessions) == ["kept"]


def test_the_writer_gets_a_turns_jobs_only_when_the_turn_ends(committer):
    # One loop turn stages a job, blocks for a while, then stages two more: the writer,
    # idle meanwhile, must still see all three together (it is woken once per turn).
    def session_of(session: Session, now: datetime) -> object:
        return session.info.setdefault("transaction", object())

    async def block() -> None:
        time.sleep(0.2)  # room for a writer woken per job to take the first one alone

    async def main() -> list[object]:
        # Tasks created together take their first step in the same turn, in this order;
        # the hand-over the first submit schedules comes only after all of them.
        first = asyncio.ensure_future(committer.submit(session_of))
        blocker = asyncio.ensure_future(block())
        rest = [asyncio.ensure_future(committer.submit(session_of)) for _ in range(2)]
        seen = list(await asyncio.gather(first, *rest))
        await blocker
        return seen

    seen = asyncio.run(main())
    assert seen[0] is seen[1] is seen[2]


def test_an_event_loop_closed_while_its_job_runs_does_not_stop_the_writer(committer):
    gate = threading.Event()

    def slow(session: Session, now: datetime) -> str:
        gate.wait(WAIT)
        return "nobody waits for this"

    loop = asyncio.new_event_loop()

    async def submit_and_leave() -> None:
        waiting = asyncio.ensure_future(committer.submit(slow))
        for _ in range(3):  # the job is staged, then handed to the writer
            await asyncio.sleep(0)
        assert not waiting.done()  # the writer holds it at the gate

    loop.run_until_complete(submit_and_leave())
    loop.close()
    gate.set()

    async def later() -> Any:
        submitted = committer.submit(lambda session, now: "still writing")
        return await asyncio.wait_for(submitted, WAIT)  # a dead writer never answers

    assert asyncio.run(later()) == "still writing"


def test_a_failing_job_gets_its_error_and_its_writes_are_undone(committer, sessions):
    def fails(session: Session, now: datetime) -> None:
        make_service(session, now, "undone")
        session.flush()
        raise LookupError("no such thing")

    ok, error = _batch(committer, [_service_job("kept"), fails])
    assert ok == "kept"
    assert isinstance(error, LookupError)
    assert _services(sessions) == ["kept"]


def test_a_data_error_does_not_spoil_its_neighbours(committer, sessions):
    before, bad, after = _batch(
        committer, [_service_job("before"), _bad_data, _service_job("after")]
    )
    assert (before, after) == ("before", "after")
    assert isinstance(bad, Exception)
    assert _services(sessions) == ["after", "before"]


def test_stop_finishes_queued_work(sessions, clock):
    committer = GroupCommitter(sessions, clock.now)

    async def main() -> Any:
        return await committer.submit(_service_job("last"))

    assert asyncio.run(main()) == "last"
    committer.stop()
    committer.stop()  # stopping twice is harmless
    with unit_of_work(sessions, write=False) as session:
        assert session.scalar(select(func.count()).select_from(Service)) == 1


def test_a_batch_waits_for_the_write_lock_and_gives_up_with_a_retry(
    sessions: SessionFactory, clock: FixedClock, tmp_path: Path
) -> None:
    """Another process holding the ingest lock too long: nothing written, 'retry' for all."""
    other = WriteLock(tmp_path / "db.ingest-lock", timeout=5)
    committer = GroupCommitter(
        sessions, clock.now, write_lock=WriteLock(tmp_path / "db.ingest-lock", timeout=0.2)
    )

    async def main() -> Any:
        return await committer.submit(_service_job("blocked"))

    try:
        with other.held(), pytest.raises(TransientError, match="retry"):
            asyncio.run(main())
        assert _services(sessions) == []
        assert asyncio.run(main()) == "blocked"  # the lock is free again
        assert _services(sessions) == ["blocked"]
    finally:
        committer.stop()
        other.close()


def test_a_neighbours_failure_does_not_count_an_event_twice_against_its_rate_limit(
    world: World,
):
    # The failure re-runs every job of the batch on its own: an event within its
    # integration's limit of 1 a minute must still be taken, not refused with a 429.
    with unit_of_work(world.sessions) as session:
        _, key = make_integration(
            session, world.clock, "checkout", IntegrationType.PAGERDUTY, rate_limit_per_minute=1
        )
    committer = GroupCommitter(world.sessions, world.clock.now, refusals=REFUSALS)
    ingest = Ingest(committer)

    def fails(session: Session, now: datetime) -> None:
        raise LookupError("a neighbour's bug")

    body = orjson.dumps(pd_trigger(key))

    async def main() -> list[Any]:
        failing = committer.submit(fails)
        return list(await asyncio.gather(ingest.enqueue(body), failing, return_exceptions=True))

    try:
        answer, failure = asyncio.run(main())
    finally:
        committer.stop()
    assert isinstance(failure, LookupError)
    assert answer.status == 202, answer
