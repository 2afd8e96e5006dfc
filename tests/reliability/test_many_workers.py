"""Three `warroom worker` processes on PostgreSQL share 1,000 pages due at the same instant.

Every page's email must arrive exactly once. When one worker is SIGKILLed in
the middle, nothing is lost: the messages it had claimed are claimed again
once their lock lapses (WARROOM_WORKER_LOCK_SECONDS, 15 s here instead of 60 s
so the run stays short), and an email it had sent without recording it is
sent again under the same idempotency key (X-Warroom-Key, Message-ID), so
receivers can drop it.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.conftest import PG_PROBLEM, drop_pg_database, fresh_pg_database
from tests.reliability import now, open_pages, organise, outbox_states, report, wait_until
from tests.reliability.conftest import (
    Database,
    Mail,
    Processes,
    clone_pg_database,
    environ,
    shared_dir,
)
from warroom.db import migrate
from warroom.db.engine import make_engine, make_session_factory
from warroom.db.uow import unit_of_work
from warroom.outbox.models import OutboxMessage

pytestmark = [pytest.mark.pg, pytest.mark.e2e, pytest.mark.xdist_group("reliability")]

PAGES = 1000
CHUNK = 100  # pages per transaction while making them
WORKERS = 3
DELIVERY_TIMEOUT = 120.0  # seconds for 1,000 emails without a failure
KILL_AFTER = PAGES // 10  # emails delivered before one worker is killed
LOCK_SECONDS = 15.0  # WARROOM_WORKER_LOCK_SECONDS for the kill run (default 60)
REF = re.compile(r"INC-\d+")


def _make_template(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        sessions = make_session_factory(engine)
        at = now()
        # One level with the demo's 5-minute timeout: no page is exhausted during a run.
        organise(sessions, at, levels=1, timeout=timedelta(minutes=5))
        for _ in range(PAGES // CHUNK):
            open_pages(sessions, at, CHUNK, "Checkout failing")
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """The organisation and 1,000 pages due at one instant, made once, copied per test.

    Made once per run even when the tests land on different xdist workers
    (the module lock in conftest.py runs them one after the other): the first
    makes it and notes its URL, the one that runs the last copy drops it.
    """
    if PG_PROBLEM:
        pytest.skip(f"PostgreSQL unreachable: {PG_PROBLEM}")
    shared = shared_dir(request.config, tmp_path_factory)
    note, done = shared / "template-url", shared / "template-copies"
    users = sum("paged" in getattr(item, "fixturenames", ()) for item in request.session.items)
    if not note.exists():
        name = f"warroom_rel_tpl_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        url = fresh_pg_database(name)
        _make_template(url)
        note.write_text(url)
    url = note.read_text()
    database = Database("postgresql", url, make_session_factory(make_engine(url)))
    yield database
    database.sessions.engine.dispose()
    copies = len(done.read_text().split()) if done.exists() else 0
    if copies >= users:
        drop_pg_database(str(make_url(url).database))
        note.unlink()


@pytest.fixture
def paged(
    request: pytest.FixtureRequest, template: Database, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    with (shared_dir(request.config, tmp_path_factory) / "template-copies").open("a") as f:
        f.write("copy\n")  # counted even if the copy fails, so the template is dropped
    with clone_pg_database(request.config, template) as database:
        yield database


def _start(database: Database, mail: Mail, procs: Processes, root: Path, **settings: str) -> None:
    env = environ(database, mail, root, **settings)
    for _ in range(WORKERS):
        procs.worker(env)


def _state(database: Database, mail: Mail, procs: Processes) -> str:
    states = dict(outbox_states(database.sessions))
    return f"{len(mail.inbox.messages)} emails, outbox {states}\n{procs.tails()}"


def _check_mail(mail: Mail) -> tuple[int, int]:
    """Every incident paged, one key per incident, one Message-ID per key; (mails, duplicates)."""
    by_ref: dict[str, set[str]] = defaultdict(set)
    ids_by_key: dict[str, set[str]] = defaultdict(set)
    messages = [m for m, _ in mail.inbox.snapshot()]
    for message in messages:
        match = REF.search(str(message["Subject"]))
        assert match is not None, message["Subject"]
        key = str(message["X-Warroom-Key"])
        by_ref[match.group()].add(key)
        ids_by_key[key].add(str(message["Message-ID"]))
        assert message["To"] == "alice@example.com"
    assert len(by_ref) == PAGES, f"{PAGES - len(by_ref)} incidents never paged"
    split = {ref: keys for ref, keys in by_ref.items() if len(keys) != 1}
    assert not split, f"an incident's emails carry different keys: {split}"
    assert all(len(ids) == 1 for ids in ids_by_key.values())
    return len(messages), len(messages) - len(ids_by_key)


def _notify_states(database: Database) -> dict[str, int]:
    states = outbox_states(database.sessions)
    return {status: n for (kind, status), n in states.items() if kind == "notify"}


def _settled(database: Database) -> None:
    """Every notification done, every level-1 step fired."""
    states = outbox_states(database.sessions)
    assert _notify_states(database) == {"done": PAGES}, states
    escalate = {status: n for (kind, status), n in states.items() if kind == "escalate"}
    # What is left: each page's exhaustion step, a timeout after level 1.
    assert escalate == {"done": PAGES, "pending": PAGES}, states


def test_three_workers_deliver_each_of_1000_pages_exactly_once(
    paged: Database,
    mail: Mail,
    procs: Processes,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    _start(paged, mail, procs, tmp_path)
    wait_until(
        lambda: len(mail.inbox.messages) >= PAGES,
        DELIVERY_TIMEOUT,
        f"{PAGES} emails",
        state=lambda: _state(paged, mail, procs),
    )
    took = time.monotonic() - started
    time.sleep(1.0)  # a late duplicate would arrive now
    delivered, duplicates = _check_mail(mail)
    report(
        capsys,
        f"3 workers, {PAGES} pages: {delivered} delivered, {duplicates} duplicates, {took:.1f} s",
    )
    assert (delivered, duplicates) == (PAGES, 0)
    _settled(paged)
    assert all(p.process.poll() is None for p in procs.started)
    procs.assert_clean()


def _held_by(database: Database, pid: int) -> int:
    """Pending messages still locked by the worker of process ``pid``."""
    with unit_of_work(database.sessions, write=False) as session:
        query = select(func.count()).where(
            OutboxMessage.status == "pending",
            OutboxMessage.locked_by.like(f"%:{pid}:%"),
        )
        return int(session.scalar(query) or 0)


def test_a_worker_killed_mid_run_loses_no_page_and_resends_under_the_same_key(
    paged: Database,
    mail: Mail,
    procs: Processes,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    _start(paged, mail, procs, tmp_path, worker_lock_seconds=str(LOCK_SECONDS))
    victim = procs.started[0]
    # Escalations go first (they fell due first); kill once emails are flowing.
    wait_until(
        lambda: len(mail.inbox.messages) >= KILL_AFTER,
        DELIVERY_TIMEOUT,
        f"{KILL_AFTER} emails",
        state=lambda: _state(paged, mail, procs),
    )
    procs.kill(victim)
    killed_at = time.monotonic()
    held = _held_by(paged, victim.pid)
    at_kill = len(mail.inbox.messages)
    wait_until(
        lambda: len(mail.inbox.keys()) >= PAGES,
        DELIVERY_TIMEOUT,
        f"{PAGES} distinct emails after the kill",
        every=0.5,
        state=lambda: _state(paged, mail, procs),
    )
    recovered = time.monotonic() - killed_at
    # A message the victim had sent but not recorded is still claimed by it: it is sent
    # again (same key) once its lock lapses, which may be after every key has arrived.
    wait_until(
        lambda: _notify_states(paged) == {"done": PAGES},
        LOCK_SECONDS + DELIVERY_TIMEOUT,
        "every notification settled after the victim's locks lapsed",
        every=0.5,
        state=lambda: _state(paged, mail, procs),
    )
    time.sleep(1.0)
    delivered, duplicates = _check_mail(mail)
    report(
        capsys,
        f"SIGKILL of 1 of 3 workers after {at_kill} emails, {held} claimed messages held: "
        f"{delivered} delivered, {duplicates} duplicates (same key and Message-ID); "
        f"all there {recovered:.1f} s after the kill, {time.monotonic() - started:.1f} s in all",
    )
    assert delivered - duplicates == PAGES
    _settled(paged)
    assert _held_by(paged, victim.pid) == 0
    assert all(p.process.poll() is None for p in procs.started[1:])
