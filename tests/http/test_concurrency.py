"""Concurrent changes to one incident from many clients: none is lost.

These run against a database whose commits are real, with one TestClient per
thread, so the requests really overlap inside the server's thread pool.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import T0, Database
from tests.factories import make_service, make_user
from tests.http.api import Headers, bearer
from warroom.clock import FixedClock
from warroom.db.engine import make_session_factory
from warroom.db.uow import unit_of_work
from warroom.settings import Settings
from warroom.users import service as user_service
from warroom.web.app import create_app

THREADS = 8
NOTES_PER_THREAD = 3
BACKENDS = pytest.mark.parametrize("committed_database", ["sqlite", "postgresql"], indirect=True)
Step = tuple[str, str, dict[str, Any] | None]


@pytest.fixture
def server(committed_database: Database, tmp_path: Path) -> tuple[FastAPI, list[Headers]]:
    """An app over the committed database, and one responder token per thread."""
    sessions = make_session_factory(committed_database.engine)
    with unit_of_work(sessions) as session:
        users = [make_user(session, T0, f"r{n}", "responder") for n in range(THREADS)]
        make_service(session, T0, "checkout")
        make_service(session, T0, "search")
        tokens = [
            user_service.create_token(session=session, now=T0, user=u, name="t") for u in users
        ]
    settings = Settings(var_dir=tmp_path, secret_key="x" * 40)
    return create_app(settings, sessions=sessions, clock=FixedClock(T0)), [
        bearer(t) for t in tokens
    ]


def run_together(app: FastAPI, headers: list[Headers], plans: list[list[Step]]) -> list[int]:
    """Run each plan in its own thread and client, all starting at once; the statuses."""
    start = threading.Barrier(len(plans))

    def run(n: int) -> list[int]:
        statuses = []
        with TestClient(app) as client:
            start.wait(timeout=30)
            for method, url, body in plans[n]:
                response = client.request(method, url, json=body, headers=headers[n])
                statuses.append(response.status_code)
        return statuses

    with ThreadPoolExecutor(max_workers=len(plans)) as pool:
        results = list(pool.map(run, range(len(plans))))
    return [status for statuses in results for status in statuses]


def declare(app: FastAPI, headers: Headers) -> str:
    with TestClient(app) as client:
        response = client.post(
            "/api/v1/incidents", json={"title": "Checkout down", "severity": 2}, headers=headers
        )
        assert response.status_code == 201, response.text
        return str(response.json()["ref"])


def show(app: FastAPI, headers: Headers, ref: str) -> dict[str, Any]:
    with TestClient(app) as client:
        response = client.get(f"/api/v1/incidents/{ref}?timeline=true", headers=headers)
        assert response.status_code == 200
        result: dict[str, Any] = response.json()
        return result


PATCHES: list[dict[str, Any]] = [
    {"title": "Checkout down in eu-west"},
    {"customer_impact": "all EU checkouts fail"},
    {"current_theory": "expired TLS certificate"},
    {"next_action": "rotate the certificate"},
    {"services": ["checkout", "search"]},
]
ROLES: list[dict[str, str]] = [{"commander": "r5"}, {"tech_lead": "r6"}, {"comms": "r7"}]


def plans_for(ref: str) -> list[list[Step]]:
    """Thread n adds notes and makes one change nobody else makes."""
    url = f"/api/v1/incidents/{ref}"
    plans: list[list[Step]] = []
    for n in range(THREADS):
        plan: list[Step] = [
            ("POST", f"{url}/notes", {"text": f"note {n}.{k}"}) for k in range(NOTES_PER_THREAD)
        ]
        if n < len(PATCHES):
            plan.insert(1, ("PATCH", url, PATCHES[n]))
        else:
            plan.insert(1, ("POST", f"{url}/roles", ROLES[n - len(PATCHES)]))
        plans.append(plan)
    return plans


@BACKENDS
def test_concurrent_changes_to_one_incident_are_all_kept(
    server: tuple[FastAPI, list[Headers]],
) -> None:
    app, headers = server
    ref = declare(app, headers[0])
    plans = plans_for(ref)
    statuses = run_together(app, headers, plans)
    assert Counter(statuses) == {201: THREADS * NOTES_PER_THREAD, 200: THREADS}

    incident = show(app, headers[0], ref)
    for patch in PATCHES:
        for field, value in patch.items():
            assert incident[field] == value
    assert {role: (who or {}).get("handle") for role, who in incident["roles"].items()} == {
        "commander": "r5",
        "tech_lead": "r6",
        "comms": "r7",
    }
    changes = sum(len(plan) for plan in plans)
    assert incident["version"] == 1 + changes

    timeline = incident["timeline"]
    notes = sorted(e["text"] for e in timeline if e["kind"] == "note")
    assert notes == sorted(f"note {n}.{k}" for n in range(THREADS) for k in range(3))
    kinds = Counter(e["kind"] for e in timeline)
    assert kinds == {
        "declared": 1,
        "note": THREADS * NOTES_PER_THREAD,
        "field_changed": 4,
        "services_changed": 1,
        "role_assigned": 3,
    }
    assert len({e["id"] for e in timeline}) == len(timeline)


@BACKENDS
def test_concurrent_acknowledgements_let_exactly_one_through(
    server: tuple[FastAPI, list[Headers]],
) -> None:
    app, headers = server
    ref = declare(app, headers[0])
    ack: list[Step] = [("POST", f"/api/v1/incidents/{ref}/ack", None)]
    statuses = run_together(app, headers, [ack] * THREADS)
    assert sorted(statuses) == [200] + [409] * (THREADS - 1)
    incident = show(app, headers[0], ref)
    assert incident["version"] == 2
    assert [e["kind"] for e in incident["timeline"]] == ["declared", "acknowledged"]
    assert incident["timeline"][1]["actor"] == incident["acknowledged_by"]


@BACKENDS
def test_concurrent_declarations_get_distinct_references(
    server: tuple[FastAPI, list[Headers]],
) -> None:
    app, headers = server
    body = {"title": "Storm", "severity": 3}
    plans: list[list[Step]] = [[("POST", "/api/v1/incidents", body)] * 3 for _ in range(THREADS)]
    statuses = run_together(app, headers, plans)
    assert statuses == [201] * (THREADS * 3)
    with TestClient(app) as client:
        page = client.get("/api/v1/incidents", params={"limit": 200}, headers=headers[0]).json()
    refs = [item["ref"] for item in page["items"]]
    assert len(refs) == len(set(refs)) == THREADS * 3
