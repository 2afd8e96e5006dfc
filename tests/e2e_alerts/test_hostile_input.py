"""Hostile input against a running warroom's ingest endpoints.

Each request must get the right 4xx (PagerDuty's 400 body on /v2/enqueue,
since senders log it and do not retry it), store nothing, and leave the
server serving: /healthz and a valid event on each endpoint succeed after it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e_alerts.conftest import Keys, make_keys
from tests.e2e_alerts.harness import Warroom

# One worker per module under --dist loadgroup: its server is started once per backend.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e_alerts_hostile")]

ENQUEUE = "/v2/enqueue"
UNKNOWN_KEY = "0123456789abcdef0123456789abcdef"
PD_400 = {"status": "invalid event", "message": "Event object is invalid"}


@dataclass(frozen=True)
class Target:
    server: Warroom
    keys: Keys
    revoked: Keys


@pytest.fixture(scope="module")
def target(shared_warroom: Warroom) -> Target:
    keys, revoked = make_keys(shared_warroom, sets=2)
    doomed = Target(shared_warroom, revoked, revoked)
    assert_takes_valid_events(doomed)  # the keys worked until revoked
    shared_warroom.cli_concurrently(
        *[
            ("integration", "revoke", str(integration_id))
            for integration_id in (revoked.alertmanager_id, revoked.pagerduty_id)
        ]
    )
    return Target(shared_warroom, keys, revoked)


def trigger(key: str, **payload: Any) -> dict[str, Any]:
    """A valid PagerDuty trigger, with ``payload`` fields replaced."""
    base = {"summary": "hostile test", "source": "hostile.test", "severity": "critical"}
    return {"routing_key": key, "event_action": "trigger", "payload": base | payload}


def notification(*alerts: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A valid Alertmanager v4 notification of ``alerts`` (firing), with ``fields`` replaced."""
    body = {
        "version": "4",
        "status": "firing",
        "receiver": "warroom",
        "groupKey": '{}:{alertname="Hostile"}',
        "groupLabels": {"alertname": "Hostile"},
        "externalURL": "http://alertmanager.invalid",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "Hostile", "instance": "web1"},
                "annotations": {"summary": "hostile test"},
                "startsAt": "2026-11-27T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
            }
            | alert
            for alert in alerts or ({},)
        ],
    }
    return body | fields


Body = Callable[[Target], Any]  # bytes as they are, anything else as JSON
Request = tuple[Callable[[Target], str], Body]


def enqueue(body: Body) -> Request:
    return (lambda t: ENQUEUE), body


def webhook(body: Body, key: Callable[[Target], str] = lambda t: t.keys.alertmanager) -> Request:
    return (lambda t: f"/integrations/alertmanager/{key(t)}"), body


_CUSTOM = "custom_details"


def nested(depth: int, leaf: Any) -> Any:
    """``leaf`` inside ``depth`` levels of objects (deep custom_details are legal JSON)."""
    for level in range(depth):
        leaf = {f"level{level}": leaf}
    return leaf


