"""Listing incidents: each filter, and cursor pagination without duplicates or gaps."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.http.api import People, declare, error_fields, publish_postmortem

API = "/api/v1"
Params = list[tuple[str, Any]]


def move(client: TestClient, people: People, ref: str, *phases: str) -> None:
    for phase in phases:
        if phase == "closed":
            publish_postmortem(client, people, ref)
        response = client.post(
            f"{API}/incidents/{ref}/phase", json={"phase": phase}, headers=people.responder
        )
        assert response.status_code == 200, response.text


@pytest.fixture
def mix(client: TestClient, people: People) -> dict[str, str]:
    """Six incidents of different severity, phase, service and drill, by letter."""
    refs = {
        "A": declare(client, people.responder, severity=1, services=["checkout"]),
        "B": declare(client, people.responder, severity="SEV-2", services=["search"]),
        "C": declare(client, people.responder, severity=2, services=["search", "checkout"]),
        "D": declare(client, people.responder, severity=3, drill=True),
        "E": declare(client, people.responder, severity=4),
        "F": declare(client, people.responder, severity=1, services=["checkout"]),
    }
    found = {letter: incident["ref"] for letter, incident in refs.items()}
    move(client, people, found["B"], "investigating")
    move(client, people, found["C"], "resolved")
    move(client, people, found["E"], "dismissed")
    move(client, people, found["F"], "resolved", "closed")
    return found


def listed(client: TestClient, people: People, params: Params) -> list[str]:
    response = client.get(f"{API}/incidents", params=params, headers=people.viewer)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return [item["ref"] for item in response.json()["items"]]


@pytest.mark.parametrize(
    ("params", "letters"),
    [
        ([], "FEDCBA"),
        ([("phase", "investigating")], "B"),
        ([("phase", "triage"), ("phase", "investigating")], "DBA"),
        ([("phase", "closed")], "F"),
        ([("severity", 2)], "CB"),
        ([("severity", "SEV-2")], "CB"),
        ([("severity", "sev2")], "CB"),
        ([("severity", 1), ("severity", "SEV-3")], "FDA"),
        ([("service", "checkout")], "FCA"),
        ([("service", "search")], "CB"),
        ([("open", "true")], "DBA"),
        ([("open", "false")], "FEC"),
        ([("drill", "true")], "D"),
        ([("drill", "false")], "FECBA"),
        ([("open", "true"), ("severity", 1)], "A"),
        ([("service", "checkout"), ("phase", "resolved")], "C"),
        ([("service", "search"), ("drill", "true")], ""),
    ],
)
def test_filters(
    client: TestClient, people: People, mix: dict[str, str], params: Params, letters: str
) -> None:
    assert listed(client, people, params) == [mix[letter] for letter in letters]


def test_listed_items_are_full_incidents(
    client: TestClient, people: People, mix: dict[str, str]
) -> None:
    page = client.get(f"{API}/incidents", params={"limit": 1}, headers=people.viewer).json()
    shown = client.get(f"{API}/incidents/{mix['F']}", headers=people.viewer).json()
    assert page["items"] == [shown]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"severity": "SEV-9"}, "severity"),
        ({"service": "no-such-service"}, "service"),
        ({"phase": "panicking"}, "phase"),
        ({"open": "maybe"}, "open"),
        ({"drill": "sometimes"}, "drill"),
    ],
)
def test_unknown_filter_values_are_refused_by_name(
    client: TestClient, people: People, params: dict[str, str], field: str
) -> None:
    response = client.get(f"{API}/incidents", params=params, headers=people.viewer)
    assert response.status_code == 422
    fields = error_fields(response.json())
    assert fields
    assert all(f == field or f.startswith(field + ".") for f in fields)


def pages(client: TestClient, people: People, limit: int, **filters: Any) -> list[list[str]]:
    found: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit, **filters}
        if cursor is not None:
            params["cursor"] = cursor
        response = client.get(f"{API}/incidents", params=params, headers=people.viewer)
        assert response.status_code == 200, response.text
        found.append([item["ref"] for item in response.json()["items"]])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return found
        assert len(found) < 50, "pagination does not end"


def test_paging_visits_every_incident_once_newest_first(client: TestClient, people: People) -> None:
    refs = [declare(client, people.responder, title=f"incident {n}")["ref"] for n in range(23)]
    walked = pages(client, people, limit=5)
    assert [len(page) for page in walked] == [5, 5, 5, 5, 3]
    assert [ref for page in walked for ref in page] == refs[::-1]


def test_last_full_page_has_no_cursor(client: TestClient, people: People) -> None:
    for n in range(6):
        declare(client, people.responder, title=f"incident {n}")
    assert [len(page) for page in pages(client, people, limit=3)] == [3, 3]
    assert [len(page) for page in pages(client, people, limit=6)] == [6]


def test_paging_with_a_filter(client: TestClient, people: People) -> None:
    drills = []
    for n in range(9):
        incident = declare(client, people.responder, title=f"incident {n}", drill=n % 3 == 0)
        if incident["drill"]:
            drills.append(incident["ref"])
    walked = pages(client, people, limit=2, drill="true")
    assert [len(page) for page in walked] == [2, 1]
    assert [ref for page in walked for ref in page] == drills[::-1]


def test_incidents_declared_while_paging_do_not_shift_the_pages(
    client: TestClient, people: People
) -> None:
    refs = [declare(client, people.responder, title=f"incident {n}")["ref"] for n in range(7)]
    first = client.get(f"{API}/incidents", params={"limit": 3}, headers=people.viewer).json()
    declare(client, people.responder, title="late arrival")
    rest = client.get(
        f"{API}/incidents",
        params={"limit": 10, "cursor": first["next_cursor"]},
        headers=people.viewer,
    ).json()
    seen = [item["ref"] for item in first["items"] + rest["items"]]
    assert seen == refs[::-1]


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        "%%%",
        b64(b"x:5"),
        b64(b"i:five"),
        b64(b"\xff\xfe"),
        b64(b"i:0"),
        b64(b"i:-5"),
        b64(b"i:" + b"9" * 30),  # beyond any id the database can hold
        "A" * 65,
    ],
)
def test_invalid_cursor_is_refused(client: TestClient, people: People, cursor: str) -> None:
    response = client.get(f"{API}/incidents", params={"cursor": cursor}, headers=people.viewer)
    assert response.status_code == 422
    assert error_fields(response.json()) == ["cursor"]


@pytest.mark.parametrize("limit", ["0", "-1", "201", "1e3", "ten"])
def test_limit_out_of_range_is_refused(client: TestClient, people: People, limit: str) -> None:
    response = client.get(f"{API}/incidents", params={"limit": limit}, headers=people.viewer)
    assert response.status_code == 422
    assert error_fields(response.json()) == ["limit"]


@pytest.mark.parametrize("limit", [1, 200])
def test_limit_bounds_are_accepted(client: TestClient, people: People, limit: int) -> None:
    response = client.get(f"{API}/incidents", params={"limit": limit}, headers=people.viewer)
    assert response.status_code == 200


def test_each_listed_incident_reads_as_it_shows(client: TestClient, people: People) -> None:
    """The list fills in people and severities its own way; it must agree with `show`."""
    first = declare(client, people.responder, severity=2, services=["search", "checkout"])
    second = declare(client, people.responder, severity=4)
    ref = first["ref"]
    roles = {"commander": "bob", "tech_lead": "carol", "comms": "rita"}
    assigned = client.post(f"{API}/incidents/{ref}/roles", json=roles, headers=people.responder)
    assert assigned.status_code == 200, assigned.text
    acked = client.post(f"{API}/incidents/{ref}/ack", headers=people.carol)
    assert acked.status_code == 200, acked.text
    page = client.get(f"{API}/incidents", headers=people.viewer).json()["items"]
    assert [item["ref"] for item in page] == [second["ref"], ref]
    for item in page:
        shown = client.get(f"{API}/incidents/{item['ref']}", headers=people.viewer).json()
        assert item == shown
    assert page[1]["roles"]["tech_lead"]["handle"] == "carol"
    assert page[1]["acknowledged_by"] == "carol"
    assert page[1]["severity"] == "SEV-2"
    assert page[0]["roles"]["commander"] is None
