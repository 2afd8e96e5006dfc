"""Posts the API refuses, naming the field, and that leave the public page as it was."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.http.api import People, declare, error_fields
from tests.http.statuspage import (
    API,
    add_component,
    document,
    no_cache_delay,
    ok,
    post,
    public,
    status_incidents,
    unpublish,
)
from warroom.db.engine import SessionFactory


@pytest.fixture
def ref(client: TestClient, app: FastAPI, people: People, sessions: SessionFactory) -> str:
    """Components API and Checkout, an unpublished Ledger in a group; an internal incident."""
    no_cache_delay(app)
    add_component(client, people.admin, "API")
    add_component(client, people.admin, "Checkout", group="Shop")
    add_component(client, people.admin, "Ledger", group="Shop")
    unpublish(sessions, "Ledger")
    found: str = declare(client, people.responder)["ref"]
    return found


def body(ref: str, **fields: Any) -> dict[str, Any]:
    return {"incident": ref, "status": "investigating", "message": "Looking into it.", **fields}


def without(ref: str, name: str) -> dict[str, Any]:
    made = body(ref)
    del made[name]
    return made


CASES: dict[str, tuple[Any, int, str]] = {
    # id: (body or a function of the ref, status, field)
    "unknown component": (lambda r: body(r, components={"Nope": "major_outage"}), 422, "component"),
    "a group as component": (
        lambda r: body(r, components={"Shop": "major_outage"}),
        422,
        "component",
    ),
    "unpublished component": (
        lambda r: body(r, components={"Ledger": "major_outage"}),
        422,
        "component",
    ),
    "one bad of two components": (
        lambda r: body(r, components={"API": "major_outage", "Nope": "partial_outage"}),
        422,
        "component",
    ),
    "unknown component status": (
        lambda r: body(r, components={"API": "on_fire"}),
        422,
        "components.API",
    ),
    "unknown status": (lambda r: body(r, status="exploding"), 422, "status"),
    "status in capitals": (lambda r: body(r, status="Investigating"), 422, "status"),
    "maintenance status": (lambda r: body(r, status="in_progress"), 422, "status"),
    "no status": (lambda r: without(r, "status"), 422, "status"),
    "empty message": (lambda r: body(r, message=""), 422, "message"),
    "blank message": (lambda r: body(r, message=" \n\t "), 422, "message"),
    "no message": (lambda r: without(r, "message"), 422, "message"),
    "10,001 characters": (lambda r: body(r, message="x" * 10_001), 422, "message"),
    "NUL in message": (lambda r: body(r, message="a\x00b"), 422, "message"),
    "both incident and new": (lambda r: body(r, new=True), 422, "incident"),
    "neither incident nor new": (lambda r: without(r, "incident"), 422, "incident"),
    "new false and no incident": (
        lambda r: {**without(r, "incident"), "new": False},
        422,
        "incident",
    ),
    "unknown incident": (lambda r: body("INC-999"), 404, ""),
    "not an incident reference": (lambda r: body("checkout"), 404, ""),
    "title too long": (lambda r: body(r, title="t" * 201), 422, "title"),
    "next update 0 minutes": (lambda r: body(r, next_update_minutes=0), 422, "next_update_minutes"),
    "next update over a day": (
        lambda r: body(r, next_update_minutes=24 * 60 + 1),
        422,
        "next_update_minutes",
    ),
    "a resolved post promising an update": (
        lambda r: body(r, status="resolved", next_update_minutes=30),
        422,
        "next_update_minutes",
    ),
    "unknown field": (lambda r: body(r, author="bob"), 422, "author"),
    "components as a list": (lambda r: body(r, components=["API"]), 422, "components"),
    "message as a number": (lambda r: body(r, message=42), 422, "message"),
}


def test_bad_posts_are_refused_and_change_nothing(
    client: TestClient, people: People, ref: str
) -> None:
    """One test over every case (the page must stay exactly as it was throughout)."""
    etag = public(client, "/api/v2/summary.json").headers["etag"]
    components = ok(client.get(f"{API}/components", headers=people.viewer))
    wrong = []
    for case, (make, status, field) in CASES.items():
        answer = client.post(f"{API}/posts", json=make(ref), headers=people.responder)
        fields = error_fields(answer.json()) if answer.status_code < 500 else []
        if answer.status_code != status or (field and field not in fields):
            wrong.append((case, answer.status_code, answer.text))
    assert wrong == []
    assert status_incidents(client, people.viewer) == []
    assert public(client, "/api/v2/summary.json").headers["etag"] == etag
    assert ok(client.get(f"{API}/components", headers=people.viewer)) == components
    timeline = ok(client.get(f"/api/v1/incidents/{ref}/timeline", headers=people.viewer))
    assert "status_posted" not in [e["kind"] for e in timeline]


def test_the_refusal_says_what_is_wrong(client: TestClient, people: People, ref: str) -> None:
    def detail(**fields: Any) -> str:
        answer = client.post(f"{API}/posts", json=body(ref, **fields), headers=people.responder)
        text: str = answer.json()["detail"]
        return text

    assert "no status page component named 'Nope'" in detail(components={"Nope": "major_outage"})
    assert "'Ledger' is not published yet" in detail(components={"Ledger": "major_outage"})
    assert "at most 10000 characters" in detail(message="x" * 10_001)
    assert "give an incident reference, or new=true" in detail(new=True)


def test_the_longest_message_and_title_are_taken(
    client: TestClient, people: People, ref: str
) -> None:
    made = post(client, people.responder, "m" * 10_000, incident=ref, title="t" * 200)
    assert len(made["message"]) == 10_000
    assert made["title"] == "t" * 200
    [shown] = document(client, "incidents.json")["incidents"]
    assert shown["incident_updates"][0]["body"] == "m" * 10_000


def test_a_message_is_stripped_of_surrounding_blanks(
    client: TestClient, people: People, ref: str
) -> None:
    made = post(client, people.responder, "  \n Looking into it. \n ", incident=ref)
    assert made["message"] == "Looking into it."


def test_a_body_that_is_not_json_is_a_400(client: TestClient, people: People, ref: str) -> None:
    answer = client.post(
        f"{API}/posts",
        content=b"{status: investigating",
        headers={**people.responder, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert status_incidents(client, people.viewer) == []
