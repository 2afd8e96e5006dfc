"""Admin configuration through the API: severities, templates, users, teams, services."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import T0
from tests.http.api import People, declare, error_fields
from warroom.clock import FixedClock

API = "/api/v1"
TEMPLATE = f"{API}/templates/internal_update"


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def severity(**changes: Any) -> dict[str, Any]:
    return {
        "name": "SEV-2",
        "description": "Major feature degraded",
        "ack_target_seconds": 600,
        "update_cadence_seconds": 600,
        "postmortem_required": True,
        **changes,
    }


def test_default_severities_follow_the_process(client: TestClient, people: People) -> None:
    rows = client.get(f"{API}/severities", headers=people.viewer).json()
    assert [
        (r["level"], r["name"], r["ack_target_seconds"], r["update_cadence_seconds"]) for r in rows
    ] == [
        (1, "SEV-1", 300, 900),
        (2, "SEV-2", 900, 1800),
        (3, "SEV-3", 3600, 3600),
        (4, "SEV-4", None, None),
    ]
    assert [r["postmortem_required"] for r in rows] == [True, True, False, False]
    assert rows[3]["ack_next_business_day"] is True


def test_severity_override_sets_the_cadence_of_new_incidents(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    older = declare(client, people.responder, severity=2)
    assert at(older["next_update_due_at"]) == T0 + timedelta(minutes=30)

    put = client.put(f"{API}/severities/2", json=severity(), headers=people.admin)
    assert put.status_code == 200
    assert put.json()["update_cadence_seconds"] == 600

    newer = declare(client, people.responder, severity="SEV-2")
    assert at(newer["next_update_due_at"]) == T0 + timedelta(minutes=10)
    assert at(newer["ack_due_at"]) == T0 + timedelta(minutes=10)
    assert newer["update_status"] == "due in 10m"
    unchanged = client.get(f"{API}/incidents/{older['ref']}", headers=people.viewer).json()
    assert at(unchanged["next_update_due_at"]) == T0 + timedelta(minutes=30)

    clock.advance(timedelta(minutes=5))
    update = client.post(f"{API}/incidents/{older['ref']}/updates", json={}, headers=people.bob)
    assert at(update.json()["next_update_due_at"]) == T0 + timedelta(minutes=15)
    sev1 = declare(client, people.responder, severity=1)
    assert at(sev1["next_update_due_at"]) == T0 + timedelta(minutes=20)


def test_new_and_renamed_levels_can_be_declared_and_filtered(
    client: TestClient, people: People
) -> None:
    body = severity(name="SEV-5", ack_target_seconds=None, update_cadence_seconds=None)
    assert client.put(f"{API}/severities/5", json=body, headers=people.admin).status_code == 200
    low = declare(client, people.responder, severity=5)
    assert (low["severity"], low["update_status"]) == ("SEV-5", "no scheduled updates")
    renamed = client.put(f"{API}/severities/2", json=severity(name="Major"), headers=people.admin)
    assert renamed.json()["name"] == "Major"
    major = declare(client, people.responder, severity="major")
    assert (major["severity"], major["severity_level"]) == ("Major", 2)
    for value in ("SEV-5", "5"):
        page = client.get(f"{API}/incidents", params={"severity": value}, headers=people.viewer)
        assert [i["ref"] for i in page.json()["items"]] == [low["ref"]]


@pytest.mark.parametrize(
    ("level", "body", "status", "field"),
    [
        (3, severity(name="SEV-1"), 409, "name"),
        (21, severity(name="SEV-21"), 422, "level"),
        (0, severity(name="SEV-0"), 422, "level"),
        (2, severity(update_cadence_seconds=0), 422, "update_cadence_seconds"),
        (2, severity(ack_target_seconds=31 * 86400), 422, "ack_target_seconds"),
        (2, severity(name=""), 422, "name"),
        (2, severity(name="x" * 33), 422, "name"),
        (2, severity(cadence=60), 422, "cadence"),
        (2, severity(postmortem_required="perhaps"), 422, "postmortem_required"),
    ],
)
def test_bad_severity_is_refused_and_changes_nothing(
    client: TestClient, people: People, level: int, body: dict[str, Any], status: int, field: str
) -> None:
    before = client.get(f"{API}/severities", headers=people.viewer).json()
    response = client.put(f"{API}/severities/{level}", json=body, headers=people.admin)
    assert response.status_code == status, response.text
    assert error_fields(response.json()) == [field]
    assert client.get(f"{API}/severities", headers=people.viewer).json() == before


def post_update(client: TestClient, people: People, ref: str, **body: str) -> str:
    response = client.post(f"{API}/incidents/{ref}/updates", json=body, headers=people.responder)
    assert response.status_code == 201, response.text
    text: str = response.json()["body"]
    return text


def test_custom_template_is_used_by_the_next_update_until_reset(
    client: TestClient, people: People
) -> None:
    default = client.get(TEMPLATE, headers=people.viewer).json()
    assert default["is_default"] is True
    assert default["updated_at"] is None
    ref = declare(client, people.responder)["ref"]
    first = post_update(client, people, ref)
    assert first.startswith(f"[SEV-1] {ref}: Checkout down\n")

    custom = "{{ ref }} is {{ phase }} ({{ severity }}): {{ theory or 'no theory' }}"
    put = client.put(TEMPLATE, json={"body": custom}, headers=people.admin)
    assert put.status_code == 200
    assert put.json() == {
        "name": "internal_update",
        "body": custom,
        "is_default": False,
        "updated_at": T0.isoformat().replace("+00:00", "Z"),
    }
    assert client.get(TEMPLATE, headers=people.viewer).json() == put.json()
    assert post_update(client, people, ref, theory="pool exhausted") == (
        f"{ref} is triage (SEV-1): pool exhausted"
    )

    reset = client.delete(TEMPLATE, headers=people.admin)
    assert reset.status_code == 200
    assert reset.json() == default
    assert post_update(client, people, ref).startswith(f"[SEV-1] {ref}: Checkout down\n")
    posted = client.get(f"{API}/incidents/{ref}/updates", headers=people.viewer).json()
    # Updates already posted keep the text they were sent with.
    assert [u["body"] for u in posted][:2] == [first, f"{ref} is triage (SEV-1): pool exhausted"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("{{ nope }}", "template does not render"),
        ("{% if %}", "template does not render"),
        ("{{ ref }", "template does not render"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "template does not render"),
        ("{{ ref.__class__ }}", "template does not render"),
        ("", "at least 1 character"),
        ("x" * 20_001, "at most 20000 characters"),
    ],
)
def test_bad_template_is_refused_and_the_old_one_stays(
    client: TestClient, people: People, body: str, says: str
) -> None:
    before = client.get(TEMPLATE, headers=people.viewer).json()
    response = client.put(TEMPLATE, json={"body": body}, headers=people.admin)
    assert response.status_code == 422
    assert error_fields(response.json()) == ["body"]
    assert says in response.json()["detail"]
    assert client.get(TEMPLATE, headers=people.viewer).json() == before


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_template_is_named(client: TestClient, people: People, method: str) -> None:
    body = {"body": "hello"} if method == "PUT" else None
    response = client.request(
        method, f"{API}/templates/status_page", json=body, headers=people.admin
    )
    assert 400 <= response.status_code < 500
    assert "unknown template 'status_page'; known: internal_update" in response.json()["detail"]


def user(**changes: str) -> dict[str, str]:
    return {"handle": "dana", "name": "Dana", "email": "dana@example.com", **changes}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (user(handle="rita"), 409, "handle"),
        (user(handle="RITA"), 409, "handle"),
        (user(email="rita@example.com"), 409, "email"),
        (user(email="Rita@Example.COM"), 409, "email"),
        (user(handle="Bad Handle"), 422, "handle"),
        (user(handle="-dash"), 422, "handle"),
        (user(email="not-an-email"), 422, "email"),
        (user(time_zone="Mars/Olympus"), 422, "time_zone"),
        (user(role="superuser"), 422, "role"),
        (user(password="short"), 422, "password"),
        (user(nickname="dd"), 422, "nickname"),
    ],
)
def test_bad_user_is_refused_and_nobody_is_created(
    client: TestClient, people: People, body: dict[str, str], status: int, field: str
) -> None:
    before = client.get(f"{API}/users", headers=people.viewer).json()
    response = client.post(f"{API}/users", json=body, headers=people.admin)
    assert response.status_code == status, response.text
    assert error_fields(response.json()) == [field]
    assert client.get(f"{API}/users", headers=people.viewer).json() == before


def test_created_user_can_be_read_and_named_in_roles(client: TestClient, people: People) -> None:
    created = client.post(
        f"{API}/users", json=user(time_zone="Europe/Berlin"), headers=people.admin
    )
    assert created.status_code == 201
    assert created.json() == {
        "handle": "dana",
        "name": "Dana",
        "email": "dana@example.com",
        "time_zone": "Europe/Berlin",
        "role": "responder",
        "active": True,
        "teams": [],
    }
    ref = declare(client, people.responder, commander="dana")["ref"]
    shown = client.get(f"{API}/incidents/{ref}", headers=people.viewer).json()
    assert shown["roles"]["commander"] == {"handle": "dana", "name": "Dana"}


def test_teams_and_services(client: TestClient, people: People) -> None:
    team = {"slug": "payments", "name": "Payments", "members": ["rita", "bob"]}
    created = client.post(f"{API}/teams", json=team, headers=people.admin)
    assert created.status_code == 201
    assert sorted(m["handle"] for m in created.json()["members"]) == ["bob", "rita"]
    again = client.post(f"{API}/teams", json=team, headers=people.admin)
    assert (again.status_code, error_fields(again.json())) == (409, ["slug"])

    ghost = {"slug": "ghosts", "name": "Ghosts", "members": ["rita", "casper"]}
    refused = client.post(f"{API}/teams", json=ghost, headers=people.admin)
    assert (refused.status_code, error_fields(refused.json())) == (422, ["members"])
    slugs = [t["slug"] for t in client.get(f"{API}/teams", headers=people.viewer).json()]
    assert slugs == ["payments"]

    service = {"slug": "ledger", "name": "Ledger", "team": "payments"}
    made = client.post(f"{API}/services", json=service, headers=people.admin)
    assert made.status_code == 201
    assert made.json()["team"] == "payments"
    dup = client.post(
        f"{API}/services", json={"slug": "checkout", "name": "X"}, headers=people.admin
    )
    assert (dup.status_code, error_fields(dup.json())) == (409, ["slug"])
    orphan = {"slug": "orphan", "name": "Orphan", "team": "nobody"}
    refused = client.post(f"{API}/services", json=orphan, headers=people.admin)
    assert (refused.status_code, error_fields(refused.json())) == (422, ["team"])
    services = [s["slug"] for s in client.get(f"{API}/services", headers=people.viewer).json()]
    assert services == ["checkout", "ledger", "search"]
    assert declare(client, people.responder, services=["ledger"])["services"] == ["ledger"]
