"""Rate limits, an event storm on one key, and change events (protocols.md §2.1, §2.2)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from fastapi.testclient import TestClient

from tests.http.alerts.ingest import (
    PD_CHANGE,
    PD_ENQUEUE,
    PD_INVALID,
    alerts,
    create_integration,
    patch_integration,
    stored,
)
from tests.http.api import People
from tests.unit.alerts.samples import am_body, pd_trigger


def _incidents(client: TestClient, people: People) -> list[dict[str, object]]:
    response = client.get("/api/v1/incidents", headers=people.viewer)
    assert response.status_code == 200
    items: list[dict[str, object]] = response.json()["items"]
    return items


def test_storm_on_one_dedup_key_is_one_alert_and_one_incident(client, people, sessions):
    made = create_integration(client, people.admin, "pagerduty")
    for _ in range(100):
        response = client.post(PD_ENQUEUE, json=pd_trigger(made.key))
        assert response.status_code == 202
    [alert] = alerts(client, people.viewer)
    assert alert["count"] == 100
    assert alert["status"] == "triggered"
    [incident] = _incidents(client, people)
    assert incident["ref"] == alert["incident"]
    assert incident["phase"] == "detection"
    assert stored(sessions)[:2] == (1, 1)


def test_a_concurrent_storm_of_new_and_repeated_keys_counts_every_event(client, people):
    # Concurrent events share a batch, whose new keys are looked up together first:
    # a key repeated within the batch and a key already open must still be counted.
    made = create_integration(client, people.admin, "pagerduty")
    assert client.post(PD_ENQUEUE, json=pd_trigger(made.key, dedup_key="open")).status_code == 202
    keys = ["open", "new", "new", "other", "new", "open"]

    async def storm() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            posts = (http.post(PD_ENQUEUE, json=pd_trigger(made.key, dedup_key=k)) for k in keys)
            return list(await asyncio.gather(*posts))

    assert [answer.status_code for answer in asyncio.run(storm())] == [202] * len(keys)
    counted = sorted((a["dedup_key"], a["count"]) for a in alerts(client, people.viewer))
    assert counted == [("new", 3), ("open", 3), ("other", 1)]


def test_rate_limit_answers_429_with_retry_after(client, people, sessions, clock):
    made = create_integration(client, people.admin, "pagerduty")
    shown = patch_integration(client, people.admin, made, rate_limit_per_minute=3)
    assert shown["rate_limit_per_minute"] == 3
    for _ in range(3):
        assert client.post(PD_ENQUEUE, json=pd_trigger(made.key)).status_code == 202
    refused = client.post(PD_ENQUEUE, json=pd_trigger(made.key, dedup_key="another"))
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["status"] == "throttle event"
    assert refused.json()["errors"] == ["rate limit of 3 events per minute exceeded"]
    assert stored(sessions)[:2] == (1, 1)
    assert alerts(client, people.viewer)[0]["count"] == 3
    clock.advance(timedelta(minutes=2))
    assert (
        client.post(PD_ENQUEUE, json=pd_trigger(made.key, dedup_key="another")).status_code == 202
    )


def test_rate_limit_is_per_integration(client, people):
    limited = create_integration(client, people.admin, "pagerduty")
    other = create_integration(client, people.admin, "pagerduty", service="search")
    patch_integration(client, people.admin, limited, rate_limit_per_minute=1)
    assert client.post(PD_ENQUEUE, json=pd_trigger(limited.key)).status_code == 202
    assert client.post(PD_ENQUEUE, json=pd_trigger(limited.key)).status_code == 429
    for _ in range(5):
        assert client.post(PD_ENQUEUE, json=pd_trigger(other.key)).status_code == 202


def test_rate_limit_applies_to_webhooks_too(client, people):
    made = create_integration(client, people.admin, "alertmanager", rate_limit_per_minute=1)
    url = f"/integrations/alertmanager/{made.key}"
    assert client.post(url, json=am_body()).status_code == 200
    refused = client.post(url, json=am_body())
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1


def test_raising_the_limit_lets_events_through_again(client, people):
    made = create_integration(client, people.admin, "pagerduty", rate_limit_per_minute=1)
    client.post(PD_ENQUEUE, json=pd_trigger(made.key))
    assert client.post(PD_ENQUEUE, json=pd_trigger(made.key)).status_code == 429
    patch_integration(client, people.admin, made, rate_limit_per_minute=0)
    assert client.post(PD_ENQUEUE, json=pd_trigger(made.key)).status_code == 202


def _change(key: str, summary: str, timestamp: str | None = None) -> dict[str, object]:
    payload: dict[str, object] = {"summary": summary, "source": "ci.example"}
    if timestamp:
        payload["timestamp"] = timestamp
    return {
        "routing_key": key,
        "payload": {**payload, "custom_details": {"build": 42}},
        "links": [{"href": "https://ci.example/builds/42", "text": "Build 42"}],
    }


def test_change_events_show_before_the_incident(client, people, clock):
    made = create_integration(client, people.admin, "pagerduty")
    response = client.post(PD_CHANGE, json=_change(made.key, "Deployed checkout v42"))
    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Change event processed"}
    client.post(PD_CHANGE, json=_change(made.key, "Ancient deploy", "2026-11-26T10:00:00Z"))
    clock.advance(timedelta(minutes=10))
    client.post(PD_ENQUEUE, json=pd_trigger(made.key))
    [incident] = _incidents(client, people)
    changes = client.get(f"/api/v1/incidents/{incident['ref']}/changes", headers=people.viewer)
    assert changes.status_code == 200
    [change] = changes.json()
    assert change["summary"] == "Deployed checkout v42"
    assert change["service"] == "checkout"
    assert change["source"] == "ci.example"
    assert change["details"] == {"build": 42}
    assert change["links"] == [{"href": "https://ci.example/builds/42", "text": "Build 42"}]
    wide = client.get(
        f"/api/v1/incidents/{incident['ref']}/changes",
        params={"hours": 48},
        headers=people.viewer,
    )
    assert [c["summary"] for c in wide.json()] == ["Deployed checkout v42", "Ancient deploy"]
    listed = client.get("/api/v1/services/checkout/changes", headers=people.viewer)
    assert [c["summary"] for c in listed.json()] == ["Deployed checkout v42", "Ancient deploy"]


def test_bad_change_events(client, people, sessions):
    made = create_integration(client, people.admin, "pagerduty")
    cases = [
        ({"routing_key": made.key}, ["'payload' must be an object"]),
        (_change("f" * 32, "x"), ["unknown or revoked integration key"]),
        (
            _change(made.key, "s" * 1025),
            ["Length of 'payload.summary' is too long (max 1024 characters)"],
        ),
    ]
    for body, errors in cases:
        response = client.post(PD_CHANGE, json=body)
        assert response.status_code == 400
        assert response.json() == {**PD_INVALID, "errors": errors}
    malformed = client.post(PD_CHANGE, content=b"{", headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    assert stored(sessions) == (0, 0, 0)
    assert client.post(PD_CHANGE, json=_change(made.key, "fine")).status_code == 202


def test_incident_changes_of_an_unknown_incident(client, people):
    response = client.get("/api/v1/incidents/INC-999/changes", headers=people.viewer)
    assert response.status_code == 404
