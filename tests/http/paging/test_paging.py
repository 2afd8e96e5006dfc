"""Paging through the API: declaring starts it, ack and resolve stop it, escalate and reassign.

Service checkout pages bob, then carol after 5 minutes (policy "checkout");
the worker is driven by hand at the test's clock and writes its mail to
var/mail, since no SMTP server is configured.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import T0
from tests.http.api import People, declare
from tests.http.paging import (
    API,
    add_contact,
    drain,
    kinds,
    make_worker,
    ok,
    pages_of,
    policy,
    put_policy,
    spooled,
    texts,
    timeline,
    when,
)
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.outbox import service as outbox
from warroom.settings import Settings
from warroom.users import service as user_service
from warroom.worker.cycle import Worker

TIMEOUT = timedelta(minutes=5, seconds=1)


@pytest.fixture
def worker(settings: Settings, sessions: SessionFactory, clock: FixedClock) -> Worker:
    return make_worker(settings, sessions, clock)


@pytest.fixture
def ref(client: TestClient, people: People) -> str:
    """An incident on checkout, paging with policy checkout, declared by rita."""
    put_policy(client, people.admin, "checkout", policy(services=["checkout"]))
    for handle, headers in (("bob", people.bob), ("carol", people.carol)):
        add_contact(client, headers, handle, "email", f"{handle}@example.com")
    result: str = declare(client, people.responder, services=["checkout"])["ref"]
    return result


def test_declaring_on_a_service_with_a_policy_starts_a_page(
    client: TestClient, people: People, ref: str
) -> None:
    [page] = pages_of(client, people.viewer, ref)
    assert (page["incident"], page["policy"], page["status"]) == (ref, "checkout", "active")
    assert (page["level"], page["round"], page["urgency"]) == (1, 0, "high")
    assert when(page["started_at"]) == T0
    assert when(page["next_step_at"]) == T0
    assert page["acknowledged_at"] is None
    assert page["ended_at"] is None
    assert texts(client, people.viewer, ref, "page_started") == [
        "Paging with policy checkout: level 1 now"
    ]
    listed = ok(client.get(f"{API}/pages", params={"active": "true"}, headers=people.viewer))
    assert [p["id"] for p in listed] == [page["id"]]


def test_a_service_without_a_policy_pages_nobody(client: TestClient, people: People) -> None:
    put_policy(client, people.admin, "checkout", policy(services=["checkout"]))
    incident = declare(client, people.responder, services=["search"])
    assert pages_of(client, people.viewer, incident["ref"]) == []
    assert "page_started" not in kinds(client, people.viewer, incident["ref"])
    assert ok(client.get(f"{API}/pages", headers=people.viewer)) == []


def test_the_worker_pages_level_one_then_level_two_after_the_timeout(
    client: TestClient,
    people: People,
    clock: FixedClock,
    worker: Worker,
    settings: Settings,
    ref: str,
) -> None:
    drain(worker)
    assert texts(client, people.viewer, ref, "paged") == ["Paged level 1: @bob"]
    assert [m["To"] for m in spooled(settings)] == ["bob@example.com"]
    [page] = pages_of(client, people.viewer, ref)
    assert when(page["next_step_at"]) == T0 + timedelta(minutes=5)
    clock.advance(TIMEOUT)
    drain(worker)
    assert texts(client, people.viewer, ref, "paged")[-1] == "Paged level 2: @carol"
    assert spooled(settings, "carol@example.com") != []
    assert pages_of(client, people.viewer, ref)[0]["level"] == 2


def test_ack_stops_the_page(
    client: TestClient,
    people: People,
    clock: FixedClock,
    worker: Worker,
    settings: Settings,
    ref: str,
) -> None:
    drain(worker)
    ok(client.post(f"{API}/incidents/{ref}/ack", headers=people.bob))
    [page] = pages_of(client, people.viewer, ref)
    assert (page["status"], page["acknowledged_by"]) == ("acknowledged", "bob")
    assert when(page["acknowledged_at"]) == T0
    assert when(page["ended_at"]) == T0
    assert page["next_step_at"] is None
    assert texts(client, people.viewer, ref, "page_stopped") == [
        "Paging stopped: acknowledged by @bob"
    ]
    assert ok(client.get(f"{API}/pages", params={"active": "true"}, headers=people.viewer)) == []
    clock.advance(timedelta(minutes=30))
    drain(worker)
    assert texts(client, people.viewer, ref, "paged") == ["Paged level 1: @bob"]  # carol never
    assert spooled(settings, "carol@example.com") == []


def test_ack_before_the_worker_ran_pages_nobody(
    client: TestClient, people: People, worker: Worker, settings: Settings, ref: str
) -> None:
    ok(client.post(f"{API}/incidents/{ref}/ack", headers=people.responder))
    drain(worker)
    assert "paged" not in kinds(client, people.viewer, ref)
    assert spooled(settings) == []


@pytest.mark.parametrize("how", ["resolve", "dismiss"])
def test_ending_the_incident_stops_the_page(
    client: TestClient,
    people: People,
    clock: FixedClock,
    worker: Worker,
    settings: Settings,
    ref: str,
    how: str,
) -> None:
    drain(worker)
    if how == "resolve":
        ok(client.post(f"{API}/incidents/{ref}/resolve", headers=people.responder))
    else:
        body = {"phase": "dismissed", "note": "false alarm"}
        ok(client.post(f"{API}/incidents/{ref}/phase", json=body, headers=people.responder))
    [page] = pages_of(client, people.viewer, ref)
    assert page["status"] == "resolved"
    assert page["acknowledged_by"] is None
    ended = "resolved" if how == "resolve" else "dismissed"
    assert texts(client, people.viewer, ref, "page_stopped") == [
        f"Paging stopped: incident {ended}"
    ]
    clock.advance(timedelta(minutes=30))
    drain(worker)
    assert texts(client, people.viewer, ref, "paged") == ["Paged level 1: @bob"]
    assert spooled(settings, "carol@example.com") == []


def test_escalate_pages_the_next_level_now(
    client: TestClient,
    people: People,
    clock: FixedClock,
    worker: Worker,
    settings: Settings,
    ref: str,
) -> None:
    drain(worker)
    escalated = ok(client.post(f"{API}/incidents/{ref}/escalate", headers=people.responder))
    assert (escalated["incident"], escalated["status"]) == (ref, "active")
    [entry] = [e for e in timeline(client, people.viewer, ref) if e["kind"] == "page_escalated"]
    assert (entry["actor"], entry["text"]) == ("rita", "Escalated by @rita to level 2")
    drain(worker)
    assert texts(client, people.viewer, ref, "paged") == [
        "Paged level 1: @bob",
        "Paged level 2: @carol",
    ]
    assert [m["To"] for m in spooled(settings, "carol@example.com")] == ["carol@example.com"]
    assert pages_of(client, people.viewer, ref)[0]["level"] == 2

    at_the_end = client.post(f"{API}/incidents/{ref}/escalate", headers=people.responder)
    assert at_the_end.status_code == 409
    assert "no further level" in at_the_end.json()["detail"]
    # The level-1 timer that was running is void: level 2 is not paged a second time.
    clock.advance(TIMEOUT)
    drain(worker)
    assert texts(client, people.viewer, ref, "paged") == [
        "Paged level 1: @bob",
        "Paged level 2: @carol",
    ]
    assert pages_of(client, people.viewer, ref)[0]["status"] == "exhausted"


def test_escalate_needs_a_running_page(client: TestClient, people: People, ref: str) -> None:
    never_paged = declare(client, people.responder, services=["search"])["ref"]
    ok(client.post(f"{API}/incidents/{ref}/ack", headers=people.responder))
    for incident in (never_paged, ref):
        refused = client.post(f"{API}/incidents/{incident}/escalate", headers=people.responder)
        assert refused.status_code == 409, refused.text
        assert "no page is running for this incident" in refused.json()["detail"]
    assert "page_escalated" not in kinds(client, people.viewer, ref)


def test_escalate_and_reassign_refuse_viewers_and_unknown_incidents(
    client: TestClient, people: People, ref: str
) -> None:
    for action, body in (("escalate", None), ("reassign", {"user": "carol"})):
        viewer = client.post(f"{API}/incidents/{ref}/{action}", json=body, headers=people.viewer)
        assert viewer.status_code == 403
        missing = client.post(f"{API}/incidents/INC-999/{action}", json=body, headers=people.bob)
        assert missing.status_code == 404
    assert [e["kind"] for e in timeline(client, people.viewer, ref)] == [
        "declared",
        "page_started",
    ]


def planned_for(sessions: SessionFactory, handle: str) -> list[dict[str, Any]]:
    """The notifications queued for ``handle`` (read below the API: it has no outbox view)."""
    with unit_of_work(sessions, write=False) as session:
        person = user_service.get_by_handle(session=session, handle=handle)
        assert person is not None
        return [
            {"status": m.status, "due_at": m.due_at, **m.payload}
            for m in outbox.list_messages(session=session)
            if m.kind == "notify" and m.payload.get("user_id") == person.id
        ]


def test_reassign_plans_a_page_for_that_person_and_the_policy_goes_on(
    client: TestClient,
    people: People,
    clock: FixedClock,
    sessions: SessionFactory,
    worker: Worker,
    ref: str,
) -> None:
    add_contact(client, people.admin, "ada", "email", "ada-pager@example.com")
    drain(worker)
    assert planned_for(sessions, "ada") == []
    answer = ok(
        client.post(f"{API}/incidents/{ref}/reassign", json={"user": "ada"}, headers=people.bob)
    )
    assert (answer["status"], answer["level"]) == ("active", 1)
    assert texts(client, people.viewer, ref, "page_reassigned") == [
        "Reassigned by @bob: paging @ada"
    ]
    [planned] = planned_for(sessions, "ada")
    assert (planned["status"], planned["purpose"], planned["due_at"]) == ("pending", "page", T0)
    assert planned["page_id"] == answer["id"]
    clock.advance(TIMEOUT)
    drain(worker)
    assert texts(client, people.viewer, ref, "paged")[-1] == "Paged level 2: @carol"


def test_reassign_emails_that_person(
    client: TestClient, people: People, worker: Worker, settings: Settings, ref: str
) -> None:
    add_contact(client, people.admin, "ada", "email", "ada-pager@example.com")
    ok(client.post(f"{API}/incidents/{ref}/reassign", json={"user": "ada"}, headers=people.bob))
    drain(worker)
    [mail] = spooled(settings, "ada-pager@example.com")
    assert ref in mail["Subject"]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"user": "zed"}, 422, "unknown user 'zed'"),
        ({"user": ""}, 422, "user"),
        ({}, 422, "Field required"),
        ({"user": "carol", "note": "x"}, 422, "Extra inputs are not permitted"),
    ],
)
def test_bad_reassignments_are_refused(
    client: TestClient,
    people: People,
    ref: str,
    body: dict[str, str],
    status: int,
    says: str,
) -> None:
    response = client.post(f"{API}/incidents/{ref}/reassign", json=body, headers=people.bob)
    assert response.status_code == status, response.text
    assert says in response.json()["detail"]
    assert "page_reassigned" not in kinds(client, people.viewer, ref)


def test_reassign_needs_a_running_page(client: TestClient, people: People, ref: str) -> None:
    ok(client.post(f"{API}/incidents/{ref}/resolve", headers=people.responder))
    refused = client.post(
        f"{API}/incidents/{ref}/reassign", json={"user": "carol"}, headers=people.bob
    )
    assert refused.status_code == 409
    assert "no page is running" in refused.json()["detail"]


def test_a_new_incident_after_ack_pages_again(
    client: TestClient, people: People, worker: Worker, ref: str
) -> None:
    ok(client.post(f"{API}/incidents/{ref}/ack", headers=people.responder))
    second = declare(client, people.responder, title="Checkout slow", services=["checkout"])
    drain(worker)
    assert texts(client, people.viewer, second["ref"], "paged") == ["Paged level 1: @bob"]
    all_pages = ok(client.get(f"{API}/pages", headers=people.viewer))
    assert [(p["incident"], p["status"]) for p in all_pages] == [
        (second["ref"], "active"),
        (ref, "acknowledged"),
    ]


def test_the_timeline_does_not_claim_a_deactivated_person_was_paged(
    client: TestClient, people: People, sessions: SessionFactory, worker: Worker, ref: str
) -> None:
    ok(client.patch(f"{API}/users/bob", json={"active": False}, headers=people.admin))
    drain(worker)
    assert planned_for(sessions, "bob") == []
    assert texts(client, people.viewer, ref, "paged") != ["Paged level 1: @bob"]
