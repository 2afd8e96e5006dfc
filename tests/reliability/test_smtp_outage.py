"""The SMTP server goes away for a while: retries, then delivery, nothing lost, timers on time.

Level 1 of each page was paged a little under a timeout ago (its emails not
sent yet), so level 2 falls due a few seconds into the outage. A `warroom
worker` with a 0.5 s retry base meets first a server answering 451 to every
message, then no server at all; level 2 must still fire on time meanwhile,
and once the server is back every email arrives, once.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.reliability import (
    fired_at,
    level_due,
    now,
    open_fired,
    organise,
    outbox_states,
    report,
    wait_until,
)
from tests.reliability.conftest import Database, Mail, Processes, environ
from warroom.db.uow import unit_of_work
from warroom.incidents.models import TimelineEntry
from warroom.outbox.models import OutboxMessage

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("reliability")]

# Few pages: each failing attempt holds the worker's one lane (the head-of-line
# bug below), and 10 pages' retries held level 2 back 2.5-3.1 s on a loaded box.
PAGES = 3
LEAD = 4.0  # seconds from setup (the worker running) until level 2 falls due
ON_TIME = 2.0  # seconds a step may fire after it fell due
RECOVERY_TIMEOUT = 60.0  # backoff after ~8 s of failures is at most 0.5 * 2**5 s


def _count(database: Database, kind: str) -> int:
    with unit_of_work(database.sessions, write=False) as session:
        query = select(func.count()).where(TimelineEntry.kind == kind)
        return int(session.scalar(query) or 0)


def _max_attempts(database: Database) -> int:
    with unit_of_work(database.sessions, write=False) as session:
        query = select(func.max(OutboxMessage.attempts)).where(OutboxMessage.kind == "notify")
        return int(session.scalar(query) or 0)


def test_an_smtp_outage_is_ridden_out_and_the_next_level_fires_on_time(
    db: Database, mail: Mail, procs: Processes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    organise(db.sessions, now())
    mail.inbox.refuse = True  # first the server answers 451 ...
    procs.worker(environ(db, mail, tmp_path, retry_base_seconds="0.5"), wait=True)
    ids = open_fired(db.sessions, now() - timedelta(seconds=60 - LEAD), PAGES, "Checkout down")
    due = level_due(db.sessions, ids, 2)
    wait_until(lambda: _count(db, "delivery_failed") >= PAGES, 30.0, "refused attempts")
    mail.stop()  # ... then it is gone altogether
    wait_until(
        lambda: len(fired_at(db.sessions, ids, 2)) == PAGES,
        LEAD + 30.0,
        "level 2 to fire",
        state=procs.tails,
    )
    fired = fired_at(db.sessions, ids, 2)
    late = {i: fired[i] - due[i] for i in ids}
    failed = _count(db, "delivery_failed")
    assert mail.inbox.messages == []
    time.sleep(max(0.0, max(due.values()) + 2.0 - time.time()))  # level 2's mail fails too
    outage = time.time()
    mail.inbox.refuse = False
    mail.start()
    wait_until(
        lambda: len(mail.inbox.messages) >= 2 * PAGES,
        RECOVERY_TIMEOUT,
        f"{2 * PAGES} emails after the outage",
        state=lambda: f"{len(mail.inbox.messages)} emails, {dict(outbox_states(db.sessions))}",
    )
    recovered = max(t for _, t in mail.inbox.snapshot()) - outage
    time.sleep(1.0)
    keys = mail.inbox.keys()
    report(
        capsys,
        f"{db.backend}: SMTP outage: {failed} failed attempts, up to "
        f"{_max_attempts(db)} per email; level 2 fired {max(late.values()):.2f} s late at "
        f"most; {len(mail.inbox.messages)} emails, {len(keys)} keys, all in "
        f"{recovered:.1f} s after the server came back",
    )
    assert max(late.values()) <= ON_TIME, late
    assert len(keys) == 2 * PAGES
    assert max(keys.values()) == 1
    assert sorted(str(m["To"]) for m in mail.inbox.messages) == (
        ["alice@example.com"] * PAGES + ["bob@example.com"] * PAGES
    )
    assert {(k, s): n for (k, s), n in outbox_states(db.sessions).items() if k == "notify"} == {
        ("notify", "done"): 2 * PAGES
    }
    procs.assert_clean()


def test_an_email_delayed_past_the_last_timeout_is_still_delivered(
    db: Database, mail: Mail, procs: Processes, tmp_path: Path
) -> None:
    organise(db.sessions, now(), levels=1)
    mail.inbox.refuse = True
    procs.worker(environ(db, mail, tmp_path, retry_base_seconds="0.5"), wait=True)
    # Paged a little under a timeout ago: the policy is exhausted a few seconds in.
    ids = open_fired(db.sessions, now() - timedelta(seconds=60 - LEAD), 1, "Checkout down")
    exhausted_at = max(level_due(db.sessions, ids, 2).values())
    wait_until(lambda: time.time() > exhausted_at + 1.0, LEAD + 5.0, "the policy to run out")
    assert _count(db, "page_exhausted") == 1
    mail.inbox.refuse = False  # the server is back; the next retry should get through
    wait_until(
        lambda: outbox_states(db.sessions)[("notify", "pending")] == 0,
        RECOVERY_TIMEOUT,
        "the email to be settled",
    )
    assert outbox_states(db.sessions)[("notify", "done")] == 1, outbox_states(db.sessions)
    assert len(mail.inbox.messages) == 1


@pytest.fixture
def black_hole() -> Iterator[str]:
    """An SMTP URL whose server accepts connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)  # the kernel completes handshakes; nobody ever answers
        yield f"smtp://127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_hung_smtp_server_does_not_hold_back_the_next_level(
    db: Database, mail: Mail, procs: Processes, tmp_path: Path, black_hole: str
) -> None:
    organise(db.sessions, now())
    env = environ(db, mail, tmp_path, smtp_url=black_hole, retry_base_seconds="0.5")
    worker = procs.worker(env, wait=True)
    ids = open_fired(db.sessions, now() - timedelta(seconds=60 - LEAD), 3, "Checkout down")
    due = max(level_due(db.sessions, ids, 2).values())
    try:
        time.sleep(max(0.0, due + ON_TIME + 1.0 - time.time()))
        fired = fired_at(db.sessions, ids, 2)
        assert len(fired) == len(ids), f"level 2 of {len(ids) - len(fired)} pages not fired"
        assert max(fired.values()) - due <= ON_TIME
    finally:
        # SIGTERM would wait for the batch's SMTP timeouts (3 x 15 s): kill it now.
        procs.kill(worker)
