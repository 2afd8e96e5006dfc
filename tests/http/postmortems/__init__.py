"""Helpers for the postmortem, action item and report API suites.

The suites take the ``client``, ``people`` (admin ada, responder rita, viewer
vic, responders bob and carol; services checkout and search) and ``clock``
fixtures of tests/http/conftest.py. The clock stands at Friday 2026-11-27
10:00 UTC and only moves when a test advances it, so every timestamp below is
known exactly.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.http.api import Headers, People, declare
from warroom.clock import FixedClock

API = "/api/v1"
HEADINGS = ("## Summary", "## Timeline", "## Root Cause", "## Impact", "## Action Items")


def ok(response: Any, *statuses: int) -> Any:
    """The JSON of ``response`` (None if it has no body), asserting its status (200 unless told)."""
    assert response.status_code in (statuses or (200,)), response.text
    return response.json() if response.content else None


def resolved_incident(
    client: TestClient,
    people: People,
    clock: FixedClock,
    *,
    title: str = "Checkout down",
    severity: int = 1,
    services: tuple[str, ...] = ("checkout",),
) -> str:
    """An incident declared now by rita and resolved 47 minutes later; its ref.

    The timeline: declared by rita (+0), acknowledged by bob (+2), IC rita and
    Tech Lead bob (+2), an internal update (+10), a note (+10, which drafts leave
    out), mitigating (+10), resolved (+47). The clock ends at the resolution.
    """
    ref: str = declare(
        client, people.responder, title=title, severity=severity, services=list(services)
    )["ref"]
    clock.advance(timedelta(minutes=2))
    ok(client.post(f"{API}/incidents/{ref}/ack", headers=people.bob))
    roles = {"commander": "rita", "tech_lead": "bob"}
    ok(client.post(f"{API}/incidents/{ref}/roles", json=roles, headers=people.responder))
    clock.advance(timedelta(minutes=8))
    update = {"impact": "Card payments failing", "theory": "Connection pool exhausted"}
    ok(client.post(f"{API}/incidents/{ref}/updates", json=update, headers=people.responder), 201)
    note = {"text": "Looked at the pool dashboard"}
    ok(client.post(f"{API}/incidents/{ref}/notes", json=note, headers=people.responder), 201)
    phase = {"phase": "mitigating"}
    ok(client.post(f"{API}/incidents/{ref}/phase", json=phase, headers=people.responder))
    clock.advance(timedelta(minutes=37))
    ok(client.post(f"{API}/incidents/{ref}/resolve", headers=people.responder))
    return ref


def postmortem(client: TestClient, headers: Headers, ref: str) -> dict[str, Any]:
    result: dict[str, Any] = ok(client.get(f"{API}/incidents/{ref}/postmortem", headers=headers))
    return result


def markdown_of(client: TestClient, headers: Headers, ref: str) -> str:
    response = client.get(f"{API}/incidents/{ref}/postmortem?format=md", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    return response.text


def put_markdown(client: TestClient, headers: Headers, ref: str, text: str) -> Any:
    return client.put(
        f"{API}/incidents/{ref}/postmortem/markdown", json={"markdown": text}, headers=headers
    )


def section(text: str, heading: str) -> list[str]:
    """The non-blank lines under ``## heading`` up to the next ``## `` heading."""
    lines = text.splitlines()
    start = lines.index(f"## {heading}") + 1
    found: list[str] = []
    for line in lines[start:]:
        if line.startswith("## "):
            break
        if line.strip():
            found.append(line)
    return found


def line_number(text: str, line: str) -> int:
    """The 1-based number of the line of ``text`` that equals ``line``."""
    return text.splitlines().index(line) + 1


def action_body(**fields: Any) -> dict[str, Any]:
    """An action item body (Fix, P0, @bob, due Friday 2026-12-04), with ``fields`` changed."""
    return {
        "title": "Raise the connection pool size",
        "category": "fix",
        "priority": "P0",
        "owner": "bob",
        "due": "2026-12-04",
        **fields,
    }


def add_action(client: TestClient, headers: Headers, ref: str, **fields: Any) -> dict[str, Any]:
    response = client.post(
        f"{API}/incidents/{ref}/actions", json=action_body(**fields), headers=headers
    )
    result: dict[str, Any] = ok(response, 201)
    return result


def close_action(
    client: TestClient, headers: Headers, item_id: int, status: str = "done", reason: str = ""
) -> Any:
    body = {"status": status, "reason": reason}
    return client.post(f"{API}/actions/{item_id}/close", json=body, headers=headers)


def move(client: TestClient, headers: Headers, ref: str, verb: str) -> Any:
    """POST .../postmortem/{review|publish|draft}."""
    return client.post(f"{API}/incidents/{ref}/postmortem/{verb}", headers=headers)


def close_incident(client: TestClient, headers: Headers, ref: str) -> Any:
    return client.post(f"{API}/incidents/{ref}/phase", json={"phase": "closed"}, headers=headers)
