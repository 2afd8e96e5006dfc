"""Helpers for the HTTP API suites: headers, declaring, snapshots, error fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

Headers = dict[str, str]


def bearer(token: str) -> Headers:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class People:
    """Tokens (as ready-made headers) of the users every HTTP test starts with."""

    admin: Headers
    responder: Headers
    viewer: Headers
    bob: Headers
    carol: Headers


def declare(client: TestClient, headers: Headers, **fields: Any) -> dict[str, Any]:
    """Declare an incident (SEV-1 "Checkout down" unless told otherwise) and return it."""
    body: dict[str, Any] = {"title": "Checkout down", "severity": 1, **fields}
    response = client.post("/api/v1/incidents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def snapshot(client: TestClient, headers: Headers, ref: str) -> dict[str, Any]:
    """The incident with its timeline and updates, to compare before and after."""
    shown = client.get(f"/api/v1/incidents/{ref}?timeline=true", headers=headers)
    assert shown.status_code == 200, shown.text
    posted = client.get(f"/api/v1/incidents/{ref}/updates", headers=headers)
    assert posted.status_code == 200, posted.text
    return {"incident": shown.json(), "updates": posted.json()}


def all_refs(client: TestClient, headers: Headers) -> list[str]:
    """Every incident reference, following the cursor to the end."""
    refs: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/incidents", params=params, headers=headers)
        assert page.status_code == 200, page.text
        refs += [item["ref"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return refs


def error_fields(body: dict[str, Any]) -> list[str]:
    """The ``errors[].field`` names of an error answer."""
    return [error["field"] for error in body.get("errors", [])]


def publish_postmortem(client: TestClient, people: People, ref: str) -> None:
    """Write, review and publish the postmortem a resolved SEV-1/2 owes, so it may close."""
    base = f"/api/v1/incidents/{ref}/postmortem"
    if client.get(base, headers=people.responder).status_code == 404:
        return  # its severity requires none
    steps = [
        ("PATCH", base, {"root_cause": "A cause."}),
        ("POST", f"{base}/review", None),
        ("POST", f"{base}/publish", None),
    ]
    for method, path, body in steps:
        answer = client.request(method, path, json=body, headers=people.responder)
        assert answer.status_code == 200, answer.text
