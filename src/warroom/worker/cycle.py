"""The worker cycle: claim due outbox messages, run their jobs, settle them.

Every step is its own unit of work. On PostgreSQL any number of workers
claim with SKIP LOCKED; on SQLite, whose writers queue on one lock anyway,
one worker holds the 'outbox' lease and the others stand by, taking over
when it lapses. A claimed message carries a lock that expires, so a worker
killed mid-job loses nothing: its messages are claimed again later.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta
from uuid import uuid4

from warroom.clock import Clock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.notify.service import NOTIFY
from warroom.outbox import service as outbox
from warroom.outbox.rules import Result
from warroom.statuspage.subscribers import SUBSCRIBER_MAIL
from warroom.worker.jobs import Jobs

log = logging.getLogger(__name__)
LEASE = "outbox"
MAIL_KINDS = (NOTIFY, SUBSCRIBER_MAIL)
DELIVERY_BATCH = 4


def worker_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid4().hex[:6]}"


class Worker:
    """Runs the job cycle until stopped."""

    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        jobs: Jobs,
        *,
        poll_seconds: float = 0.25,
        batch: int = 20,
        lock_for: timedelta = timedelta(seconds=60),
        lease_ttl: timedelta = timedelta(seconds=10),
        name: str | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.jobs = jobs
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.lock_for = lock_for
        self.lease_ttl = lease_ttl
        self.name = name or worker_name()
        self.single_holder = sessions.engine.dialect.name == "sqlite"
        self.wake = threading.Event()
        self.busy = {True: False, False: False}  # by lane (timers?): the last claim found work

    def run_once(self) -> int:
        """Fire due timers, then deliver a few messages, firing timers between them.

        Timers (escalation steps, reminders) are cheap and must be on time;
        a delivery may wait on a slow server, so deliveries go a few at a
        time and never hold a due escalation back for long.
        """
        done = self._fire_timers()
        deliveries = self._claim(timers=False, limit=DELIVERY_BATCH)
        for message_id in deliveries:
            self._process(message_id)
            done += self._fire_timers()
        return done + len(deliveries)

    def _claim(self, *, timers: bool, limit: int) -> list[int]:
        """Claim due messages of one lane; empty when this SQLite worker lacks the lease."""
        now = self.clock.now()
        kinds, not_kinds = (None, MAIL_KINDS) if timers else (MAIL_KINDS, ())
        # Idle, a worker asks several times a second: a read answers, where a claim
        # takes the write lock and writes the lease (a fraction of the idle CPU).
        # Busy (the last claim of the lane found work), it claims straight away.
        if not self.busy[timers]:
            with unit_of_work(self.sessions, write=False) as session:
                if not outbox.any_due(session=session, now=now, kinds=kinds, not_kinds=not_kinds):
                    return []
        with unit_of_work(self.sessions, write=True) as session:
            if self.single_holder and not outbox.lease(
                session=session, now=now, name=LEASE, holder=self.name, ttl=self.lease_ttl
            ):
                self.busy[timers] = False
                return []
            claimed = outbox.claim(
                session=session,
                now=now,
                worker=self.name,
                limit=limit,
                lock_for=self.lock_for,
                not_kinds=not_kinds,
                kinds=kinds,
            )
        self.busy[timers] = bool(claimed)
        return claimed

    def _fire_timers(self) -> int:
        """Claim and run a batch of due timer jobs; how many were claimed."""
        ids = self._claim(timers=True, limit=self.batch)
        if ids and not self._run_together(ids):
            for message_id in ids:  # one by one, so the failing job is retried alone
                self._process(message_id)
        return len(ids)

    def _run_together(self, ids: list[int]) -> bool:
        """Run claimed timer jobs in one transaction; False (nothing kept) if one raised.

        One commit for the batch instead of two per job: on PostgreSQL each is a
        round trip and a WAL flush, and 10,000 timers due in a minute need every
        millisecond. Jobs are idempotent, so running them again alone is safe.
        """
        now = self.clock.now()
        try:
            with unit_of_work(self.sessions, write=True) as session:
                for message in outbox.held_many(session=session, message_ids=ids, worker=self.name):
                    result = self.jobs.run(session, now, message)
                    outbox.settle(session=session, now=now, message=message, result=result)
        except Exception:
            log.warning("a batch of %d timer jobs failed; running them one by one", len(ids))
            return False
        return True

    def release(self) -> None:
        """Give back the SQLite lease so the next worker starts at once."""
        if not self.single_holder:
            return
        try:
            with unit_of_work(self.sessions, write=True) as session:
                outbox.release(session=session, now=self.clock.now(), name=LEASE, holder=self.name)
        except Exception:
            log.exception("could not release the worker lease; it lapses by itself")

    def run(self, stop: threading.Event) -> None:
        """Cycle until ``stop`` is set; sleep ``poll_seconds`` when there is nothing due.

        Timers also get a thread of their own, so a delivery stuck on a server
        that never answers cannot hold the next escalation level back.
        """
        timers = threading.Thread(target=self._timer_loop, args=(stop,), name="timers", daemon=True)
        timers.start()
        while not stop.is_set():
            try:
                # Timers here too: the timer thread alone fired fewer than PostgreSQL
                # workers can claim side by side (SKIP LOCKED) in a burst.
                claimed = self.run_once()
            except Exception:
                log.exception("worker cycle failed; trying again shortly")
                claimed = 0
            if claimed == 0:
                self.wake.wait(self.poll_seconds)
                self.wake.clear()
        timers.join(timeout=10)
        self.release()

    def _timer_loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                fired = self._fire_timers()
            except Exception:
                log.exception("timer cycle failed; trying again shortly")
                fired = 0
            if fired == 0:
                stop.wait(self.poll_seconds)

    def _process(self, message_id: int) -> None:
        try:
            with unit_of_work(self.sessions, write=False) as session:
                message = outbox.held(session=session, message_id=message_id, worker=self.name)
                kind = message.kind if message else None
            if kind in MAIL_KINDS:
                self._notify(message_id)
            elif kind is not None:
                self._run(message_id)
        except Exception as error:
            log.exception("job %s failed", message_id)
            self._give_back(message_id, error)

    def _run(self, message_id: int) -> None:
        now = self.clock.now()
        with unit_of_work(self.sessions, write=True) as session:
            message = outbox.held(session=session, message_id=message_id, worker=self.name)
            if message is not None:
                result = self.jobs.run(session, now, message)
                outbox.settle(session=session, now=now, message=message, result=result)

    def _notify(self, message_id: int) -> None:
        now = self.clock.now()
        with unit_of_work(self.sessions, write=False) as session:
            message = outbox.held(session=session, message_id=message_id, worker=self.name)
            prepared = self.jobs.prepare(session, now, message) if message else None
        if prepared is None:
            return
        delivery = None if isinstance(prepared, Result) else self.jobs.deliver(prepared)
        now = self.clock.now()
        with unit_of_work(self.sessions, write=True) as session:
            message = outbox.held(session=session, message_id=message_id, worker=self.name)
            if message is None:
                return  # our lock lapsed and another worker took over
            if isinstance(prepared, Result):
                result = prepared
            else:
                assert delivery is not None
                result = self.jobs.record(session, now, message, prepared, delivery)
            outbox.settle(session=session, now=now, message=message, result=result)

    def _give_back(self, message_id: int, error: Exception) -> None:
        """A job crashed: count the attempt and retry it later instead of spinning on it."""
        now = self.clock.now()
        try:
            with unit_of_work(self.sessions, write=True) as session:
                message = outbox.held(session=session, message_id=message_id, worker=self.name)
                if message is not None:
                    wait = timedelta(seconds=min(3600, 5 * 2 ** min(message.attempts, 10)))
                    result = (
                        Result.dead(f"job failed: {error}")
                        if message.attempts + 1 >= self.jobs.max_attempts
                        else Result.retry(f"job failed: {error}", wait)
                    )
                    outbox.settle(session=session, now=now, message=message, result=result)
        except Exception:
            log.exception("could not record the failure of job %s", message_id)
