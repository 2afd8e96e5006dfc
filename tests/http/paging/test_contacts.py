"""Contact methods, notification rules, test notifications and who cannot be reached."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import T0
from tests.http.api import People, declare, error_fields
from tests.http.paging import (
    API,
    add_contact,
    add_override,
    drain,
    layer,
    level,
    make_worker,
    ok,
    policy,
    put_policy,
    put_schedule,
    schedule,
    spooled,
    user,
    when,
)
from tests.smtp import Inbox, body_of, smtp_server
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.settings import Settings


def contacts(client: TestClient, headers: dict[str, str], handle: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = ok(
        client.get(f"{API}/users/{handle}/contact-methods", headers=headers)
    )
    return result


def test_a_webhook_secret_is_shown_once_and_never_listed(
    client: TestClient, people: People
) -> None:
    hook = add_contact(
        client, people.responder, "rita", "webhook", "https://hooks.example.com/page", "pager"
    )
    assert (hook["kind"], hook["label"], hook["target"]) == (
        "webhook",
        "pager",
        "https://hooks.example.com/page",
    )
    assert hook["secret"].startswith("whsec_")
    assert len(base64.b64decode(hook["secret"].removeprefix("whsec_"))) == 32
    mail = add_contact(client, people.responder, "rita", "email", "Rita@Example.com")
    assert mail["secret"] is None
    assert mail["label"] == "email"  # the kind, when no label is given
    listed = contacts(client, people.responder, "rita")
    assert [c["id"] for c in listed] == [hook["id"], mail["id"]]
    assert all("secret" not in c for c in listed)
    assert hook["secret"] not in str(listed)
    assert {k: v for k, v in hook.items() if k != "secret"} == listed[0]
    other = add_contact(client, people.responder, "rita", "webhook", "https://hooks.example.com/2")
    assert other["secret"] != hook["secret"]


@pytest.mark.parametrize(
    "target",
    [
        "http://localhost:8080/hook",
        "http://127.0.0.1/hook",
        "http://[::1]:9000/hook",
        "https://hooks.example.com/a?b=c",
    ],
)
def test_webhooks_over_https_or_to_this_machine_are_accepted(
    client: TestClient, people: People, target: str
) -> None:
    assert add_contact(client, people.responder, "rita", "webhook", target)["target"] == target


@pytest.mark.parametrize(
    ("kind", "target", "says"),
    [
        ("webhook", "http://hooks.example.com/page", "webhooks must use https"),
        ("webhook", "http://10.0.0.5/page", "webhooks must use https"),
        ("webhook", "http://localhost.example.com/page", "webhooks must use https"),
        ("webhook", "ftp://hooks.example.com/page", "needs an http(s) URL with a host"),
        ("webhook", "https:///no-host", "needs an http(s) URL with a host"),
        ("webhook", "hooks.example.com", "needs an http(s) URL with a host"),
        ("email", "not-an-email", "is not an email address"),
        ("email", "rita@localhost", "is not an email address"),
        ("email", "rita@@example.com", "is not an email address"),
        ("email", "ri ta@example.com", "is not an email address"),
        ("email", "https://example.com", "is not an email address"),
    ],
)
def test_bad_targets_are_refused(
    client: TestClient, people: People, kind: str, target: str, says: str
) -> None:
    body = {"kind": kind, "target": target}
    response = client.post(f"{API}/users/rita/contact-methods", json=body, headers=people.responder)
    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == ["target"]
    assert says in response.json()["detail"]
    assert contacts(client, people.responder, "rita") == []


def test_only_the_person_or_an_admin_sees_and_changes_contact_methods(
    client: TestClient, people: People
) -> None:
    mine = add_contact(client, people.responder, "rita", "email", "rita@example.com")
    base = f"{API}/users/rita"
    for method, path, body in (
        ("GET", "contact-methods", None),
        ("POST", "contact-methods", {"kind": "email", "target": "bob@example.com"}),
        ("DELETE", f"contact-methods/{mine['id']}", None),
        ("GET", "notification-rules", None),
        ("PUT", "notification-rules", [{"contact_id": mine["id"]}]),
        ("POST", "notify-test", None),
    ):
        for headers in (people.bob, people.viewer):
            response = client.request(method, f"{base}/{path}", json=body, headers=headers)
            assert response.status_code == 403, (method, path, response.text)
            assert "only the person themselves or an admin" in response.json()["detail"]
        assert client.request(method, f"{base}/{path}", json=body).status_code == 401
    assert [c["id"] for c in contacts(client, people.admin, "rita")] == [mine["id"]]
    assert ok(client.get(f"{base}/notification-rules", headers=people.admin)) == []
    # A viewer manages their own, and an admin anyone's.
    add_contact(client, people.viewer, "vic", "email", "vic@example.com")
    by_admin = add_contact(client, people.admin, "rita", "email", "rita2@example.com")
    ok(client.delete(f"{base}/contact-methods/{by_admin['id']}", headers=people.admin), 204)
    assert [c["id"] for c in contacts(client, people.responder, "rita")] == [mine["id"]]


def test_removing_a_contact_method(client: TestClient, people: People) -> None:
    mine = add_contact(client, people.responder, "rita", "email", "rita@example.com")
    bobs = add_contact(client, people.bob, "bob", "email", "bob@example.com")
    # Someone else's method is not found under one's own name.
    other = client.delete(
        f"{API}/users/rita/contact-methods/{bobs['id']}", headers=people.responder
    )
    assert other.status_code == 404
    assert f"@rita has no contact method {bobs['id']}" in other.json()["detail"]
    assert [c["id"] for c in contacts(client, people.bob, "bob")] == [bobs["id"]]
    ok(
        client.delete(f"{API}/users/rita/contact-methods/{mine['id']}", headers=people.responder),
        204,
    )
    assert contacts(client, people.responder, "rita") == []
    again = client.delete(
        f"{API}/users/rita/contact-methods/{mine['id']}", headers=people.responder
    )
    assert again.status_code == 404


def test_contact_methods_of_an_unknown_person_are_404(client: TestClient, people: People) -> None:
    assert (
        client.get(f"{API}/users/nobody/contact-methods", headers=people.admin).status_code == 404
    )


def rules(client: TestClient, headers: dict[str, str], handle: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = ok(
        client.get(f"{API}/users/{handle}/notification-rules", headers=headers)
    )
    return result


def put_rules(client: TestClient, headers: dict[str, str], handle: str, body: Any) -> Any:
    return client.put(f"{API}/users/{handle}/notification-rules", json=body, headers=headers)


def test_notification_rules_are_replaced_as_a_whole(client: TestClient, people: People) -> None:
    mail = add_contact(client, people.responder, "rita", "email", "rita@example.com", "work")
    hook = add_contact(client, people.responder, "rita", "webhook", "https://h.example.com/x")
    assert rules(client, people.responder, "rita") == []
    body = [
        {"contact_id": hook["id"], "delay_minutes": 2},
        {"contact_id": mail["id"], "delay_minutes": 0},
    ]
    answer = ok(put_rules(client, people.responder, "rita", body))
    expected = [
        {"contact_id": mail["id"], "kind": "email", "label": "work", "delay_minutes": 0.0},
        {"contact_id": hook["id"], "kind": "webhook", "label": "webhook", "delay_minutes": 2.0},
    ]
    assert answer == expected  # by delay
    assert rules(client, people.responder, "rita") == expected
    ok(put_rules(client, people.responder, "rita", [{"contact_id": hook["id"]}]))
    assert rules(client, people.admin, "rita") == [
        {"contact_id": hook["id"], "kind": "webhook", "label": "webhook", "delay_minutes": 0.0}
    ]
    assert ok(put_rules(client, people.responder, "rita", [])) == []
    assert rules(client, people.responder, "rita") == []


@pytest.mark.parametrize(
    ("rule", "status", "field"),
    [
        ({"contact_id": 999_999}, 404, None),
        ({"contact_id": "MINE", "delay_minutes": -1}, 422, "0.delay_minutes"),
        ({"contact_id": "MINE", "delay_minutes": 24 * 60 + 1}, 422, "0.delay_minutes"),
        ({"contact_id": "MINE", "delay_minutes": "soon"}, 422, "0.delay_minutes"),
        ({"contact_id": 0}, 422, "0.contact_id"),
        ({"contact": "MINE"}, 422, None),
    ],
)
def test_bad_rules_are_refused_and_the_old_ones_kept(
    client: TestClient, people: People, rule: dict[str, Any], status: int, field: str | None
) -> None:
    mail = add_contact(client, people.responder, "rita", "email", "rita@example.com")
    ok(
        put_rules(
            client, people.responder, "rita", [{"contact_id": mail["id"], "delay_minutes": 1}]
        )
    )
    before = rules(client, people.responder, "rita")
    body = {k: mail["id"] if v == "MINE" else v for k, v in rule.items()}
    response = put_rules(client, people.responder, "rita", [body])
    assert response.status_code == status, response.text
    if field:
        assert error_fields(response.json()) == [field]
    assert rules(client, people.responder, "rita") == before


def test_a_rule_cannot_use_someone_elses_contact_method(client: TestClient, people: People) -> None:
    bobs = add_contact(client, people.bob, "bob", "email", "bob@example.com")
    response = put_rules(client, people.responder, "rita", [{"contact_id": bobs["id"]}])
    assert response.status_code == 404
    assert rules(client, people.responder, "rita") == []


def test_more_rules_than_allowed_are_refused_not_dropped(
    client: TestClient, people: People
) -> None:
    mail = add_contact(client, people.responder, "rita", "email", "rita@example.com")
    body = [{"contact_id": mail["id"], "delay_minutes": n} for n in range(60)]
    response = put_rules(client, people.responder, "rita", body)
    assert response.status_code == 422, f"{len(response.json())} of 60 rules kept"


def test_rules_decide_when_each_contact_is_paged(
    client: TestClient,
    people: People,
    settings: Settings,
    sessions: SessionFactory,
    clock: FixedClock,
) -> None:
    now = add_contact(client, people.responder, "rita", "email", "rita@example.com")
    later = add_contact(client, people.responder, "rita", "email", "rita-phone@example.com")
    unused = add_contact(client, people.responder, "rita", "email", "rita-old@example.com")
    body = [{"contact_id": now["id"]}, {"contact_id": later["id"], "delay_minutes": 2}]
    ok(put_rules(client, people.responder, "rita", body))
    put_policy(
        client,
        people.admin,
        "checkout",
        policy(level(user("rita"), minutes=30), services=["checkout"]),
    )
    worker = make_worker(settings, sessions, clock)
    declare(client, people.bob, services=["checkout"])
    drain(worker)
    assert [m["To"] for m in spooled(settings)] == ["rita@example.com"]
    clock.advance(timedelta(minutes=2))
    drain(worker)
    assert sorted(m["To"] for m in spooled(settings)) == [
        "rita-phone@example.com",
        "rita@example.com",
    ]
    assert spooled(settings, unused["target"]) == []


@pytest.fixture
def mail() -> Iterator[tuple[str, Inbox]]:
    with smtp_server() as server:
        yield server


def test_notify_test_sends_one_message_per_contact_through_smtp(
    client: TestClient,
    people: People,
    settings: Settings,
    sessions: SessionFactory,
    clock: FixedClock,
    mail: tuple[str, Inbox],
) -> None:
    url, inbox = mail
    work = add_contact(client, people.responder, "rita", "email", "rita@example.com", "work")
    home = add_contact(client, people.responder, "rita", "email", "rita@home.example.org", "home")
    queued = client.post(f"{API}/users/rita/notify-test", headers=people.responder)
    assert queued.status_code == 202, queued.text
    assert [c["id"] for c in queued.json()["queued"]] == [work["id"], home["id"]]
    assert inbox.messages == []  # queued, not sent by the request
    drain(make_worker(settings, sessions, clock, smtp_url=url))
    messages = inbox.wait_for(2)
    assert sorted(m["To"] for m in messages) == ["rita@example.com", "rita@home.example.org"]
    assert {m["Subject"] for m in messages} == {"warroom test notification"}
    by_address = {m["To"]: body_of(m) for m in messages}
    assert "@rita through 'work'" in by_address["rita@example.com"]
    assert "@rita through 'home'" in by_address["rita@home.example.org"]
    assert len({m["Message-ID"] for m in messages}) == 2
    listed = contacts(client, people.responder, "rita")
    assert [when(c["last_success_at"]) for c in listed] == [T0, T0]


def test_notify_test_by_an_admin_and_without_contacts(client: TestClient, people: People) -> None:
    refused = client.post(f"{API}/users/bob/notify-test", headers=people.bob)
    assert refused.status_code == 422
    assert "@bob has no contact method to test" in refused.json()["detail"]
    add_contact(client, people.bob, "bob", "email", "bob@example.com")
    queued = client.post(f"{API}/users/bob/notify-test", headers=people.admin)
    assert queued.status_code == 202
    assert [c["target"] for c in queued.json()["queued"]] == ["bob@example.com"]


def unreachable(client: TestClient, people: People) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = ok(
        client.get(f"{API}/oncall/unreachable", headers=people.viewer)
    )
    return result


def test_unreachable_flags_people_on_call_without_a_contact_method(
    client: TestClient, people: People
) -> None:
    put_schedule(client, people.admin, "ops")  # bob now, rita from Monday
    put_schedule(client, people.admin, "db", schedule(layer("bob"), name="Database"))
    add_contact(client, people.responder, "rita", "email", "rita@example.com")
    add_override(
        client, people.responder, "ops", "carol", "2026-11-28T09:00:00Z", "2026-11-28T12:00:00Z"
    )
    found = unreachable(client, people)
    assert found == [
        {
            "user": "bob",
            "schedules": ["db", "ops"],
            "first_shift_start": "2026-11-27T10:00:00Z",
            "on_call_now": True,
            "problem": "no working contact method",
        },
        {
            "user": "carol",
            "schedules": ["ops"],
            "first_shift_start": "2026-11-28T09:00:00Z",
            "on_call_now": False,
            "problem": "no working contact method",
        },
    ]
    add_contact(client, people.bob, "bob", "email", "bob@example.com")
    assert [u["user"] for u in unreachable(client, people)] == ["carol"]


def test_unreachable_is_empty_when_everyone_can_be_reached(
    client: TestClient, people: People
) -> None:
    assert unreachable(client, people) == []
    put_schedule(client, people.admin, "ops")
    for handle, headers in (("rita", people.responder), ("bob", people.bob)):
        add_contact(client, headers, handle, "email", f"{handle}@example.com")
    assert unreachable(client, people) == []
    assert client.get(f"{API}/oncall/unreachable").status_code == 401


def test_a_deactivated_person_on_call_is_unreachable(client: TestClient, people: People) -> None:
    put_schedule(client, people.admin, "ops")  # bob is on call now
    add_contact(client, people.bob, "bob", "email", "bob@example.com")
    ok(client.patch(f"{API}/users/bob", json={"active": False}, headers=people.admin))
    assert [u["user"] for u in unreachable(client, people)] == ["bob"]
