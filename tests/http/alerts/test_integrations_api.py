"""/api/v1/integrations: create, list, change, rotate and revoke, and who may do what."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.http.alerts.ingest import PD_ENQUEUE, create_integration, patch_integration
from tests.http.api import Headers, error_fields
from tests.unit.alerts.samples import pd_trigger
from warroom.alerts.integrations import ROTATION_GRACE

API = "/api/v1/integrations"


def _listed(client: TestClient, headers: Headers, **params: Any) -> list[dict[str, Any]]:
    response = client.get(API, params=params, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


def _accepted(client: TestClient, key: str) -> bool:
    response = client.post(PD_ENQUEUE, json=pd_trigger(key))
    assert response.status_code in (202, 400), response.text
    return bool(response.status_code == 202)


def test_create_shows_the_key_once(client, people):
    response = client.post(
        API,
        json={"service": "checkout", "type": "pagerduty", "name": "Prometheus prod"},
        headers=people.admin,
    )
    assert response.status_code == 201
    created = response.json()
    assert set(created) == {"id", "key", "endpoint"}
    assert len(created["key"]) == 32
    assert created["endpoint"] == "http://127.0.0.1:8080/v2/enqueue"
    [shown] = _listed(client, people.viewer)
    assert created["key"] not in str(shown)
    assert shown["key_prefix"] == created["key"][:6]
    assert shown["name"] == "Prometheus prod"
    assert (shown["service"], shown["type"], shown["rate_limit_per_minute"]) == (
        "checkout",
        "pagerduty",
        0,
    )
    assert (shown["rotated_at"], shown["revoked_at"]) == (None, None)
    assert shown["created_at"] == "2026-11-27T10:00:00Z"


def test_webhook_endpoint_has_the_key_at_create_and_a_placeholder_later(client, people):
    made = create_integration(client, people.admin, "alertmanager")
    assert made.endpoint.endswith(f"/integrations/alertmanager/{made.key}")
    [shown] = _listed(client, people.viewer)
    assert shown["endpoint"].endswith("/integrations/alertmanager/KEY")


@pytest.mark.parametrize("who", ["responder", "viewer"])
def test_only_admins_create_change_rotate_and_revoke(client, people, who):
    headers = getattr(people, who)
    made = create_integration(client, people.admin, "pagerduty")
    body = {"service": "checkout", "type": "pagerduty"}
    assert client.post(API, json=body, headers=headers).status_code == 403
    assert client.patch(f"{API}/{made.id}", json={"name": "x"}, headers=headers).status_code == 403
    assert client.post(f"{API}/{made.id}/rotate", headers=headers).status_code == 403
    assert client.delete(f"{API}/{made.id}", headers=headers).status_code == 403
    assert len(_listed(client, people.admin)) == 1
    assert _listed(client, people.admin)[0]["name"] == "checkout-pagerduty"
    assert _accepted(client, made.key)


def test_without_a_token_nothing_is_shown(client, people):
    create_integration(client, people.admin, "pagerduty")
    assert client.get(API).status_code == 401
    assert client.post(API, json={"service": "checkout", "type": "generic"}).status_code == 401


def test_secrets_in_config_are_masked_in_every_read(client, people):
    config = {"hmac_secret": "hunter2", "hmac_header": "X-Sig"}
    made = create_integration(client, people.admin, "grafana", config=config)
    masked = {"hmac_secret": "********", "hmac_header": "X-Sig"}
    assert _listed(client, people.viewer)[0]["config"] == masked
    patched = patch_integration(client, people.admin, made, name="renamed")
    assert patched["config"] == masked
    revoked = client.delete(f"{API}/{made.id}", headers=people.admin).json()
    assert revoked["config"] == masked
    assert "hunter2" not in client.get(API, headers=people.admin).text


def test_list_by_service(client, people):
    create_integration(client, people.admin, "pagerduty")
    create_integration(client, people.admin, "generic", service="search")
    assert [i["type"] for i in _listed(client, people.viewer, service="search")] == ["generic"]
    assert len(_listed(client, people.viewer)) == 2
    unknown = client.get(API, params={"service": "nope"}, headers=people.viewer)
    assert unknown.status_code == 422


def test_patch_changes_name_limit_rules_and_config(client, people):
    made = create_integration(client, people.admin, "generic")
    rules = [{"name": "drop-tests", "match": [{"label": "env", "equals": "test"}], "drop": True}]
    shown = patch_integration(
        client,
        people.admin,
        made,
        name="Jenkins",
        rate_limit_per_minute=60,
        rules=rules,
        config={"paths": {"summary": "title"}},
    )
    assert (shown["name"], shown["rate_limit_per_minute"]) == ("Jenkins", 60)
    assert shown["rules"] == rules
    assert shown["config"] == {"paths": {"summary": "title"}}
    again = patch_integration(client, people.admin, made, name="Jenkins CI")
    assert (again["rate_limit_per_minute"], again["rules"]) == (60, rules)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rules": [{"match": [{"label": "a", "regex": "("}]}]}, "rules"),
        ({"rules": [{"colour": "red"}]}, "rules"),
        ({"rate_limit_per_minute": -1}, "rate_limit_per_minute"),
        ({"key": "mine"}, "key"),
        ({"name": "x" * 101}, "name"),
    ],
)
def test_bad_patches_are_422(client, people, body, field):
    made = create_integration(client, people.admin, "pagerduty")
    response = client.patch(f"{API}/{made.id}", json=body, headers=people.admin)
    assert response.status_code == 422
    assert field in error_fields(response.json())
    assert _listed(client, people.viewer)[0]["rules"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"service": "nope", "type": "pagerduty"}, "service"),
        ({"service": "checkout", "type": "opsgenie"}, "type"),
        ({"service": "checkout"}, "type"),
        ({"service": "checkout", "type": "generic", "rules": [{"drop": "yes"}]}, "rules"),
    ],
)
def test_bad_creates_are_422(client, people, body, field):
    response = client.post(API, json=body, headers=people.admin)
    assert response.status_code == 422
    assert field in error_fields(response.json())
    assert _listed(client, people.viewer) == []


def test_rotate_keeps_the_old_key_working_for_the_grace_period(client, people, clock):
    made = create_integration(client, people.admin, "pagerduty")
    response = client.post(f"{API}/{made.id}/rotate", headers=people.admin)
    assert response.status_code == 200
    rotated = response.json()
    assert rotated["id"] == made.id
    assert rotated["key"] != made.key
    assert len(rotated["key"]) == 32
    [shown] = _listed(client, people.viewer)
    assert shown["key_prefix"] == rotated["key"][:6]
    assert shown["rotated_at"] == "2026-11-27T10:00:00Z"
    assert _accepted(client, made.key)
    assert _accepted(client, rotated["key"])
    clock.advance(ROTATION_GRACE + timedelta(seconds=1))
    assert not _accepted(client, made.key)
    assert _accepted(client, rotated["key"])


def test_revoke_stops_the_key_at_once(client, people):
    made = create_integration(client, people.admin, "pagerduty")
    response = client.delete(f"{API}/{made.id}", headers=people.admin)
    assert response.status_code == 200
    assert response.json()["revoked_at"] == "2026-11-27T10:00:00Z"
    assert not _accepted(client, made.key)
    rotate = client.post(f"{API}/{made.id}/rotate", headers=people.admin)
    assert rotate.status_code == 422
    assert client.delete(f"{API}/{made.id}", headers=people.admin).status_code == 200


@pytest.mark.parametrize(("integration_id", "status"), [(999, 404), (0, 422), ("x", 422)])
def test_unknown_integrations(client, people, integration_id, status):
    assert (
        client.patch(
            f"{API}/{integration_id}", json={"name": "n"}, headers=people.admin
        ).status_code
        == status
    )
    assert client.post(f"{API}/{integration_id}/rotate", headers=people.admin).status_code == status
    assert client.delete(f"{API}/{integration_id}", headers=people.admin).status_code == status
