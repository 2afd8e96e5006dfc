"""/api/v1/statuspage/subscribers: the admins' view of status mail subscribers, and removal.

Subscribers are made through the service layer (sign-up, confirmation and
bounces are tested through the public pages in test_subscribers.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.http.api import People
from tests.http.statuspage import API, add_component, ok
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.outbox.models import OutboxMessage
from warroom.statuspage import subscribers
from warroom.statuspage.models import Subscriber

SUBSCRIBERS = f"{API}/subscribers"


def _make(
    sessions: SessionFactory,
    clock: FixedClock,
    email: str,
    *,
    components: list[str] | None = None,
    confirmed: bool = True,
    bounces: int = 0,
) -> int:
    with unit_of_work(sessions) as session:
        made = subscribers.subscribe(
            session=session, now=clock.now(), email=email, components=components
        )
        if confirmed:
            subscribers.confirm(session=session, now=clock.now(), subscriber=made)
        for _ in range(bounces):
            subscribers.count_bounce(
                session=session,
                now=clock.now(),
                subscriber_id=made.id,
                delivered=False,
                bounced=True,
            )
        return made.id


@pytest.fixture
def listed(
    client: TestClient, people: People, sessions: SessionFactory, clock: FixedClock
) -> dict[str, Any]:
    """Four subscribers: confirmed to everything, confirmed to API, pending, suppressed."""
    api = add_component(client, people.admin, "API")["id"]
    ids = {
        "all": _make(sessions, clock, "all@example.com"),
        "api": _make(sessions, clock, "api@example.com", components=[api]),
        "pending": _make(sessions, clock, "pending@example.com", confirmed=False),
        "gone": _make(sessions, clock, "gone@example.com", bounces=subscribers.BOUNCE_LIMIT),
    }
    return {"ids": ids, "api": api}


def test_admins_see_each_subscriber_and_where_it_stands(client, people, listed, clock):
    rows = ok(client.get(SUBSCRIBERS, headers=people.admin), 200)
    by_email = {row["email"]: row for row in rows}
    assert [row["id"] for row in rows] == sorted(listed["ids"].values())
    assert {e: r["state"] for e, r in by_email.items()} == {
        "all@example.com": "confirmed",
        "api@example.com": "confirmed",
        "pending@example.com": "pending",
        "gone@example.com": "suppressed",
    }
    assert by_email["all@example.com"]["components"] is None
    assert by_email["api@example.com"]["components"] == [listed["api"]]
    assert by_email["gone@example.com"]["bounces"] == subscribers.BOUNCE_LIMIT
    assert by_email["gone@example.com"]["suppressed_at"] == "2026-11-27T10:00:00Z"
    assert by_email["pending@example.com"]["confirmed_at"] is None


@pytest.mark.parametrize(
    ("state", "emails"),
    [
        ("confirmed", ["all@example.com", "api@example.com"]),
        ("pending", ["pending@example.com"]),
        ("suppressed", ["gone@example.com"]),
    ],
)
def test_the_list_filters_by_state(client, people, listed, state, emails):
    rows = ok(client.get(SUBSCRIBERS, params={"state": state}, headers=people.admin), 200)
    assert [row["email"] for row in rows] == emails


def test_the_list_pages_on_by_id(client, people, listed):
    first = ok(client.get(SUBSCRIBERS, params={"limit": 3}, headers=people.admin), 200)
    rest = ok(client.get(SUBSCRIBERS, params={"after": first[-1]["id"]}, headers=people.admin), 200)
    assert [r["id"] for r in first + rest] == sorted(listed["ids"].values())
    assert len(first) == 3


@pytest.mark.parametrize("who", ["responder", "viewer"])
def test_addresses_are_for_admins_only(client, people, listed, who):
    headers = getattr(people, who)
    assert client.get(SUBSCRIBERS, headers=headers).status_code == 403
    gone = listed["ids"]["all"]
    assert client.delete(f"{SUBSCRIBERS}/{gone}", headers=headers).status_code == 403
    assert client.get(SUBSCRIBERS).status_code == 401


@pytest.mark.parametrize(
    "params", [{"state": "bounced"}, {"limit": 0}, {"limit": 1001}, {"after": -1}, {"after": "x"}]
)
def test_bad_list_parameters_are_422(client, people, params):
    assert client.get(SUBSCRIBERS, params=params, headers=people.admin).status_code == 422


def test_removing_an_address_deletes_it_and_its_id_is_never_given_out_again(
    client, people, listed, sessions, clock
):
    pending = listed["ids"]["pending"]  # its confirmation mail is queued
    shown = ok(client.delete(f"{SUBSCRIBERS}/{pending}", headers=people.admin), 200)
    assert (shown["id"], shown["email"]) == (pending, "pending@example.com")
    assert client.delete(f"{SUBSCRIBERS}/{pending}", headers=people.admin).status_code == 404
    assert client.delete(f"{SUBSCRIBERS}/0", headers=people.admin).status_code == 422
    emails = [r["email"] for r in ok(client.get(SUBSCRIBERS, headers=people.admin), 200)]
    assert "pending@example.com" not in emails
    with unit_of_work(sessions, write=False) as session:
        assert session.get(Subscriber, pending) is None
        queued = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == subscribers.SUBSCRIBER_MAIL)
        ).all()
    # Still queued: the worker finds no subscriber for it and cancels it instead
    # of sending (test_subscribers.py follows such a mail through the worker)...
    assert any(m.payload["subscriber_id"] == pending for m in queued)
    # ... which holds only while no later sign-up takes the id (the newest one here).
    newest = max(listed["ids"].values())
    ok(client.delete(f"{SUBSCRIBERS}/{newest}", headers=people.admin), 200)
    assert _make(sessions, clock, "newcomer@example.com") > newest
