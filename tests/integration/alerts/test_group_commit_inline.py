"""The group committer writing on the event loop's thread (SQLite), and when it must not.

A batch of small jobs is written where it was submitted only while nobody
else writes: a batch holding a large job, a batch that would wait for
SQLite's write lock or for the lock file of other server processes, goes to
the writer thread, and so does every later batch while that thread still has
work, so batches still commit in order.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from warroom.clock import FixedClock
from warroom.db.engine import SQLITE_BUSY_TIMEOUT_MS, SessionFactory, make_engine
from warroom.db.filelock import WriteLock
from warroom.db.groupcommit import GroupCommitter, Job, TransientError

WAIT = 10  # seconds; a safety net against a hung writer, not a measured threshold
HELD = 0.2  # seconds another writer keeps the lock


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "inline.db"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE written (name TEXT NOT NULL, thread INTEGER NOT NULL)")
    return path


@pytest.fixture
def sessions(db_path: Path) -> Iterator[SessionFactory]:
    engine = make_engine(f"sqlite:///{db_path}")
    yield SessionFactory(engine)
    engine.dispose()


def _committer(sessions: SessionFactory, clock: FixedClock, **options: Any) -> GroupCommitter:
    return GroupCommitter(sessions, clock.now, inline=True, **options)


def _write(name: str) -> Job:
    """A job that writes a row naming itself and the thread it ran on."""

    def job(session: Session, now: datetime) -> int:
        thread = threading.get_ident()
        session.execute(text("INSERT INTO written VALUES (:n, :t)"), {"n": name, "t": thread})
        return thread

    return job


def _rows(db_path: Path) -> list[str]:
    with sqlite3.connect(db_path) as connection:
        return [name for (name,) in connection.execute("SELECT name FROM written ORDER BY rowid")]


def _holding_the_write_lock(db_path: Path) -> sqlite3.Connection:
    """Another connection in the middle of a write transaction."""
    holder = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


async def _ticks_while(seconds: float) -> int:
    """How many times the loop ran a coroutine in ``seconds`` (0 if it was blocked)."""
    ticks, deadline = 0, asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
        ticks += 1
    return ticks


def test_a_batch_is_written_and_committed_on_the_loops_own_thread(sessions, clock, db_path):
    committer = _committer(sessions, clock)

    async def main() -> list[int]:
        return list(await asyncio.gather(*(committer.submit(_write(n), small=True) for n in "abc")))

    try:
        threads = asyncio.run(main())
    finally:
        committer.stop()
    assert threads == [threading.get_ident()] * 3
    assert _rows(db_path) == ["a", "b", "c"]  # committed: another connection sees them


def test_a_batch_holding_a_large_job_goes_to_the_writer_thread(sessions, clock, db_path):
    # A webhook of thousands of alerts would keep the loop from every other request.
    committer = _committer(sessions, clock)

    async def main() -> list[int]:
        small = committer.submit(_write("small"), small=True)
        large = committer.submit(_write("large"))
        return list(await asyncio.gather(small, large))

    try:
        threads = asyncio.run(main())
    finally:
        committer.stop()
    assert threading.get_ident() not in threads
    assert _rows(db_path) == ["small", "large"]


def test_a_batch_that_would_wait_for_sqlites_lock_goes_to_the_writer_thread(
    sessions, clock, db_path
):
    committer = _committer(sessions, clock)
    holder = _holding_the_write_lock(db_path)

    async def main() -> tuple[int, int]:
        written = asyncio.ensure_future(committer.submit(_write("waited"), small=True))
        ticks = await _ticks_while(HELD)  # the loop keeps serving meanwhile
        assert not written.done()
        holder.execute("COMMIT")
        return ticks, await asyncio.wait_for(written, WAIT)

    try:
        ticks, thread = asyncio.run(main())
    finally:
        committer.stop()
        holder.close()
    assert ticks > 1
    assert thread != threading.get_ident()
    assert _rows(db_path) == ["waited"]
    # The attempt that would not wait left the pooled connections' own patience alone.
    with sessions(write=True) as session:
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == SQLITE_BUSY_TIMEOUT_MS


def test_a_batch_that_would_wait_for_the_lock_file_goes_to_the_writer_thread(
    sessions, clock, db_path, tmp_path
):
    other_process = WriteLock(tmp_path / "inline.db.ingest-lock", timeout=WAIT)
    committer = _committer(
        sessions, clock, write_lock=WriteLock(tmp_path / "inline.db.ingest-lock", timeout=WAIT)
    )

    async def main() -> tuple[int, int]:
        with other_process.held():
            written = asyncio.ensure_future(committer.submit(_write("waited"), small=True))
            ticks = await _ticks_while(HELD)
            assert not written.done()
        return ticks, await asyncio.wait_for(written, WAIT)

    try:
        ticks, thread = asyncio.run(main())
        assert asyncio.run(committer.submit(_write("free"), small=True)) == threading.get_ident()
    finally:
        committer.stop()
        other_process.close()
    assert ticks > 1
    assert thread != threading.get_ident()
    assert _rows(db_path) == ["waited", "free"]


def test_a_broken_lock_file_answers_every_request_with_a_retry_on_both_paths(
    sessions, clock, db_path, tmp_path
):
    # Not a database error: the lock file cannot be opened. Inline or on the writer
    # thread, each waiting request gets "retry" instead of hanging, and nothing is written.
    unopenable = WriteLock(tmp_path / "no-such-directory" / "inline.db.ingest-lock", timeout=WAIT)
    committer = _committer(sessions, clock, write_lock=unopenable)

    async def main() -> list[Any]:
        submitted = [
            committer.submit(_write("inline"), small=True),
            committer.submit(_write("thread")),  # a large job: the writer thread's
        ]
        return list(
            await asyncio.wait_for(asyncio.gather(*submitted, return_exceptions=True), WAIT)
        )

    try:
        first = asyncio.run(main())  # one batch, on the writer thread (it holds a large job)
        inline = asyncio.run(asyncio.wait_for(committer.submit(_write("inline"), small=True), WAIT))
    except TransientError as error:
        inline = error
    finally:
        committer.stop()
    assert [type(answer) for answer in [*first, inline]] == [TransientError] * 3
    assert _rows(db_path) == []


class _GatedSessions(SessionFactory):
    """Sessions whose writer thread stops at a gate before it begins its transaction."""

    def __init__(self, inner: SessionFactory) -> None:
        self.inner, self.engine = inner, inner.engine
        self.reached, self.gate = threading.Event(), threading.Event()

    def __call__(self, *, write: bool = False) -> Session:
        if threading.current_thread().name == "group-commit":
            self.reached.set()
            self.gate.wait(WAIT)
        return self.inner(write=write)

    def writer_that_does_not_wait(self) -> Session:
        return self.inner.writer_that_does_not_wait()


def test_batches_commit_in_order_while_the_writer_thread_has_work(sessions, clock, db_path):
    # The first batch goes to the thread (the lock was taken); the thread has not
    # written it yet when the lock is free again: the next batch must queue behind it.
    gated = _GatedSessions(sessions)
    committer = _committer(gated, clock)
    holder = _holding_the_write_lock(db_path)

    async def main() -> list[int]:
        first = asyncio.ensure_future(committer.submit(_write("first"), small=True))
        assert await asyncio.to_thread(gated.reached.wait, WAIT)
        holder.execute("COMMIT")  # free for anyone, but the thread still has "first"
        second = asyncio.ensure_future(committer.submit(_write("second"), small=True))
        await asyncio.sleep(HELD)  # a second written here would be written first
        gated.gate.set()
        return list(await asyncio.wait_for(asyncio.gather(first, second), WAIT))

    try:
        threads = asyncio.run(main())
        # Once the thread is done, batches are written on the loop's thread again.
        assert asyncio.run(committer.submit(_write("third"), small=True)) == threading.get_ident()
    finally:
        committer.stop()
        holder.close()
    assert threading.get_ident() not in threads
    assert _rows(db_path) == ["first", "second", "third"]


def test_a_writer_that_does_not_wait_fails_at_once_while_another_writes(sessions, db_path):
    holder = _holding_the_write_lock(db_path)
    try:
        refused = pytest.raises(OperationalError, match="database is locked")
        with sessions.writer_that_does_not_wait() as session, refused:
            session.connection()
    finally:
        holder.close()
    with sessions.writer_that_does_not_wait() as session:  # free again: it begins
        session.execute(text("INSERT INTO written VALUES ('after', 0)"))
        session.commit()
    assert _rows(db_path) == ["after"]