ENQUEUE_CASES = [
    pytest.param(enqueue(lambda t: b'{"routing_key": "'), id="malformed-json"),
    pytest.param(enqueue(lambda t: b""), id="empty-body"),
    pytest.param(enqueue(lambda t: [trigger(t.keys.pagerduty)]), id="array-not-object"),
    pytest.param(enqueue(lambda t: trigger(t.keys.pagerduty) | {"routing_key": 42}), id="key-int"),
    pytest.param(enqueue(lambda t: trigger(t.keys.pagerduty, summary=7)), id="summary-int"),
    pytest.param(enqueue(lambda t: trigger(t.keys.pagerduty, source=["a"])), id="source-list"),
    pytest.param(enqueue(lambda t: trigger(t.keys.pagerduty, severity="sev1")), id="severity"),
    pytest.param(enqueue(lambda t: trigger(t.keys.pagerduty) | {"payload": "x"}), id="payload-str"),
    pytest.param(
        enqueue(lambda t: trigger(t.keys.pagerduty) | {"event_action": "explode"}), id="action"
    ),
    pytest.param(
        enqueue(lambda t: {"routing_key": t.keys.pagerduty, "event_action": "resolve"}),
        id="resolve-without-dedup-key",
    ),
    pytest.param(
        enqueue(lambda t: trigger(t.keys.pagerduty) | {"dedup_key": "k" * 256}), id="dedup-256"
    ),
    pytest.param(enqueue(lambda t: trigger(t.keys.pagerduty, summary="s" * 1025)), id="sum-1025"),
    pytest.param(enqueue(lambda t: trigger(t.keys.pagerduty, summary="a\x00b")), id="nul-summary"),
    pytest.param(
        enqueue(
            lambda t: json.dumps(trigger(t.keys.pagerduty)).replace("test", "\\ud800").encode()
        ),
        id="lone-surrogate",
    ),
    pytest.param(
        enqueue(lambda t: json.dumps(trigger(t.keys.pagerduty)).encode().replace(b"test", b"\xff")),
        id="invalid-utf8",
    ),
    pytest.param(enqueue(lambda t: trigger(UNKNOWN_KEY)), id="unknown-key"),
    pytest.param(enqueue(lambda t: trigger(t.revoked.pagerduty)), id="revoked-key"),
    pytest.param(enqueue(lambda t: trigger(t.keys.alertmanager)), id="alertmanager-key"),
    pytest.param(
        enqueue(lambda t: trigger(t.keys.pagerduty, **{_CUSTOM: {"pad": "x" * 600_000}})),
        id="over-512kb",
    ),
    pytest.param(
        enqueue(lambda t: trigger(t.keys.pagerduty, **{_CUSTOM: {"pad": "x" * 1_100_000}})),
        id="over-1mib",
    ),
    pytest.param(
        enqueue(lambda t: trigger(t.keys.pagerduty, **{_CUSTOM: {"host": "db\x001"}})),
        id="nul-in-custom-details",
    ),
    pytest.param(
        enqueue(lambda t: trigger(t.keys.pagerduty, **{_CUSTOM: nested(100, "db\x001")})),
        id="nul-deep-in-custom-details",
    ),
    pytest.param(
        enqueue(lambda t: trigger(t.keys.pagerduty) | {"links": [{"href": "http://x/\x00"}]}),
        id="nul-in-link",
    ),
]

WEBHOOK_CASES = [
    pytest.param(webhook(lambda t: b'{"version": "4", "alerts": ['), 400, id="malformed-json"),
    pytest.param(webhook(lambda t: notification(alerts={"a": 1})), 400, id="alerts-object"),
    pytest.param(webhook(lambda t: notification({"labels": {"a": 1}})), 400, id="label-int"),
    pytest.param(webhook(lambda t: notification({"labels": ["a"]})), 400, id="labels-list"),
    pytest.param(webhook(lambda t: notification({"status": 3})), 400, id="status-int"),
    pytest.param(webhook(lambda t: notification({"startsAt": 17})), 400, id="starts-at-int"),
    pytest.param(webhook(lambda t: notification(version="1")), 400, id="wrong-version"),
    pytest.param(
        webhook(lambda t: notification({"labels": {f"label{i}": "v" for i in range(10_000)}})),
        400,
        id="10000-labels",
    ),
    pytest.param(
        webhook(lambda t: notification({"labels": {"alertname": "a\x00b"}})), 400, id="nul-label"
    ),
    pytest.param(
        webhook(lambda t: json.dumps(notification()).encode().replace(b"hostile", b"\xc3(")),
        400,
        id="invalid-utf8",
    ),
    pytest.param(webhook(lambda t: notification(), lambda t: UNKNOWN_KEY), 403, id="unknown-key"),
    pytest.param(
        webhook(lambda t: notification(), lambda t: t.revoked.alertmanager), 403, id="revoked-key"
    ),
    pytest.param(
        webhook(lambda t: notification(), lambda t: t.keys.pagerduty), 403, id="pagerduty-key"
    ),
    pytest.param(
        ((lambda t: "/integrations/alertmanager"), lambda t: notification()), 401, id="no-key"
    ),
    pytest.param(
        ((lambda t: f"/integrations/nagios/{t.keys.alertmanager}"), lambda t: notification()),
        404,
        id="unknown-type",
    ),
    pytest.param(webhook(lambda t: b" " * (9 * 1024 * 1024)), 413, id="over-8mib"),
    pytest.param(
        webhook(lambda t: notification({"generatorURL": "http://prometheus/\x00"})),
        400,
        id="nul-in-generator-url",
    ),
    pytest.param(
        webhook(lambda t: notification({"fingerprint": "ab\x00cd"})),
        400,
        id="nul-in-fingerprint",
    ),
    pytest.param(
        webhook(lambda t: notification(externalURL="http://am/\x00")), 400, id="nul-external-url"
    ),
    pytest.param(webhook(lambda t: notification(groupKey="{}:\x00")), 400, id="nul-group-key"),
    pytest.param(
        webhook(lambda t: notification({"values": nested(100, "db\x001")})),
        400,
        id="nul-deep-in-values",
    ),
]


