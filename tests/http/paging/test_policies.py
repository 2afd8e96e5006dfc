"""Escalation policies through the API, and the snapshot a running page keeps of one."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.http.api import People, declare, error_fields
from tests.http.paging import (
    API,
    add_contact,
    drain,
    level,
    make_worker,
    ok,
    on_schedule,
    pages_of,
    policy,
    put_policy,
    put_schedule,
    spooled,
    texts,
    user,
)
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.settings import Settings
from warroom.worker.cycle import Worker

POLICIES = f"{API}/escalation-policies"


@pytest.fixture
def worker(settings: Settings, sessions: SessionFactory, clock: FixedClock) -> Worker:
    return make_worker(settings, sessions, clock)


def test_a_policy_is_created_shown_replaced_and_deleted(client: TestClient, people: People) -> None:
    put_schedule(client, people.admin, "ops")
    body = policy(
        level(on_schedule("ops"), minutes=1.5),
        level(user("carol"), user("ada"), minutes=30),
        repeat=2,
        services=["checkout", "search"],
    )
    created = client.put(f"{POLICIES}/checkout", json=body, headers=people.admin)
    assert created.status_code == 201, created.text
    answer = created.json()
    assert (answer["slug"], answer["name"], answer["repeat"]) == ("checkout", "Checkout", 2)
    assert answer["levels"] == [
        {"targets": [{"kind": "schedule", "ref": "ops"}], "timeout_minutes": 1.5},
        {
            "targets": [{"kind": "user", "ref": "carol"}, {"kind": "user", "ref": "ada"}],
            "timeout_minutes": 30.0,
        },
    ]
    assert answer["services"] == ["checkout", "search"]
    assert ok(client.get(f"{POLICIES}/checkout", headers=people.viewer)) == answer
    assert ok(client.get(POLICIES, headers=people.viewer)) == [answer]

    replaced = client.put(
        f"{POLICIES}/checkout", json=policy(level(user("bob"), minutes=1)), headers=people.admin
    )
    assert replaced.status_code == 200, replaced.text
    again = replaced.json()
    assert again["levels"] == [{"targets": [{"kind": "user", "ref": "bob"}], "timeout_minutes": 1}]
    assert again["repeat"] == 0
    assert again["services"] == ["checkout", "search"]  # not given: left as they were

    assert client.delete(f"{POLICIES}/checkout", headers=people.admin).status_code == 204
    assert client.get(f"{POLICIES}/checkout", headers=people.viewer).status_code == 404
    assert client.delete(f"{POLICIES}/checkout", headers=people.admin).status_code == 404
    incident = declare(client, people.responder, services=["checkout"])
    assert pages_of(client, people.viewer, incident["ref"]) == []  # the service pages nobody


def changed(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(policy())
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        (changed(("levels", 0, "timeout_minutes"), 0.5), "levels.0.timeout_minutes", ">= 1"),
        (changed(("levels", 0, "timeout_minutes"), 0), "levels.0.timeout_minutes", ">= 1"),
        (changed(("levels", 1, "timeout_minutes"), 1441), "levels.1.timeout_minutes", "<= 1440"),
        (changed(("repeat",), 10), "repeat", "<= 9"),
        (changed(("repeat",), -1), "repeat", ">= 0"),
        (changed(("levels",), []), "levels", "at least 1 item"),
        (changed(("levels", 0, "targets"), []), "levels.0.targets", "at least 1 item"),
        (changed(("levels", 0, "targets", 0, "kind"), "team"), "levels.0.targets.0.kind", "'user'"),
        (changed(("levels", 0, "targets", 0, "ref"), " "), "levels.0.targets.0.ref", "at least 1"),
        (changed(("levels", 0, "targets", 0, "ref"), "x" * 64), "levels.0.targets.0.ref", "63"),
        (changed(("name",), ""), "name", "at least 1 character"),
        (changed(("services",), ["Not A Slug"]), "services.0", "lowercase letters"),
        (
            changed(("levels", 0, "targets"), [user("bob"), user("bob")]),
            "policy",
            "level 1: duplicate targets: user bob",
        ),
        (
            changed(("levels", 1, "targets"), [user("carol"), user("zed")]),
            "levels[2].targets",
            "unknown user 'zed'",
        ),
        (
            changed(("levels", 0, "targets"), [on_schedule("nope")]),
            "levels[1]",
            "level 1: no schedule 'nope'",
        ),
    ],
)
def test_bad_policies_are_refused_by_field_and_nothing_is_written(
    client: TestClient, people: People, body: dict[str, Any], field: str, says: str
) -> None:
    response = client.put(f"{POLICIES}/checkout", json=body, headers=people.admin)
    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == [field]
    detail = response.json()["detail"]
    words = {">= 1": "greater than or equal to 1", ">= 0": "greater than or equal to 0"}
    words |= {"<= 1440": "less than or equal to 1440", "<= 9": "less than or equal to 9"}
    assert words.get(says, says) in detail
    assert client.get(f"{POLICIES}/checkout", headers=people.viewer).status_code == 404


def test_an_unknown_service_is_refused_and_nothing_is_written(
    client: TestClient, people: People
) -> None:
    body = policy(services=["checkout", "no-such-service"])
    response = client.put(f"{POLICIES}/checkout", json=body, headers=people.admin)
    assert response.status_code == 422, response.text
    assert "unknown service 'no-such-service'" in response.json()["detail"]
    assert client.get(f"{POLICIES}/checkout", headers=people.viewer).status_code == 404
    incident = declare(client, people.responder, services=["checkout"])
    assert pages_of(client, people.viewer, incident["ref"]) == []


def test_an_unknown_service_names_the_services_field(client: TestClient, people: People) -> None:
    body = policy(services=["no-such-service"])
    response = client.put(f"{POLICIES}/checkout", json=body, headers=people.admin)
    assert error_fields(response.json()) == ["services"]


@pytest.mark.parametrize("who", ["viewer", "responder"])
def test_only_admins_write_policies(client: TestClient, people: People, who: str) -> None:
    headers = getattr(people, who)
    assert client.put(f"{POLICIES}/checkout", json=policy(), headers=headers).status_code == 403
    assert client.get(f"{POLICIES}/checkout", headers=people.viewer).status_code == 404
    put_policy(client, people.admin, "checkout")
    assert client.delete(f"{POLICIES}/checkout", headers=headers).status_code == 403
    service = client.put(
        f"{API}/services/search/escalation-policy", json={"policy": "checkout"}, headers=headers
    )
    assert service.status_code == 403
    assert ok(client.get(f"{POLICIES}/checkout", headers=people.viewer))["services"] == []


def test_a_service_is_pointed_at_a_policy_and_away_again(
    client: TestClient, people: People
) -> None:
    put_policy(client, people.admin, "checkout")
    url = f"{API}/services/search/escalation-policy"
    answer = ok(client.put(url, json={"policy": "checkout"}, headers=people.admin))
    assert answer == {"service": "search", "policy": "checkout"}
    assert ok(client.get(f"{POLICIES}/checkout", headers=people.viewer))["services"] == ["search"]
    paged = declare(client, people.responder, services=["search"])
    assert [p["policy"] for p in pages_of(client, people.viewer, paged["ref"])] == ["checkout"]

    cleared = ok(client.put(url, json={"policy": None}, headers=people.admin))
    assert cleared == {"service": "search", "policy": None}
    assert ok(client.get(f"{POLICIES}/checkout", headers=people.viewer))["services"] == []
    quiet = declare(client, people.responder, services=["search"])
    assert pages_of(client, people.viewer, quiet["ref"]) == []


def test_pointing_a_service_at_unknown_things_is_refused(
    client: TestClient, people: People
) -> None:
    put_policy(client, people.admin, "checkout")
    unknown_policy = client.put(
        f"{API}/services/search/escalation-policy", json={"policy": "nope"}, headers=people.admin
    )
    assert unknown_policy.status_code == 404
    assert "no escalation policy 'nope'" in unknown_policy.json()["detail"]
    unknown_service = client.put(
        f"{API}/services/nope/escalation-policy", json={"policy": "checkout"}, headers=people.admin
    )
    assert unknown_service.status_code in (404, 422)
    assert "unknown service 'nope'" in unknown_service.json()["detail"]
    missing = client.put(f"{API}/services/search/escalation-policy", json={}, headers=people.admin)
    assert missing.status_code == 422
    assert error_fields(missing.json()) == ["policy"]
    assert ok(client.get(f"{POLICIES}/checkout", headers=people.viewer))["services"] == []


@pytest.mark.parametrize("slug", ["Checkout Policy", "a<b>"])
def test_a_policy_slug_must_be_a_slug(client: TestClient, people: People, slug: str) -> None:
    response = client.put(f"{POLICIES}/{slug}", json=policy(), headers=people.admin)
    assert response.status_code == 422, response.text


def test_a_policy_made_under_capitals_is_found_under_them(
    client: TestClient, people: People
) -> None:
    response = client.put(f"{POLICIES}/Checkout", json=policy(), headers=people.admin)
    if response.status_code == 201:
        assert client.get(f"{POLICIES}/Checkout", headers=people.viewer).status_code == 200
    else:
        assert response.status_code == 422, response.text


def test_a_running_page_keeps_the_levels_it_started_with(
    client: TestClient, people: People, clock: FixedClock, worker: Worker
) -> None:
    put_policy(
        client,
        people.admin,
        "checkout",
        policy(
            level(user("bob"), minutes=1), level(user("carol"), minutes=1), services=["checkout"]
        ),
    )
    incident = declare(client, people.responder, services=["checkout"])
    ref = incident["ref"]
    put_policy(
        client,
        people.admin,
        "checkout",
        policy(level(user("ada"), minutes=30), level(user("rita"), minutes=30), repeat=3),
    )
    drain(worker)
    assert texts(client, people.viewer, ref, "paged") == ["Paged level 1: @bob"]
    clock.advance(timedelta(seconds=61))  # the old timeout, not the new 30 minutes
    drain(worker)
    assert texts(client, people.viewer, ref, "paged") == [
        "Paged level 1: @bob",
        "Paged level 2: @carol",
    ]
    clock.advance(timedelta(seconds=61))
    drain(worker)
    [page] = pages_of(client, people.viewer, ref)
    assert page["status"] == "exhausted"  # the old repeat of 0, not the new 3
    assert texts(client, people.viewer, ref, "page_exhausted") == [
        "Escalation policy exhausted: nobody acknowledged"
    ]
    later = declare(client, people.responder, title="Checkout down again", services=["checkout"])
    drain(worker)
    assert texts(client, people.viewer, later["ref"], "paged") == ["Paged level 1: @ada"]


def test_a_running_page_outlives_its_policy(
    client: TestClient, people: People, clock: FixedClock, worker: Worker
) -> None:
    put_policy(
        client,
        people.admin,
        "checkout",
        policy(
            level(user("bob"), minutes=1), level(user("carol"), minutes=1), services=["checkout"]
        ),
    )
    ref = declare(client, people.responder, services=["checkout"])["ref"]
    drain(worker)
    ok(client.delete(f"{POLICIES}/checkout", headers=people.admin), 204)
    clock.advance(timedelta(seconds=61))
    drain(worker)
    assert texts(client, people.viewer, ref, "paged")[-1] == "Paged level 2: @carol"
    assert pages_of(client, people.viewer, ref)[0]["policy"] == "checkout"


def test_repeat_runs_the_policy_again(
    client: TestClient, people: People, clock: FixedClock, worker: Worker
) -> None:
    put_policy(
        client,
        people.admin,
        "checkout",
        policy(level(user("bob"), minutes=1), repeat=1, services=["checkout"]),
    )
    ref = declare(client, people.responder, services=["checkout"])["ref"]
    drain(worker)
    clock.advance(timedelta(seconds=61))
    drain(worker)
    assert texts(client, people.viewer, ref, "paged") == [
        "Paged level 1: @bob",
        "Paged level 1 (repeat 1): @bob",
    ]
    [page] = pages_of(client, people.viewer, ref)
    assert (page["status"], page["level"], page["round"]) == ("active", 1, 1)
    clock.advance(timedelta(seconds=61))
    drain(worker)
    assert pages_of(client, people.viewer, ref)[0]["status"] == "exhausted"


def test_a_schedule_target_pages_whoever_is_on_call(
    client: TestClient, people: People, worker: Worker, settings: Settings
) -> None:
    put_schedule(client, people.admin, "ops")  # bob is on call
    add_contact(client, people.bob, "bob", "email", "bob@example.com")
    add_contact(client, people.responder, "rita", "email", "rita@example.com")
    put_policy(
        client, people.admin, "checkout", policy(level(on_schedule("ops")), services=["checkout"])
    )
    ref = declare(client, people.responder, services=["checkout"])["ref"]
    drain(worker)
    assert texts(client, people.viewer, ref, "paged") == ["Paged level 1: @bob"]
    [mail] = spooled(settings)
    assert mail["To"] == "bob@example.com"
    assert ref in mail["Subject"]


def test_a_user_target_written_with_an_at_sign_still_pages_that_user(
    client: TestClient, people: People, worker: Worker, settings: Settings
) -> None:
    add_contact(client, people.bob, "bob", "email", "bob@example.com")
    put_policy(client, people.admin, "checkout", policy(level(user("@bob")), services=["checkout"]))
    declare(client, people.responder, services=["checkout"])
    drain(worker)
    assert [m["To"] for m in spooled(settings)] == ["bob@example.com"]


def test_a_schedule_in_use_by_a_policy_cannot_be_deleted(
    client: TestClient, people: People
) -> None:
    put_schedule(client, people.admin, "ops")
    put_policy(client, people.admin, "checkout", policy(level(on_schedule("ops"))))
    response = client.delete(f"{API}/schedules/ops", headers=people.admin)
    assert response.status_code == 409, response.text
    assert "checkout" in response.json()["detail"]
