"""Dead letters are visible through the API: deliveries that gave up, with their last error."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.http.api import People
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.outbox import service as outbox
from warroom.outbox.models import OutboxMessage
from warroom.outbox.rules import Result


def test_dead_letters_are_listed_for_responders(
    client: TestClient, people: People, sessions: SessionFactory, clock: FixedClock
) -> None:
    now = clock.now()
    with unit_of_work(sessions) as session:
        made = outbox.enqueue(
            session=session, now=now, kind="notify", key="k-dead", due_at=now, payload={"a": 1}
        )
        message = session.get(OutboxMessage, made)
        assert message is not None
        outbox.settle(
            session=session, now=now, message=message, result=Result.dead("SMTP 550: no such user")
        )
        alive = outbox.enqueue(
            session=session,
            now=now,
            kind="notify",
            key="k-live",
            due_at=now + timedelta(minutes=1),
            payload={},
        )
        assert alive is not None
    dead = client.get("/api/v1/outbox", headers=people.responder).json()
    assert [(m["key"], m["status"], m["last_error"]) for m in dead] == [
        ("k-dead", "dead", "SMTP 550: no such user")
    ]
    pending = client.get("/api/v1/outbox?status=pending", headers=people.responder).json()
    assert [m["key"] for m in pending] == ["k-live"]
    assert client.get("/api/v1/outbox", headers=people.viewer).status_code == 403
    assert client.get("/api/v1/outbox?status=bogus", headers=people.responder).status_code == 422
