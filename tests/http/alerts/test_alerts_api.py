"""/api/v1/alerts, per-service alert settings and customer reports."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.http.alerts.ingest import PD_ENQUEUE, Made, alerts, create_integration, stored
from tests.http.api import People, error_fields
from tests.unit.alerts.samples import pd_trigger

SETTINGS = "/api/v1/services/{slug}/alert-settings"


def _send(client: TestClient, made: Made, key: str, action: str = "trigger") -> None:
    body: dict[str, Any] = pd_trigger(made.key, dedup_key=key, event_action=action)
    if action != "trigger":
        del body["payload"]
    response = client.post(PD_ENQUEUE, json=body)
    assert response.status_code == 202, response.text


@pytest.fixture
def filled(client: TestClient, people: People) -> tuple[Made, Made]:
    """Checkout: a1 (resolved), a2, a3 open; search: b1 open."""
    checkout = create_integration(client, people.admin, "pagerduty")
    search = create_integration(client, people.admin, "pagerduty", service="search")
    for key in ("a1", "a2", "a3"):
        _send(client, checkout, key)
    _send(client, search, "b1")
    _send(client, checkout, "a1", "resolve")
    return checkout, search


def test_newest_first_with_every_field(client, people, filled):
    listed = alerts(client, people.viewer)
    assert [a["dedup_key"] for a in listed] == ["b1", "a3", "a2", "a1"]
    first = listed[-1]
    assert first["status"] == "resolved"
    assert first["resolved_at"] == "2026-11-27T10:00:00Z"
    assert first["urgency"] == "high"
    assert first["grouping_reason"] == "opened in detection: no open incident on service checkout"
    assert first["matched_rule"] is None
    assert first["links"] == []
    assert first["labels"] == {"severity": "critical", "source": "db1.example.com"}


@pytest.mark.parametrize(
    ("params", "keys"),
    [
        ({"open": "true"}, ["b1", "a3", "a2"]),
        ({"service": "search"}, ["b1"]),
        ({"service": "checkout", "open": "true"}, ["a3", "a2"]),
    ],
)
def test_filters(client, people, filled, params, keys):
    assert [a["dedup_key"] for a in alerts(client, people.viewer, **params)] == keys


def test_filter_by_incident(client, people, filled):
    by_key = {a["dedup_key"]: a for a in alerts(client, people.viewer)}
    ref = by_key["a2"]["incident"]
    assert by_key["a3"]["incident"] == ref
    assert [a["dedup_key"] for a in alerts(client, people.viewer, incident=ref)] == [
        "a3",
        "a2",
        "a1",
    ]
    search_ref = by_key["b1"]["incident"]
    assert [a["dedup_key"] for a in alerts(client, people.viewer, incident=search_ref)] == ["b1"]


def test_cursor_pages_through_everything_once(client, people, filled):
    first = client.get("/api/v1/alerts", params={"limit": 3}, headers=people.viewer).json()
    assert [a["dedup_key"] for a in first["items"]] == ["b1", "a3", "a2"]
    assert first["next_cursor"]
    second = client.get(
        "/api/v1/alerts",
        params={"limit": 3, "cursor": first["next_cursor"]},
        headers=people.viewer,
    ).json()
    assert [a["dedup_key"] for a in second["items"]] == ["a1"]
    assert second["next_cursor"] is None
    assert [a["dedup_key"] for a in alerts(client, people.viewer, limit=1)] == [
        "b1",
        "a3",
        "a2",
        "a1",
    ]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"cursor": "not-a-cursor"}, 422),
        ({"limit": 0}, 422),
        ({"limit": 201}, 422),
        ({"service": "nope"}, 422),
        ({"incident": "INC-999"}, 404),
        ({"incident": "yesterday"}, 404),
    ],
)
def test_bad_list_requests(client, people, filled, params, status):
    assert client.get("/api/v1/alerts", params=params, headers=people.viewer).status_code == status


def test_alerts_need_a_token(client, filled):
    assert client.get("/api/v1/alerts").status_code == 401


def test_alert_settings_defaults_and_replacement(client, people):
    url = SETTINGS.format(slug="checkout")
    assert client.get(url, headers=people.viewer).json() == {
        "service": "checkout",
        "rules": [],
        "auto_resolve": True,
    }
    rules = [{"name": "db", "match": [{"label": "team", "exists": True}], "severity": 1}]
    response = client.put(url, json={"rules": rules, "auto_resolve": False}, headers=people.admin)
    assert response.status_code == 200
    expected = {"service": "checkout", "rules": rules, "auto_resolve": False}
    assert response.json() == expected
    assert client.get(url, headers=people.viewer).json() == expected


@pytest.mark.parametrize(
    "rules",
    [
        [{"match": [{"label": "a", "regex": "(("}]}],
        [{"unknown": 1}],
        [{"match": [{"label": "a"}]}],
        [{"urgency": "asap"}],
    ],
)
def test_bad_rules_are_422_naming_rules(client, people, rules):
    url = SETTINGS.format(slug="checkout")
    response = client.put(url, json={"rules": rules}, headers=people.admin)
    assert response.status_code == 422
    assert error_fields(response.json()) == ["rules"]
    assert client.get(url, headers=people.viewer).json()["rules"] == []


def test_alert_settings_access_and_unknown_service(client, people):
    url = SETTINGS.format(slug="checkout")
    body = {"rules": [], "auto_resolve": False}
    assert client.put(url, json=body, headers=people.responder).status_code == 403
    assert client.put(url, json={"auto": True}, headers=people.admin).status_code == 422
    unknown = SETTINGS.format(slug="nope")
    assert client.put(unknown, json=body, headers=people.admin).status_code == 422
    assert client.get(unknown, headers=people.viewer).status_code == 422
    assert client.get(url).status_code == 401


def test_turning_off_auto_resolve_keeps_the_incident_open(client, people):
    made = create_integration(client, people.admin, "pagerduty")
    url = SETTINGS.format(slug="checkout")
    client.put(url, json={"rules": [], "auto_resolve": False}, headers=people.admin)
    _send(client, made, "k")
    _send(client, made, "k", "resolve")
    [alert] = alerts(client, people.viewer)
    assert alert["status"] == "resolved"
    incident = client.get(f"/api/v1/incidents/{alert['incident']}", headers=people.viewer)
    assert incident.json()["phase"] == "detection"


def test_service_rule_drops_through_the_api(client, people, sessions):
    made = create_integration(client, people.admin, "pagerduty")
    rules = [{"name": "quiet", "match": [{"label": "severity", "equals": "info"}], "drop": True}]
    client.put(SETTINGS.format(slug="checkout"), json={"rules": rules}, headers=people.admin)
    body = pd_trigger(made.key)
    body["payload"]["severity"] = "info"
    assert client.post(PD_ENQUEUE, json=body).status_code == 202
    assert stored(sessions) == (0, 0, 0)


def test_report_opens_then_joins(client, people):
    first = client.post(
        "/api/v1/reports",
        json={"text": "Checkout fails for EU customers", "service": "checkout", "reporter": "Ann"},
        headers=people.responder,
    )
    assert first.status_code == 201
    ref = first.json()["incident"]
    assert first.json() == {"incident": ref, "joined": False}
    incident = client.get(f"/api/v1/incidents/{ref}?timeline=true", headers=people.viewer).json()
    assert incident["phase"] == "detection"
    assert incident["title"] == "Customer report: Checkout fails for EU customers"
    assert incident["services"] == ["checkout"]
    assert incident["timeline"][-1]["kind"] == "customer_report"
    assert incident["timeline"][-1]["actor"] == "rita"
    second = client.post(
        "/api/v1/reports",
        json={"text": "Same here", "service": "checkout"},
        headers=people.bob,
    )
    assert second.json() == {"incident": ref, "joined": True}


def test_report_joins_an_incident_opened_by_an_alert(client, people):
    made = create_integration(client, people.admin, "pagerduty")
    _send(client, made, "k")
    ref = alerts(client, people.viewer)[0]["incident"]
    response = client.post(
        "/api/v1/reports", json={"text": "slow", "service": "checkout"}, headers=people.responder
    )
    assert response.json() == {"incident": ref, "joined": True}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": "   "}, 422),
        ({"text": "x", "service": "nope"}, 422),
        ({"text": "x", "severity": 1}, 422),
        ({"text": "a\u0000b"}, 422),
        ({}, 422),
    ],
)
def test_bad_reports(client, people, sessions, body, status):
    response = client.post("/api/v1/reports", json=body, headers=people.responder)
    assert response.status_code == status
    assert stored(sessions) == (0, 0, 0)


def test_viewers_cannot_report(client, people, sessions):
    response = client.post("/api/v1/reports", json={"text": "x"}, headers=people.viewer)
    assert response.status_code == 403
    assert stored(sessions) == (0, 0, 0)
