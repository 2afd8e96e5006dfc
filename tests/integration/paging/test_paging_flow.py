"""Paging end to end below HTTP: policy → page → worker → real SMTP server → ack."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.factories import make_service, make_user
from tests.smtp import Inbox, body_of, smtp_server
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.escalation import policies
from warroom.escalation import service as paging
from warroom.incidents import service as incident_service
from warroom.incidents.schemas import IncidentCreate
from warroom.notify import service as notify_service
from warroom.notify.rules import verify_ack_token
from warroom.oncall import service as oncall_service
from warroom.outbox import service as outbox
from warroom.outbox.rules import Status
from warroom.settings import Settings
from warroom.users import service as user_service
from warroom.worker import main as worker_main
from warroom.worker.cycle import Worker

SECRET = "s" * 40


@pytest.fixture
def mail() -> Iterator[tuple[str, Inbox]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def worker(sessions: SessionFactory, clock: FixedClock, mail: tuple[str, Inbox]) -> Worker:
    settings = Settings(secret_key=SECRET, smtp_url=mail[0], retry_base_seconds=10)
    return worker_main.build(settings, sessions, clock)


def drain(worker: Worker) -> None:
    """Run the worker until nothing is due at the clock's time."""
    for _ in range(50):
        if worker.run_once() == 0:
            return
    raise AssertionError("the worker never went idle")


def organisation(sessions: SessionFactory, clock: FixedClock) -> None:
    now = clock.now()
    with unit_of_work(sessions) as session:
        alice, bob = make_user(session, now, "alice"), make_user(session, now, "bob")
        for user in (alice, bob):
            notify_service.add_contact(
                session=session, now=now, user=user, kind="email", target=user.email
            )
        oncall_service.save(
            session=session,
            now=now,
            slug="ops",
            name="Ops",
            time_zone="Europe/London",
            layers=[
                {
                    "participants": ["alice"],
                    "shift_count": 1,
                    "shift_unit": "weeks",
                    "handoff": "09:00",
                    "start": now - timedelta(days=3),
                }
            ],
        )
        policy, _ = policies.save(
            session=session,
            now=now,
            slug="checkout",
            name="Checkout",
            repeat=0,
            levels=[
                {"targets": [{"kind": "schedule", "ref": "ops"}], "timeout_seconds": 60},
                {"targets": [{"kind": "user", "ref": "bob"}], "timeout_seconds": 60},
            ],
        )
        policies.attach(
            session=session, service=make_service(session, now, "checkout"), policy=policy
        )


def declare(sessions: SessionFactory, clock: FixedClock) -> int:
    with unit_of_work(sessions) as session:
        incident = incident_service.declare(
            session=session,
            now=clock.now(),
            actor=None,
            incident_in=IncidentCreate(title="Checkout failing", severity=1, services=["checkout"]),
        )
        assert paging.start(session=session, now=clock.now(), incident=incident) is not None
        return incident.id


def kinds(sessions: SessionFactory, incident_id: int) -> list[str]:
    with unit_of_work(sessions, write=False) as session:
        incident = incident_service.get_by_ref(session=session, ref=f"INC-{incident_id}")
        return [e.kind for e in incident_service.timeline(session=session, incident=incident)]


def test_level_one_is_emailed_at_once_and_level_two_after_the_timeout(
    sessions: SessionFactory, clock: FixedClock, worker: Worker, mail: tuple[str, Inbox]
) -> None:
    organisation(sessions, clock)
    incident_id = declare(sessions, clock)
    drain(worker)
    _, inbox = mail
    [first] = inbox.wait_for(1)
    assert first["To"] == "alice@example.com"
    assert f"INC-{incident_id}: Checkout failing" in first["Subject"]
    assert first["Message-ID"].startswith("<")
    assert "page_started" in kinds(sessions, incident_id)
    assert "delivered" in kinds(sessions, incident_id)

    clock.advance(timedelta(seconds=59))
    drain(worker)
    assert len(inbox.messages) == 1  # the timeout has not run out yet
    clock.advance(timedelta(seconds=2))
    drain(worker)
    messages = inbox.wait_for(2)
    assert messages[1]["To"] == "bob@example.com"
    clock.advance(timedelta(minutes=5))
    drain(worker)
    assert len(inbox.messages) == 2
    assert "page_exhausted" in kinds(sessions, incident_id)


def test_the_link_in_the_page_acknowledges_and_stops_escalation(
    sessions: SessionFactory, clock: FixedClock, worker: Worker, mail: tuple[str, Inbox]
) -> None:
    organisation(sessions, clock)
    incident_id = declare(sessions, clock)
    drain(worker)
    [page_mail] = mail[1].wait_for(1)
    token = re.search(r"/ack/(\S+)", body_of(page_mail))
    assert token is not None
    page_id, handle = verify_ack_token(SECRET.encode(), token.group(1), clock.now())
    assert handle == "alice"
    with unit_of_work(sessions) as session:
        incident = incident_service.get_by_ref(session=session, ref=f"INC-{incident_id}")
        alice = user_service.get_by_handle(session=session, handle="alice")
        incident_service.acknowledge(
            session=session, now=clock.now(), actor=alice, incident=incident
        )
        assert paging.stop_for_incident(
            session=session, now=clock.now(), incident=incident, actor=alice, why="test"
        )
    clock.advance(timedelta(minutes=10))
    drain(worker)
    assert len(mail[1].messages) == 1  # bob was never paged
    with unit_of_work(sessions, write=False) as session:
        cancelled = outbox.list_messages(session=session, status=Status.CANCELLED)
        assert any(m.key.startswith(f"page-{page_id}-") for m in cancelled)
    assert "page_stopped" in kinds(sessions, incident_id)


def test_smtp_refusals_are_retried_then_delivered_with_the_same_message_id(
    sessions: SessionFactory, clock: FixedClock, worker: Worker, mail: tuple[str, Inbox]
) -> None:
    organisation(sessions, clock)
    _, inbox = mail
    inbox.refuse = True
    incident_id = declare(sessions, clock)
    drain(worker)
    assert inbox.messages == []
    assert "delivery_failed" in kinds(sessions, incident_id)
    inbox.refuse = False
    clock.advance(timedelta(seconds=11))  # past the first backoff (at most the 10 s base)
    drain(worker)
    [delivered] = inbox.wait_for(1)
    assert delivered["To"] == "alice@example.com"
    assert "delivered" in kinds(sessions, incident_id)
