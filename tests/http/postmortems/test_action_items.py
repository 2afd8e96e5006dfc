"""Action items: owner and due date required, closing with a reason, overdue lists, reminders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.http.api import People, error_fields
from tests.http.postmortems import (
    API,
    action_body,
    add_action,
    close_action,
    ok,
    postmortem,
    resolved_incident,
)
from tests.smtp import Inbox, body_of, smtp_server
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.outbox.models import OutboxMessage
from warroom.settings import Settings
from warroom.worker import main as worker_main
from warroom.worker.cycle import Worker


def listed(client: TestClient, people: People, **params: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = ok(
        client.get(f"{API}/actions", params=params, headers=people.viewer)
    )
    return result


def test_an_action_item_is_added_with_all_its_fields(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    item = add_action(
        client,
        people.responder,
        ref,
        title="  Alert on pool saturation  ",
        category="detect",
        priority="P1",
        owner="carol",
        due="2026-12-11",
        tracker_url="https://tracker.example.com/OPS-7",
    )
    assert {k: v for k, v in item.items() if k != "id"} == {
        "incident": ref,
        "title": "Alert on pool saturation",
        "category": "detect",
        "priority": "P1",
        "owner": "carol",
        "due": "2026-12-11",
        "status": "open",
        "reason": "",
        "tracker_url": "https://tracker.example.com/OPS-7",
        "overdue": False,
        "created_at": "2026-11-27T10:47:00Z",
        "closed_at": None,
    }
    assert listed(client, people) == [item]
    assert postmortem(client, people.viewer, ref)["action_items"] == [item]
    entries = ok(client.get(f"{API}/incidents/{ref}/timeline", headers=people.viewer))
    added = [(e["actor"], e["text"]) for e in entries if e["kind"] == "action_added"]
    assert added == [
        ("rita", "Action item: Detect: Alert on pool saturation (P1, @carol, by 2026-12-11)")
    ]


@pytest.mark.parametrize("missing", ["owner", "due", "title", "category", "priority"])
def test_every_field_but_the_tracker_is_required(
    client: TestClient, people: People, clock: FixedClock, missing: str
) -> None:
    ref = resolved_incident(client, people, clock)
    body = action_body()
    del body[missing]
    response = client.post(f"{API}/incidents/{ref}/actions", json=body, headers=people.responder)
    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == [missing]
    assert response.json()["detail"] == f"{missing}: Field required"
    assert listed(client, people) == []


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"owner": "nobody"}, "owner", "unknown user 'nobody'"),
        ({"owner": ""}, "owner", "owner: "),
        ({"owner": None}, "owner", "owner: "),
        ({"due": None}, "due", "due: "),
        ({"due": "12/04"}, "due", "due: "),
        ({"due": "2026-02-30"}, "due", "due: "),
        ({"due": "2026-11-26"}, "due", "the due date is before the incident began"),
        ({"category": "bug"}, "category", "category: Input should be 'fix', 'detect'"),
        ({"category": "Fix"}, "category", "category: "),
        ({"priority": "P3"}, "priority", "priority: Input should be 'P0', 'P1' or 'P2'"),
        ({"priority": "high"}, "priority", "priority: "),
        ({"title": "   "}, "title", "title: "),
        ({"title": "x" * 301}, "title", "title: "),
        ({"title": "nul\x00"}, "title", "title: "),
        ({"tracker_url": "javascript:alert(1)"}, "tracker_url", "tracker_url: "),
        ({"tracker_url": "tracker.example.com/1"}, "tracker_url", "tracker_url: "),
        ({"assignee": "bob"}, "assignee", "assignee: "),
    ],
)
def test_bad_action_items_are_refused(
    client: TestClient,
    people: People,
    clock: FixedClock,
    fields: dict[str, Any],
    field: str,
    says: str,
) -> None:
    ref = resolved_incident(client, people, clock)
    body = action_body(**fields)
    response = client.post(f"{API}/incidents/{ref}/actions", json=body, headers=people.responder)
    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == [field]
    assert response.json()["detail"].startswith(says)
    assert listed(client, people) == []
    kinds = [
        e["kind"] for e in ok(client.get(f"{API}/incidents/{ref}/timeline", headers=people.viewer))
    ]
    assert "action_added" not in kinds


def test_only_responders_add_and_close_action_items(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    url = f"{API}/incidents/{ref}/actions"
    refused = client.post(url, json=action_body(), headers=people.viewer)
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"] == "@vic is a viewer; this needs the responder role or higher"
    assert client.post(url, json=action_body()).status_code == 401
    assert listed(client, people) == []
    item = add_action(client, people.bob, ref)
    assert close_action(client, people.viewer, item["id"]).status_code == 403
    assert listed(client, people)[0]["status"] == "open"
    unknown = client.post(
        f"{API}/incidents/INC-9999/actions", json=action_body(), headers=people.responder
    )
    assert unknown.status_code == 404, unknown.text


def test_closing_done_or_wont_do_with_a_reason(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    fix = add_action(client, people.responder, ref)
    skip = add_action(client, people.responder, ref, title="Rewrite the client", priority="P2")
    clock.advance(timedelta(days=1))
    done = ok(close_action(client, people.bob, fix["id"]))
    assert (done["status"], done["closed_at"], done["reason"]) == (
        "done",
        "2026-11-28T10:47:00Z",
        "",
    )
    again = close_action(client, people.bob, fix["id"], "wont_do", "changed my mind")
    assert again.status_code == 409, again.text
    assert again.json()["detail"] == f"action item {fix['id']} is already done"
    assert error_fields(again.json()) == ["status"]
    for reason in ("", "  \n "):
        no_reason = close_action(client, people.bob, skip["id"], "wont_do", reason)
        assert no_reason.status_code == 422, no_reason.text
        assert no_reason.json()["detail"] == "say why it won't be done"
        assert error_fields(no_reason.json()) == ["reason"]
    bad = close_action(client, people.bob, skip["id"], "cancelled")
    assert bad.status_code == 422, bad.text
    assert error_fields(bad.json()) == ["status"]
    assert [i["id"] for i in listed(client, people, status="open")] == [skip["id"]]
    wont = ok(close_action(client, people.bob, skip["id"], "wont_do", " Superseded by OPS-9 "))
    assert (wont["status"], wont["reason"]) == ("wont_do", "Superseded by OPS-9")
    missing = close_action(client, people.bob, 999_999)
    assert missing.status_code == 404, missing.text
    assert missing.json()["detail"] == "no action item 999999"
    entries = ok(client.get(f"{API}/incidents/{ref}/timeline", headers=people.viewer))
    closed = [(e["actor"], e["text"]) for e in entries if e["kind"] == "action_closed"]
    assert closed == [
        ("bob", "Action item done: Fix: Raise the connection pool size (P0, @bob, by 2026-12-04)"),
        (
            "bob",
            "Action item won't do (Superseded by OPS-9): "
            "Fix: Rewrite the client (P2, @bob, by 2026-12-04)",
        ),
    ]


def test_overdue_lists_only_open_items_past_their_due_date(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    late = add_action(client, people.responder, ref, title="late", owner="carol", due="2026-11-30")
    today = add_action(client, people.responder, ref, title="due today", due="2026-12-02")
    later = add_action(client, people.responder, ref, title="later", due="2026-12-10")
    done = add_action(client, people.responder, ref, title="done", due="2026-11-28")
    ok(close_action(client, people.responder, done["id"]))
    wont = add_action(client, people.responder, ref, title="skipped", due="2026-11-29")
    ok(close_action(client, people.responder, wont["id"], "wont_do", "not needed"))
    assert listed(client, people, overdue="true") == []  # nothing is due yet
    clock.advance(timedelta(days=5, hours=1))  # Wednesday 2026-12-02 11:47 UTC
    overdue = listed(client, people, overdue="true")
    assert [(i["id"], i["overdue"]) for i in overdue] == [(late["id"], True)]
    everything = listed(client, people)
    assert [(i["title"], i["overdue"]) for i in everything] == [
        ("done", False),
        ("skipped", False),
        ("late", True),
        ("due today", False),
        ("later", False),
    ]
    assert [i["id"] for i in listed(client, people, owner="carol")] == [late["id"]]
    assert listed(client, people, overdue="true", owner="bob") == []
    assert [i["title"] for i in listed(client, people, status="open")] == [
        "late",
        "due today",
        "later",
    ]
    assert [i["title"] for i in listed(client, people, status="wont_do")] == ["skipped"]
    assert (
        listed(client, people, overdue="false", owner="bob", status="done")[0]["id"] == done["id"]
    )
    # The postmortem shows the same flags.
    flags = {
        i["title"]: i["overdue"] for i in postmortem(client, people.viewer, ref)["action_items"]
    }
    assert flags == {
        "late": True,
        "due today": False,
        "later": False,
        "done": False,
        "skipped": False,
    }
    ok(close_action(client, people.responder, late["id"]))
    assert listed(client, people, overdue="true") == []
    assert today["id"] in [i["id"] for i in listed(client, people, status="open")]
    assert later["id"] in [i["id"] for i in listed(client, people, status="open")]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"owner": "nobody"}, "owner"),
        ({"status": "closed"}, "status"),
        ({"overdue": "sometimes"}, "overdue"),
        ({"owner": "x" * 64}, "owner"),
    ],
)
def test_bad_filters_are_refused(
    client: TestClient, people: People, params: dict[str, str], field: str
) -> None:
    response = client.get(f"{API}/actions", params=params, headers=people.viewer)
    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == [field]


def test_adding_an_item_enqueues_its_reminders(
    client: TestClient, people: People, clock: FixedClock, sessions: SessionFactory
) -> None:
    ref = resolved_incident(client, people, clock)
    item = add_action(client, people.responder, ref)
    with unit_of_work(sessions, write=False) as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "action_reminder")
            .order_by(OutboxMessage.due_at)
        ).all()
        found = [(r.key, r.due_at, r.payload, r.status) for r in rows]
    stem = f"action-{item['id']}-20261204"
    assert found == [
        (
            f"{stem}-before",
            datetime(2026, 12, 3, 9, tzinfo=UTC),
            {"action_id": item["id"], "when": "before", "due_on": "2026-12-04"},
            "pending",
        ),
        (
            f"{stem}-after",
            datetime(2026, 12, 5, 9, tzinfo=UTC),
            {"action_id": item["id"], "when": "after", "due_on": "2026-12-04"},
            "pending",
        ),
    ]


@pytest.fixture
def mail() -> Iterator[tuple[str, Inbox]]:
    with smtp_server() as server:
        yield server


def _drain(worker: Worker) -> None:
    for _ in range(50):
        if worker.run_once() == 0:
            return
    raise AssertionError("the worker never went idle")


def test_owners_are_reminded_by_mail_the_day_before_and_after(
    client: TestClient,
    people: People,
    clock: FixedClock,
    settings: Settings,
    sessions: SessionFactory,
    mail: tuple[str, Inbox],
) -> None:
    url, inbox = mail
    worker = worker_main.build(settings.model_copy(update={"smtp_url": url}), sessions, clock)
    contact = {"kind": "email", "target": "bob@example.com"}
    ok(client.post(f"{API}/users/bob/contact-methods", json=contact, headers=people.bob), 201)
    ref = resolved_incident(client, people, clock)
    fix = add_action(client, people.responder, ref)  # due Friday 2026-12-04
    soon = add_action(client, people.responder, ref, title="Add a pool alert", due="2026-12-02")
    add_action(client, people.responder, ref, title="Carol has no contact", owner="carol")
    _drain(worker)
    assert inbox.messages == []

    def advance_to(at: datetime) -> None:
        clock.advance(at - clock.now())
        _drain(worker)

    advance_to(datetime(2026, 12, 1, 8, 59, tzinfo=UTC))
    assert inbox.messages == []
    advance_to(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    [first] = inbox.wait_for(1)
    assert first["To"] == "bob@example.com"
    assert (
        " ".join(first["Subject"].split())
        == f"{ref} action item is due 2026-12-02: Add a pool alert"
    )
    text = body_of(first)
    assert f"@bob, an action item from {ref} (Checkout down) is due 2026-12-02:" in text
    assert "Fix: Add a pool alert (P0, @bob, by 2026-12-02)" in text
    assert f"warroom action done {soon['id']}" in text
    ok(close_action(client, people.bob, soon["id"]))  # so no reminder after its due date
    advance_to(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    messages = inbox.wait_for(2)
    assert [" ".join(m["Subject"].split()) for m in messages[1:]] == [
        f"{ref} action item is due 2026-12-04: Raise the connection pool size"
    ]
    advance_to(datetime(2026, 12, 5, 9, 0, tzinfo=UTC))
    messages = inbox.wait_for(3)
    assert [" ".join(m["Subject"].split()) for m in messages[2:]] == [
        f"{ref} action item was due 2026-12-04: Raise the connection pool size"
    ]
    assert f"warroom action done {fix['id']}" in body_of(messages[2])
    advance_to(datetime(2026, 12, 9, 9, 0, tzinfo=UTC))
    assert len(inbox.messages) == 3
    assert {m["To"] for m in inbox.messages} == {"bob@example.com"}
    entries = ok(client.get(f"{API}/incidents/{ref}/timeline", headers=people.viewer))
    delivered = [e["text"] for e in entries if e["kind"] == "delivered"]
    assert len(delivered) == 3
    assert all(t.startswith("Email to @bob (email) delivered") for t in delivered)