def send(target: Target, request: Request) -> Any:
    path_of, body_of = request
    body = body_of(target)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return target.server.post(path_of(target), raw)


def snapshot(server: Warroom) -> list[tuple[Any, ...]]:
    """Every alert's identity and everything an event could change about it."""
    fields = ("id", "dedup_key", "status", "count", "last_seen_at", "summary", "details")
    return [tuple(json.dumps(a[f]) for f in fields) for a in server.alerts()]


def assert_takes_valid_events(target: Target) -> None:
    """A valid event on each endpoint succeeds."""
    canary = trigger(target.keys.pagerduty) | {"dedup_key": "canary"}
    response = target.server.post(ENQUEUE, json.dumps(canary).encode())
    assert response.status_code == 202, response.text
    assert response.json()["dedup_key"] == "canary"
    response = send(target, webhook(lambda t: notification({"labels": {"alertname": "Canary"}})))
    assert response.status_code == 200, response.text


def assert_unharmed(target: Target, before: list[tuple[Any, ...]]) -> None:
    """Nothing stored or changed, and the server still serves."""
    assert snapshot(target.server) == before
    assert target.server.api("GET", "/healthz").json() == {"status": "ok"}
    assert_takes_valid_events(target)


@pytest.mark.parametrize("request_", ENQUEUE_CASES)
def test_enqueue_refuses_with_a_pagerduty_400(target: Target, request_: Request) -> None:
    before = snapshot(target.server)
    response = send(target, request_)
    assert response.status_code == 400, response.text
    body = response.json()
    assert {k: body.get(k) for k in PD_400} == PD_400, body
    assert body["errors"], body
    assert all(isinstance(e, str) and e for e in body["errors"]), body
    assert_unharmed(target, before)


@pytest.mark.parametrize(("request_", "status"), WEBHOOK_CASES)
def test_webhook_refuses(target: Target, request_: Request, status: int) -> None:
    before = snapshot(target.server)
    response = send(target, request_)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert detail
    assert_unharmed(target, before)


def test_unicode_round_trips(target: Target) -> None:
    """Any valid Unicode is data: stored and shown exactly as sent."""
    text = "Zahlung ✓ 決済 💳👩‍💻 مرحبا e\u0301 \u200b\u2028 "
    event = trigger(target.keys.pagerduty, summary=text, **{_CUSTOM: {"ключ": text, "🔑": [text]}})
    response = target.server.post(ENQUEUE, json.dumps(event).encode())
    assert response.status_code == 202, response.text
    key = response.json()["dedup_key"]
    labels = {"alertname": "Unicode", "instance": "wéb-1", "team": text}
    body = notification({"labels": labels, "annotations": {"summary": text}})
    assert send(target, webhook(lambda t: body)).status_code == 200
    alerts = {a["dedup_key"]: a for a in target.server.alerts()}
    assert alerts[key]["summary"] == text
    assert alerts[key]["details"] == {"ключ": text, "🔑": [text]}
    (unicode,) = [a for a in alerts.values() if a["labels"].get("alertname") == "Unicode"]
    assert unicode["labels"] == labels
    assert unicode["summary"] == text


def test_webhook_takes_a_large_notification_within_its_limit(target: Target) -> None:
    """1.3 MB (300 alerts with long annotations): over the API's 1 MiB default but within
    the webhook's own 8 MiB; Alertmanager never retries a 4xx, so a refusal loses the group."""
    description = "Checkout 5xx above threshold; runbook follows. " + "x" * 4000
    alerts = [
        {"labels": {"alertname": "Large", "instance": f"web{i}"}, "annotations": {"d": description}}
        for i in range(300)
    ]
    response = send(target, webhook(lambda t: notification(*alerts)))
    assert response.status_code == 200, response.text
    assert response.json()["alerts"] == 300
