"""Bad changes to an existing incident: a precise 4xx, and the incident untouched."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import T0
from tests.http.api import People, declare, error_fields, publish_postmortem, snapshot

INCIDENTS = "/api/v1/incidents"
LONG = "x" * 100_000  # a 100 KB text: under the body limit, over the field limit

BAD_CHANGES: list[tuple[str, dict[str, Any], str, str]] = [
    # (path suffix, body, field, words of the message)
    ("/phase", {"phase": "panicking"}, "phase", "unknown phase 'panicking'"),
    ("/phase", {}, "phase", "Field required"),
    ("/phase", {"phase": "investigating", "note": LONG}, "note", "at most 10000"),
    ("/roles", {"commander": "nobody"}, "commander", "unknown user 'nobody'"),
    ("/roles", {"tech_lead": "nobody"}, "tech_lead", "unknown user 'nobody'"),
    ("/roles", {"comms": "@nobody"}, "comms", "unknown user '@nobody'"),
    ("/roles", {"commander": "bob", "comms": "ghost"}, "comms", "unknown user 'ghost'"),
    ("/roles", {"commander": "vic!"}, "commander", "unknown user"),
    ("/roles", {}, "body", "give at least one of commander, tech_lead, comms"),
    ("/roles", {"incident_commander": "bob"}, "incident_commander", "Extra inputs"),
    ("/notes", {"text": LONG}, "text", "at most 10000 characters"),
    ("/notes", {"text": ""}, "text", "at least 1 character"),
    ("/notes", {"text": "x", "at": "2026-11-27T09:00:00"}, "at", "needs a time zone"),
    ("/notes", {"text": "x", "at": "2026-11-27T11:00:00Z"}, "at", "cannot be in the future"),
    ("/notes", {"text": "x", "at": "yesterday"}, "at", "valid datetime"),
    ("/notes", {"text": "x", "corrects": 999_999}, "corrects", "no timeline entry 999999"),
    ("/notes", {"text": "x", "corrects": "first"}, "corrects", "valid integer"),
    ("/updates", {"eta": "soon"}, "eta", "not a duration like 15m"),
    ("/updates", {"eta": "45d"}, "eta", "between 1s and 30d"),
    ("/updates", {"impact": "half of users", "eta": "soon"}, "eta", "not a duration"),
    ("/updates", {"impact": 5}, "impact", "valid string"),
    ("/updates", {"theory": LONG}, "theory", "at most 10000"),
    ("/severity", {"severity": "SEV-9"}, "severity", "unknown severity 'SEV-9'"),
    ("/severity", {"severity": 2, "reason": LONG}, "reason", "at most 10000"),
]
BAD_PATCHES: list[tuple[dict[str, Any], str, str]] = [
    ({"title": "x" * 300}, "title", "at most 200 characters"),
    ({"title": ""}, "title", "at least 1 character"),
    ({"title": None}, "title", "title cannot be null"),
    ({"current_theory": LONG}, "current_theory", "at most 10000"),
    ({"services": ["nope"]}, "services", "unknown service 'nope'"),
    ({"title": "Renamed", "services": ["checkout", "nope"]}, "services", "'nope'"),
    ({"title": "Renamed", "next_action": None}, "next_action", "cannot be null"),
    ({"version": 7}, "version", "Extra inputs are not permitted"),
    ({"phase": "resolved"}, "phase", "Extra inputs are not permitted"),
    ({}, "body", "nothing to change"),
]


@pytest.fixture
def ref(client: TestClient, people: People) -> str:
    """A SEV-1 in triage with a commander, a note and one internal update."""
    incident = declare(client, people.responder, commander="bob", services=["search"])
    ref = str(incident["ref"])
    for url, body in [(f"/{ref}/notes", {"text": "first note"}), (f"/{ref}/updates", {})]:
        response = client.post(INCIDENTS + url, json=body, headers=people.responder)
        assert response.status_code == 201, response.text
    return ref


def check_refused(
    client: TestClient,
    people: People,
    ref: str,
    method: str,
    url: str,
    body: dict[str, Any],
    field: str,
    says: str,
    status: int = 422,
) -> dict[str, Any]:
    before = snapshot(client, people.viewer, ref)
    response = client.request(method, INCIDENTS + url, json=body, headers=people.responder)
    assert response.status_code == status, response.text
    answer: dict[str, Any] = response.json()
    assert error_fields(answer) == [field]
    assert says in answer["detail"]
    assert snapshot(client, people.viewer, ref) == before
    return answer


@pytest.mark.parametrize(("suffix", "body", "field", "says"), BAD_CHANGES)
def test_bad_change_is_refused_by_field_and_changes_nothing(
    client: TestClient,
    people: People,
    ref: str,
    suffix: str,
    body: dict[str, Any],
    field: str,
    says: str,
) -> None:
    check_refused(client, people, ref, "POST", f"/{ref}{suffix}", body, field, says)


@pytest.mark.parametrize(("body", "field", "says"), BAD_PATCHES)
def test_bad_patch_is_refused_by_field_and_changes_nothing(
    client: TestClient, people: People, ref: str, body: dict[str, Any], field: str, says: str
) -> None:
    check_refused(client, people, ref, "PATCH", f"/{ref}", body, field, says)


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("closed", "cannot move from triage to closed"),
        ("triage", "the incident is already triage"),
        ("detection", "cannot move from triage to detection"),
    ],
)
def test_forbidden_transition_is_a_409_listing_the_allowed_phases(
    client: TestClient, people: People, ref: str, target: str, reason: str
) -> None:
    answer = check_refused(
        client, people, ref, "POST", f"/{ref}/phase", {"phase": target}, "phase", reason, 409
    )
    allowed = ["investigating", "mitigating", "resolved", "dismissed"]
    assert answer["allowed"] == allowed
    assert answer["detail"] == f"{reason}; allowed next phases: {', '.join(allowed)}"


def test_same_severity_again_is_a_409(client: TestClient, people: People, ref: str) -> None:
    body = {"severity": "SEV-1"}
    check_refused(
        client, people, ref, "POST", f"/{ref}/severity", body, "severity", "is already", 409
    )


def test_resolving_twice_is_a_409(client: TestClient, people: People, ref: str) -> None:
    first = client.post(f"{INCIDENTS}/{ref}/resolve", headers=people.responder)
    assert first.status_code == 200
    answer = check_refused(
        client, people, ref, "POST", f"/{ref}/resolve", {}, "phase", "already resolved", 409
    )
    assert answer["allowed"] == ["closed", "investigating"]


def test_correcting_an_entry_of_another_incident_is_refused(
    client: TestClient, people: People, ref: str
) -> None:
    other = declare(client, people.responder, title="Search slow")["ref"]
    foreign = client.get(f"{INCIDENTS}/{other}/timeline", headers=people.viewer).json()[0]["id"]
    body = {"text": "wrong place", "corrects": foreign}
    check_refused(client, people, ref, "POST", f"/{ref}/notes", body, "corrects", "no timeline")


def test_deactivated_user_cannot_take_a_role(client: TestClient, people: People, ref: str) -> None:
    gone = client.patch("/api/v1/users/carol", json={"active": False}, headers=people.admin)
    assert gone.status_code == 200
    body = {"tech_lead": "carol"}
    check_refused(client, people, ref, "POST", f"/{ref}/roles", body, "tech_lead", "unknown user")


def test_closed_incident_takes_no_more_updates(
    client: TestClient, people: People, ref: str
) -> None:
    for phase in ("resolved", "closed"):
        if phase == "closed":
            publish_postmortem(client, people, ref)
        moved = client.post(
            f"{INCIDENTS}/{ref}/phase", json={"phase": phase}, headers=people.responder
        )
        assert moved.status_code == 200
    check_refused(client, people, ref, "POST", f"/{ref}/updates", {}, "phase", "no more updates")


@pytest.mark.parametrize("suffix", ["/notes", "/roles", "/phase", "/updates"])
def test_malformed_json_changes_nothing(
    client: TestClient, people: People, ref: str, suffix: str
) -> None:
    before = snapshot(client, people.viewer, ref)
    response = client.post(
        f"{INCIDENTS}/{ref}{suffix}",
        content=b'{"text": "unterminated',
        headers={**people.responder, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "the request body is not valid JSON"
    assert snapshot(client, people.viewer, ref) == before


def test_accepted_note_times_are_aware_and_not_ahead(
    client: TestClient, people: People, ref: str
) -> None:
    for at in ["2026-11-27T11:00:00+01:00", (T0 + timedelta(minutes=1)).isoformat()]:
        response = client.post(
            f"{INCIDENTS}/{ref}/notes", json={"text": "ok", "at": at}, headers=people.responder
        )
        assert response.status_code == 201, response.text
