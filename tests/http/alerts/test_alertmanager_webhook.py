"""POST /integrations/alertmanager/{key}: keys, auth and bad requests (protocols.md §1, §6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.factories import make_service
from tests.http.alerts.ingest import Made, alerts, create_integration, stored
from tests.unit.alerts.samples import DISK_FULL_FINGERPRINT, am_alert, am_body
from warroom.alerts import integrations
from warroom.alerts.integrations import IntegrationType
from warroom.db.uow import unit_of_work
from warroom.settings import Settings
from warroom.web.app import create_app

DB2 = {"alertname": "DiskFull", "instance": "db2", "severity": "critical"}


@pytest.fixture
def am(client: TestClient, people) -> Made:
    return create_integration(client, people.admin, "alertmanager")


def _still_serving(client: TestClient, made: Made) -> None:
    response = client.post(f"/integrations/alertmanager/{made.key}", json=am_body())
    assert response.status_code == 200, response.text


def test_key_in_the_url(client, people, am):
    assert am.endpoint == f"http://127.0.0.1:8080/integrations/alertmanager/{am.key}"
    response = client.post(f"/integrations/alertmanager/{am.key}", json=am_body())
    assert response.status_code == 200
    [alert] = alerts(client, people.viewer)
    assert response.json() == {
        "status": "success",
        "alerts": 1,
        "truncated": 0,
        "incidents": [alert["incident"]],
    }
    assert alert["dedup_key"] == DISK_FULL_FINGERPRINT
    assert alert["summary"] == "disk full on db1"
    assert alert["labels"]["instance"] == "db1"
    assert alert["links"] == [{"href": "http://prom.example/graph", "text": "Source"}]


def test_key_as_bearer_token(client, people, am):
    headers = {"Authorization": f"Bearer {am.key}"}
    response = client.post("/integrations/alertmanager", json=am_body(), headers=headers)
    assert response.status_code == 200
    assert len(alerts(client, people.viewer)) == 1


def test_key_as_basic_auth_password(client, people, am):
    response = client.post(
        "/integrations/alertmanager", json=am_body(), auth=("alertmanager", am.key)
    )
    assert response.status_code == 200
    assert len(alerts(client, people.viewer)) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic bm9wYXNzd29yZA=="},  # "nopassword", no colon
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Token abc"},
    ],
    ids=["none", "empty-bearer", "basic-without-password", "basic-garbage", "other-scheme"],
)
def test_missing_key_is_401(client, sessions, am, headers):
    response = client.post("/integrations/alertmanager", json=am_body(), headers=headers)
    assert response.status_code == 401
    assert "integration key is missing" in response.json()["detail"]
    assert stored(sessions) == (0, 0, 0)
    _still_serving(client, am)


def test_unknown_key_is_403(client, sessions, am):
    for request in (
        {"url": "/integrations/alertmanager/" + "0" * 32},
        {"url": "/integrations/alertmanager", "headers": {"Authorization": "Bearer " + "0" * 32}},
    ):
        response = client.post(**request, json=am_body())
        assert response.status_code == 403
        assert response.json() == {"detail": "unknown or revoked integration key"}
    assert stored(sessions) == (0, 0, 0)
    _still_serving(client, am)


def test_revoked_key_is_403(client, people, sessions):
    made = create_integration(client, people.admin, "alertmanager")
    client.delete(f"/api/v1/integrations/{made.id}", headers=people.admin)
    response = client.post(f"/integrations/alertmanager/{made.key}", json=am_body())
    assert response.status_code == 403
    assert stored(sessions) == (0, 0, 0)


def test_key_of_another_type_is_403_and_names_the_right_endpoint(client, people, sessions, am):
    pagerduty = create_integration(client, people.admin, "pagerduty")
    response = client.post(f"/integrations/alertmanager/{pagerduty.key}", json=am_body())
    assert response.status_code == 403
    assert "/v2/enqueue" in response.json()["detail"]
    grafana = create_integration(client, people.admin, "grafana")
    response = client.post(f"/integrations/alertmanager/{grafana.key}", json=am_body())
    assert response.status_code == 403
    assert "/integrations/grafana/KEY" in response.json()["detail"]
    assert stored(sessions) == (0, 0, 0)


@pytest.mark.parametrize("path", ["/integrations/pagerduty/KEY", "/integrations/opsgenie/KEY"])
def test_pagerduty_and_unknown_types_are_404(client, path):
    assert client.post(path, json=am_body()).status_code == 404


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"{not json", "the request body is not valid JSON"),
        (b'{"version": "4", "alerts": {}}', "'alerts' must be a list"),
        (b'{"version": "1", "alerts": []}', "'version' is '1'; this endpoint takes '4'"),
        (b"[]", "the notification must be a JSON object"),
    ],
)
def test_malformed_is_400(client, sessions, am, raw, fragment):
    response = client.post(
        f"/integrations/alertmanager/{am.key}",
        content=raw,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert fragment in response.json()["detail"]
    assert stored(sessions) == (0, 0, 0)
    _still_serving(client, am)


def test_invalid_alert_is_400_with_errors_and_nothing_of_the_group_is_stored(client, sessions, am):
    body = am_body(am_alert(), am_alert(labels={"alertname": "X", "n": 1}))
    response = client.post(f"/integrations/alertmanager/{am.key}", json=body)
    assert response.status_code == 400
    assert response.json()["errors"] == ["'alerts[1].labels.n' must be a string"]
    assert stored(sessions) == (0, 0, 0)


def test_ten_thousand_labels_are_400(client, sessions, am):
    labels = {f"l{i}": "v" for i in range(10_000)}
    response = client.post(
        f"/integrations/alertmanager/{am.key}", json=am_body(am_alert(labels=labels))
    )
    assert response.status_code == 400
    assert stored(sessions) == (0, 0, 0)
    _still_serving(client, am)


def test_body_over_the_webhook_limit_is_413(sessions, clock, tmp_path: Path):
    settings = Settings(var_dir=tmp_path, secret_key="x" * 40, max_body_bytes=64 * 1024 * 1024)
    with TestClient(create_app(settings, sessions=sessions, clock=clock)) as big:
        with unit_of_work(sessions) as session:
            make_service(session, clock.now(), "checkout")
            _, key = integrations.create(
                session=session,
                now=clock.now(),
                service_slug="checkout",
                type_=IntegrationType.ALERTMANAGER,
            )
        body = am_body()
        body["padding"] = "y" * (8 * 1024 * 1024)
        response = big.post(f"/integrations/alertmanager/{key}", json=body)
        assert response.status_code == 413
        assert stored(sessions) == (0, 0, 0)
        assert big.post(f"/integrations/alertmanager/{key}", json=am_body()).status_code == 200


def test_repeats_bump_and_resolution_resolves(client, people, am):
    url = f"/integrations/alertmanager/{am.key}"
    firing = am_body(am_alert(), am_alert(labels=DB2, fingerprint=""))
    assert client.post(url, json=firing).json()["alerts"] == 2
    assert client.post(url, json=firing).status_code == 200
    listed = alerts(client, people.viewer)
    assert [a["count"] for a in listed] == [2, 2]
    assert len({a["incident"] for a in listed}) == 1
    one_resolved = am_body(am_alert(), am_alert(status="resolved", labels=DB2, fingerprint=""))
    client.post(url, json=one_resolved)
    statuses = {a["labels"]["instance"]: a["status"] for a in alerts(client, people.viewer)}
    assert statuses == {"db1": "triggered", "db2": "resolved"}
    all_resolved = am_body(
        am_alert(status="resolved", endsAt="2026-11-27T10:05:00Z"),
        status="resolved",
    )
    client.post(url, json=all_resolved)
    ref = listed[0]["incident"]
    incident = client.get(f"/api/v1/incidents/{ref}", headers=people.viewer).json()
    assert incident["phase"] == "resolved"


def test_a_webhook_sorts_new_open_and_repeated_keys_alike(client, people, am):
    # Keys are looked up for the whole webhook at once: a key open before, a key
    # new in it, the same new key twice, and a key resolved earlier firing again.
    url = f"/integrations/alertmanager/{am.key}"
    host = {"alertname": "DiskFull", "severity": "critical"}
    old, gone = am_alert(fingerprint="old"), am_alert(labels={**host, "instance": "gone"})
    client.post(url, json=am_body(old, {**gone, "fingerprint": "gone"}))
    client.post(url, json=am_body({**gone, "fingerprint": "gone", "status": "resolved"}))
    new = am_alert(labels={**host, "instance": "new"}, fingerprint="new")
    mixed = am_body(old, new, new, {**gone, "fingerprint": "gone"})
    assert client.post(url, json=mixed).json()["alerts"] == 4
    listed = alerts(client, people.viewer)
    counts = sorted((a["dedup_key"], a["status"], a["count"]) for a in listed)
    assert counts == [
        ("gone", "resolved", 1),
        ("gone", "triggered", 1),
        ("new", "triggered", 2),
        ("old", "triggered", 2),
    ]
    ref = listed[0]["incident"]
    incident = client.get(f"/api/v1/incidents/{ref}?timeline=true", headers=people.viewer).json()
    opened = [e["data"] for e in incident["timeline"] if e["kind"] == "alert_triggered"]
    ids = {(a["dedup_key"], a["status"]): a["id"] for a in listed}
    assert [(d["dedup_key"], d["alert_id"]) for d in opened] == [
        ("old", ids["old", "triggered"]),
        ("gone", ids["gone", "resolved"]),
        ("new", ids["new", "triggered"]),
        ("gone", ids["gone", "triggered"]),
    ]
    assert {d["integration"] for d in opened} == {"checkout-alertmanager"}


def test_an_alert_opened_and_resolved_in_one_webhook_ends_resolved(client, people, am):
    # New alerts of a webhook may be written together at its end (PostgreSQL):
    # a resolution later in the same webhook must still find its alert.
    url = f"/integrations/alertmanager/{am.key}"
    host = {"alertname": "DiskFull", "severity": "critical"}
    flap = am_alert(labels={**host, "instance": "flap"}, fingerprint="flap")
    stays = am_alert(labels={**host, "instance": "stays"}, fingerprint="stays")
    body = am_body(flap, stays, {**flap, "status": "resolved"})
    assert client.post(url, json=body).json()["alerts"] == 3
    listed = {a["dedup_key"]: a for a in alerts(client, people.viewer)}
    assert {k: (a["status"], a["count"]) for k, a in listed.items()} == {
        "flap": ("resolved", 1),
        "stays": ("triggered", 1),
    }
    ref = listed["stays"]["incident"]
    incident = client.get(f"/api/v1/incidents/{ref}?timeline=true", headers=people.viewer).json()
    kinds = [(e["kind"], e["data"].get("alert_id")) for e in incident["timeline"]]
    assert ("alert_triggered", listed["flap"]["id"]) in kinds
    assert ("alert_triggered", listed["stays"]["id"]) in kinds
    assert ("alert_resolved", listed["flap"]["id"]) in kinds
    assert incident["phase"] == "detection"  # one alert still fires


def test_routing_rules_place_each_alert_of_one_webhook(client, people, am):
    # Dropped, redirected to another service (a new incident there), declared,
    # and plain alerts side by side in one webhook, all new.
    rules = [
        {"name": "quiet", "match": [{"label": "instance", "equals": "noise"}], "drop": True},
        {
            "name": "to-search",
            "match": [{"label": "instance", "equals": "s1"}],
            "service": "search",
        },
    ]
    settings = "/api/v1/services/checkout/alert-settings"
    assert client.put(settings, json={"rules": rules}, headers=people.admin).status_code == 200
    host = {"alertname": "DiskFull", "severity": "critical"}
    group = [
        am_alert(labels={**host, "instance": name}, fingerprint=name)
        for name in ("c1", "noise", "s1", "c2")
    ]
    answer = client.post(f"/integrations/alertmanager/{am.key}", json=am_body(*group)).json()
    assert answer["alerts"] == 4
    assert len(answer["incidents"]) == 2
    listed = {a["dedup_key"]: a for a in alerts(client, people.viewer)}
    assert sorted(listed) == ["c1", "c2", "s1"]
    assert listed["c1"]["incident"] == listed["c2"]["incident"] != listed["s1"]["incident"]
    assert (listed["s1"]["service"], listed["c1"]["service"]) == ("search", "checkout")
    for key, alert in listed.items():
        ref = alert["incident"]
        shown = client.get(f"/api/v1/incidents/{ref}?timeline=true", headers=people.viewer)
        [entry] = [e for e in shown.json()["timeline"] if e["data"].get("dedup_key") == key]
        assert entry["kind"] == "alert_triggered"
        assert entry["data"]["alert_id"] == alert["id"]
        assert entry["data"]["rule"] == ("to-search" if key == "s1" else None)


def test_truncated_group_is_reported(client, am):
    response = client.post(f"/integrations/alertmanager/{am.key}", json=am_body(truncatedAlerts=1))
    assert response.json()["truncated"] == 1


def test_large_valid_group_under_the_webhook_limit_is_accepted(client, am):
    text = "Disk usage above 95% on the data volume; see the runbook. " * 60
    group = [
        am_alert(
            labels={**DB2, "instance": f"db{i}"},
            annotations={"summary": f"disk full on db{i}", "description": text},
            fingerprint="",
        )
        for i in range(400)
    ]
    body = am_body(*group)
    response = client.post(f"/integrations/alertmanager/{am.key}", json=body)
    assert response.status_code == 200
    assert response.json()["alerts"] == 400
