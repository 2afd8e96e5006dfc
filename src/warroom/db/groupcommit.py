"""Group commit: many concurrent small writes share one transaction.

Request handlers submit jobs and await them; one writer thread drains up to
``max_batch`` waiting jobs, runs them in one transaction, commits once, and
only then answers every waiting request. A 2xx therefore still means
"committed", while the fsync and round-trips are paid once per batch.

On SQLite a batch of small jobs (single events) is written on the event
loop's own thread whenever no other writer holds the lock (``inline``):
SQLite answers in microseconds, and handing each batch to a thread and back
cost a quarter of the throughput in wake-ups and GIL hand-offs (each driver
call releases the GIL). A batch that would have to wait for the lock goes to
the writer thread instead, and so does every batch while that thread still has
work, so batches commit in order. Batches holding a large job (a webhook of
thousands of alerts) go to the thread too, where the loop still gets its
turns meanwhile; so does every batch on PostgreSQL, whose round trips would
stall the loop.

A bad event must not spoil its neighbours. Jobs refuse bad input by raising
one of the ``refusals`` before they write anything, so the batch simply goes
on. Any other failure rolls the batch back and runs it again with a SAVEPOINT
around each job, which isolates the culprit at a cost paid only then.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, SessionTransaction

from warroom.db.engine import SessionFactory
from warroom.db.filelock import LockTimeout, WriteLock

log = logging.getLogger(__name__)
Job = Callable[[Session, datetime], Any]
# Entered once per batch before its jobs and left after them, before the commit,
# with the notes of the jobs that named it.
BatchScope = Callable[[Session, datetime, list[Any]], AbstractContextManager[None]]


class TransientError(Exception):
    """The write did not happen but may succeed if retried (database busy or down)."""


class _Busy(Exception):
    """Another writer holds the lock; nothing of the batch ran (writes that do not wait)."""


class _RetryIsolated(Exception):
    """A job failed in a way that may have left writes behind: redo with savepoints."""


@dataclass
class _Pending:
    job: Job
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    scope: BatchScope | None = None
    note: Any = None
    small: bool = False


Settlement = tuple[asyncio.Future[Any], bool, Any]  # a job's future, ok, result or error


class GroupCommitter:
    """Runs submitted jobs on one thread, committing them in batches."""

    def __init__(
        self,
        sessions: SessionFactory,
        now: Callable[[], datetime],
        *,
        max_batch: int = 256,
        refusals: tuple[type[Exception], ...] = (),
        write_lock: WriteLock | None = None,
        inline: bool = False,
    ) -> None:
        self._sessions = sessions
        self._inline = inline
        self._write_lock = write_lock
        self._now = now
        self._max_batch = max_batch
        self._refusals = refusals
        self._queue: queue.SimpleQueue[list[_Pending] | None] = queue.SimpleQueue()
        # per event loop (each touched only by its own thread): jobs of the current turn
        self._staged: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._queued = 0  # hand-overs the writer thread has not finished writing

    async def submit(
        self, job: Job, *, scope: BatchScope | None = None, note: Any = None, small: bool = False
    ) -> Any:
        """Run ``job(session, now)`` in the next batch; return its result once committed.

        ``small``: the job is quick (one event), so its batch may be written on the event
        loop's own thread.

        ``scope(session, now, notes)`` is entered once per batch before its jobs and left
        after them, with the ``note`` of each job of the batch that names it: one query
        can then answer what each job would ask on its own, one statement write what each
        would write. It may fill caches and defer writes, and is skipped when a failed
        batch is run again job by job.
        """
        self._ensure_started()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        staged = self._staged.get(loop)
        if staged is None:
            # Jobs submitted in one turn of the event loop go to the writer together
            # at its end: waking the writer thread once per job cost the loop as much
            # as parsing the request.
            staged = self._staged[loop] = []
            loop.call_soon(self._hand_over, loop)
        staged.append(_Pending(job, future, loop, scope, note, small))
        return await future

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        staged = self._staged.pop(loop, None)
        if staged and self._inline and not self._queued and all(p.small for p in staged):
            staged = self._write_here(staged)
        if staged:
            self._to_writer(staged)

    def _to_writer(self, staged: list[_Pending]) -> None:
        with self._lock:
            self._queued += 1
        self._queue.put(staged)

    def _write_here(self, staged: list[_Pending]) -> list[_Pending]:
        """Write on this thread, the loop's, while nobody else writes; returns the jobs
        left for the writer thread (from the first batch that would have had to wait)."""
        for start in range(0, len(staged), self._max_batch):
            try:
                settlements = self._write(staged[start : start + self._max_batch], nowait=True)
            except _Busy:
                return staged[start:]
            _settle_all(settlements)
        return []

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """Finish the batches already queued, then stop the writer thread."""
        for loop in list(self._staged):  # submitted in a loop turn that never ended
            staged = self._staged.pop(loop, None)
            if staged:
                self._to_writer(staged)  # not inline: this need not be the loop's thread
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, taken = list(first), 1
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.extend(item)
                taken += 1
            # One loop turn can hand over more than a batch: keep transactions bounded.
            settlements = []
            for start in range(0, len(batch), self._max_batch):
                settlements += self._write(batch[start : start + self._max_batch], nowait=False)
            with self._lock:  # committed: the loops may write on their own again
                self._queued -= taken
            self._deliver(batch, settlements)

    def _write(self, batch: list[_Pending], *, nowait: bool) -> list[Settlement]:
        try:
            try:
                outcomes = self._attempt(batch, isolated=False, nowait=nowait)
            except _RetryIsolated:
                # Isolated runs catch every job's error themselves, so this cannot loop.
                outcomes = self._attempt(batch, isolated=True, nowait=nowait)
        except _Busy:
            raise
        except Exception:
            # The plumbing itself failed (the lock file, the session): every waiting
            # request must still be answered, and the writer must live on.
            log.exception("group commit of %d jobs failed", len(batch))
            failure = TransientError("the event could not be stored; retry")
            outcomes = [(False, failure)] * len(batch)
        return [(p.future, ok, value) for p, (ok, value) in zip(batch, outcomes, strict=True)]

    @staticmethod
    def _deliver(batch: list[_Pending], settlements: list[Settlement]) -> None:
        """Settle the futures of other threads' loops, through each loop."""
        # One wake-up per event loop, not per request: each call_soon_threadsafe
        # writes to the loop's self-pipe, a system call that costs as much as
        # the job itself on the hot path.
        by_loop: dict[asyncio.AbstractEventLoop, list[Settlement]] = {}
        for pending, settlement in zip(batch, settlements, strict=True):
            by_loop.setdefault(pending.loop, []).append(settlement)
        for loop, settled in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle_all, settled)
            except RuntimeError:
                # That loop closed while its jobs ran: nobody awaits them any more,
                # and the writer must live on for the other loops.
                log.warning("group commit: %d results for a closed event loop", len(settled))

    def _attempt(
        self, batch: list[_Pending], *, isolated: bool, nowait: bool
    ) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]]
        if nowait:
            session = self._sessions.writer_that_does_not_wait()
        else:
            session = self._sessions(write=True)
        try:
            with self._locked(session, nowait):
                now = self._now()
                if isolated:
                    outcomes = [self._run_one(session, p.job, now) for p in batch]
                else:
                    with self._scopes(session, now, batch):
                        outcomes = [self._run_fast(session, p.job, now) for p in batch]
                session.commit()
        except _RetryIsolated:
            session.rollback()
            raise
        except (OperationalError, InterfaceError, DBAPIError, LockTimeout) as error:
            session.rollback()
            log.warning("group commit of %d jobs failed: %s", len(batch), error)
            failure = TransientError("the database is not available; retry")
            outcomes = [(False, failure)] * len(batch)
        finally:
            session.close()
        return outcomes

    @contextmanager
    def _locked(self, session: Session, nowait: bool) -> Iterator[None]:
        """The lock file (several processes) and the database's write lock, begun.

        ``nowait``: raise _Busy instead of waiting for either, before any job ran.
        """
        try:
            with self._write_lock.held(wait=not nowait) if self._write_lock else nullcontext():
                try:
                    session.connection()  # BEGIN (IMMEDIATE on SQLite: the write lock)
                except OperationalError:
                    if nowait:
                        raise _Busy from None
                    raise
                yield
        except LockTimeout:
            if nowait:
                raise _Busy from None
            raise

    @staticmethod
    @contextmanager
    def _scopes(session: Session, now: datetime, batch: list[_Pending]) -> Iterator[None]:
        """The batch scopes its jobs named, around them; a scope's own failure (not the
        database's) sends the batch to be run again job by job, without scopes."""
        notes: dict[BatchScope, list[Any]] = {}
        for pending in batch:
            if pending.scope is not None:
                notes.setdefault(pending.scope, []).append(pending.note)
        with ExitStack() as stack:
            try:
                for scope, noted in notes.items():
                    stack.enter_context(scope(session, now, noted))
            except (OperationalError, InterfaceError):
                raise
            except Exception as error:
                raise _RetryIsolated from error
            yield  # the jobs; their failure leaves the scopes with it (dropping what they hold)
            try:
                stack.close()  # what the scopes deferred is written now
            except (OperationalError, InterfaceError):
                raise
            except Exception as error:  # a conflict or a value refused: job by job
                raise _RetryIsolated from error

    def _run_fast(self, session: Session, job: Job, now: datetime) -> tuple[bool, Any]:
        try:
            return True, job(session, now)
        except self._refusals as error:
            return False, error
        except (OperationalError, InterfaceError):
            raise
        except Exception as error:
            raise _RetryIsolated from error

    @staticmethod
    def _run_one(session: Session, job: Job, now: datetime) -> tuple[bool, Any]:
        savepoint = session.begin_nested()
        try:
            result = job(session, now)
            savepoint.commit()
            return True, result
        except IntegrityError:
            # Another process wrote the same key first; a retry will see its row.
            _roll_back(session, savepoint)
            return False, TransientError("a concurrent write conflicted; retry")
        except (OperationalError, InterfaceError):
            # The connection or the database itself failed: the whole batch is lost.
            _roll_back(session, savepoint)
            raise
        except DataError as error:
            # A value this one job carries cannot be stored; its neighbours can.
            _roll_back(session, savepoint)
            return False, error
        except Exception as error:  # the job's own error goes back to its caller
            _roll_back(session, savepoint)
            return False, error


def _roll_back(session: Session, savepoint: SessionTransaction) -> None:
    """Undo one job; caches that jobs keep in ``session.info`` may describe undone rows."""
    savepoint.rollback()
    session.info.clear()


def _settle_all(settlements: list[Settlement]) -> None:
    for future, ok, value in settlements:
        if future.cancelled():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
