"""POST /v2/enqueue: PagerDuty's request and response bodies exactly (protocols.md §2.1, §8)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.http.alerts.ingest import (
    PD_ENQUEUE,
    PD_INVALID,
    alerts,
    create_integration,
    stored,
)
from tests.http.api import People
from tests.unit.alerts.samples import pd_trigger
from warroom.db.engine import SessionFactory

ACCEPTED = {"status": "success", "message": "Event processed"}


@pytest.fixture
def key(client: TestClient, people: People) -> str:
    return create_integration(client, people.admin, "pagerduty").key


def _assert_good_request_still_works(client: TestClient, key: str) -> None:
    response = client.post(PD_ENQUEUE, json=pd_trigger(key, dedup_key="after-the-bad-one"))
    assert response.status_code == 202, response.text


def test_trigger_is_accepted_with_pagerdutys_body(client, people, key):
    response = client.post(PD_ENQUEUE, json=pd_trigger(key))
    assert response.status_code == 202
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {**ACCEPTED, "dedup_key": "disk-full-db1"}
    [alert] = alerts(client, people.viewer)
    assert alert["dedup_key"] == "disk-full-db1"
    assert alert["summary"] == "Disk full on db1"
    assert alert["source"] == "db1.example.com"
    assert alert["severity"] == "critical"
    assert alert["integration"] == "checkout-pagerduty"
    assert alert["service"] == "checkout"
    assert alert["incident"] is not None


def test_trigger_without_dedup_key_answers_the_generated_one(client, people, key):
    body = pd_trigger(key)
    del body["dedup_key"]
    response = client.post(PD_ENQUEUE, json=body)
    assert response.status_code == 202
    generated = response.json()["dedup_key"]
    assert generated
    assert [a["dedup_key"] for a in alerts(client, people.viewer)] == [generated]
    resolve = {"routing_key": key, "event_action": "resolve", "dedup_key": generated}
    assert client.post(PD_ENQUEUE, json=resolve).status_code == 202
    assert alerts(client, people.viewer)[0]["status"] == "resolved"


def test_ack_then_resolve(client, people, key):
    client.post(PD_ENQUEUE, json=pd_trigger(key))
    for action, status in (("acknowledge", "acknowledged"), ("resolve", "resolved")):
        body = {"routing_key": key, "event_action": action, "dedup_key": "disk-full-db1"}
        response = client.post(PD_ENQUEUE, json=body)
        assert response.json() == {**ACCEPTED, "dedup_key": "disk-full-db1"}
        assert alerts(client, people.viewer)[0]["status"] == status


def test_ack_and_resolve_of_unknown_keys_are_accepted_and_dropped(client, sessions, key):
    for action in ("acknowledge", "resolve"):
        body = {"routing_key": key, "event_action": action, "dedup_key": "nothing-open"}
        response = client.post(PD_ENQUEUE, json=body)
        assert response.status_code == 202
        assert response.json()["dedup_key"] == "nothing-open"
    assert stored(sessions) == (0, 0, 0)


@pytest.mark.parametrize(
    "details",
    [{"a": {"b": [1, None]}}, [{"labels": {"x": "y"}}], "text", 7, None],
    ids=["object", "list", "string", "number", "null"],
)
def test_custom_details_of_any_json_type_are_kept(client, people, key, details):
    body = pd_trigger(key)
    body["payload"]["custom_details"] = details
    assert client.post(PD_ENQUEUE, json=body).status_code == 202
    assert alerts(client, people.viewer)[0]["details"] == details


def test_alertmanager_v2_body_with_sha256_dedup_key(client, people, key):
    body = {
        "routing_key": key,
        "dedup_key": "17c4e445" + "ab" * 26 + "ff41",
        "event_action": "trigger",
        "payload": {
            "summary": "[FIRING:1] DiskFull (db1 critical)",
            "source": "Alertmanager",
            "severity": "error",
            "custom_details": {"firing": "Labels: ...", "num_firing": "1", "num_resolved": "0"},
        },
        "client": "Alertmanager",
        "client_url": "http://127.0.0.1:19093/#/alerts?receiver=pd",
    }
    response = client.post(PD_ENQUEUE, json=body)
    assert response.status_code == 202
    assert response.json()["dedup_key"] == body["dedup_key"]
    assert alerts(client, people.viewer)[0]["summary"] == "[FIRING:1] DiskFull (db1 critical)"


def _without_summary(key: str) -> dict[str, Any]:
    body = pd_trigger(key)
    del body["payload"]["summary"]
    return body


def _with_payload(key: str, **fields: Any) -> dict[str, Any]:
    body = pd_trigger(key)
    body["payload"].update(fields)
    return body


BAD_EVENTS: list[tuple[str, Callable[[str], Any], list[str]]] = [
    ("not-json", lambda key: b'{"routing_key": ', ["the body is not valid JSON"]),
    ("empty", lambda key: b"", ["the body is not valid JSON"]),
    ("array", lambda key: b"[]", ["the event must be a JSON object"]),
    ("no-summary", _without_summary, ["'payload.summary' is missing"]),
    ("wrong-type", lambda key: pd_trigger(key, dedup_key=42), ["'dedup_key' must be a string"]),
    (
        "long-summary",
        lambda key: _with_payload(key, summary="s" * 1025),
        ["Length of 'payload.summary' is too long (max 1024 characters)"],
    ),
    (
        "long-dedup-key",
        lambda key: pd_trigger(key, dedup_key="d" * 256),
        ["Length of 'dedup_key' is too long (max 255 characters)"],
    ),
    (
        "bad-severity",
        lambda key: _with_payload(key, severity="urgent"),
        ["'payload.severity' must be one of critical, error, warning, info"],
    ),
    (
        "resolve-without-dedup-key",
        lambda key: {"routing_key": key, "event_action": "resolve"},
        ["'dedup_key' is required for resolve events"],
    ),
    ("unknown-key", lambda key: pd_trigger("f" * 32), ["unknown or revoked integration key"]),
    ("no-key", lambda key: {**pd_trigger(key), "routing_key": None}, ["'routing_key' is missing"]),
]


@pytest.mark.parametrize(
    ("build", "errors"), [pytest.param(b, e, id=name) for name, b, e in BAD_EVENTS]
)
def test_bad_events_get_pagerdutys_400_and_store_nothing(client, sessions, key, build, errors):
    body = build(key)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = client.post(PD_ENQUEUE, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {**PD_INVALID, "errors": errors}
    assert stored(sessions) == (0, 0, 0)
    _assert_good_request_still_works(client, key)


def test_body_over_512_kb_is_refused(client, sessions, key):
    body = pd_trigger(key)
    body["payload"]["custom_details"] = {"blob": "x" * (512 * 1024)}
    response = client.post(PD_ENQUEUE, json=body)
    assert response.status_code == 400
    assert response.json() == {**PD_INVALID, "errors": ["the request body is larger than 512 KB"]}
    assert stored(sessions) == (0, 0, 0)
    _assert_good_request_still_works(client, key)


def test_body_just_under_512_kb_is_accepted(client, key):
    body = pd_trigger(key)
    body["payload"]["custom_details"] = {"blob": ""}
    padding = 512 * 1024 - len(json.dumps(body).encode())
    body["payload"]["custom_details"] = {"blob": "x" * padding}
    assert len(json.dumps(body).encode()) == 512 * 1024
    assert client.post(PD_ENQUEUE, json=body).status_code == 202


def test_revoked_key_is_refused(client, people, sessions):
    made = create_integration(client, people.admin, "pagerduty")
    assert client.delete(f"/api/v1/integrations/{made.id}", headers=people.admin).status_code == 200
    response = client.post(PD_ENQUEUE, json=pd_trigger(made.key))
    assert response.status_code == 400
    assert response.json() == {**PD_INVALID, "errors": ["unknown or revoked integration key"]}
    assert stored(sessions) == (0, 0, 0)


@pytest.mark.parametrize("type_", ["alertmanager", "grafana", "generic"])
def test_key_of_another_integration_type_is_refused(client, people, sessions, key, type_):
    other = create_integration(client, people.admin, type_)
    response = client.post(PD_ENQUEUE, json=pd_trigger(other.key))
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert f"belongs to a {type_} integration" in error
    assert f"/integrations/{type_}/KEY" in error
    assert stored(sessions) == (0, 0, 0)
    _assert_good_request_still_works(client, key)


def test_sessions_fixture_is_the_apps(sessions: SessionFactory, client, key):
    # The counts above are only meaningful if they read what the app wrote.
    client.post(PD_ENQUEUE, json=pd_trigger(key))
    assert stored(sessions)[:2] == (1, 1)
