"""Debian's Alertmanager sending to a running warroom through both of its receivers.

Alerts are pushed to Alertmanager's own API as Prometheus would push them;
Alertmanager groups them by alertname and notifies the webhook receiver
(/integrations/alertmanager/KEY, one warroom alert per fingerprint) and the
PagerDuty receiver (/v2/enqueue, one warroom alert per group, keyed by the
SHA-256 of the groupKey), protocols.md sections 1.2 and 1.5.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e_alerts.conftest import Keys
from tests.e2e_alerts.harness import ROUTE_KEY, Alertmanager, Warroom, wait_for

pytestmark = pytest.mark.e2e

ERRORS = "CheckoutErrors"
LATENCY = "CheckoutLatency"
WEBHOOK = "checkout-alertmanager"  # the integrations' default names
PAGERDUTY = "checkout-pagerduty"
Alert = dict[str, Any]


def prometheus_alert(name: str, instance: str, *, resolved: bool = False) -> Alert:
    """An alert as Prometheus pushes it: no endsAt while firing, one in the past to resolve."""
    alert: Alert = {
        "labels": {"alertname": name, "instance": instance, "severity": "critical"},
        "annotations": {"summary": f"{name} on {instance}"},
        "generatorURL": "http://prometheus.invalid/graph",
    }
    if resolved:
        ended = datetime.now(UTC) - timedelta(minutes=1)
        alert["endsAt"] = ended.strftime("%Y-%m-%dT%H:%M:%SZ")
    return alert


def of(alerts: list[Alert], integration: str) -> dict[str, Alert]:
    """The alerts that came through ``integration``, by dedup key (one per key required)."""
    mine = [a for a in alerts if a["integration"] == integration]
    by_key = {a["dedup_key"]: a for a in mine}
    assert len(by_key) == len(mine), f"two alerts share a dedup key: {mine}"
    return by_key


def group_dedup_key(alertname: str) -> str:
    """What Alertmanager sends as dedup_key: sha256 hex of the group's groupKey."""
    group_key = f'{ROUTE_KEY}:{{alertname="{alertname}"}}'
    return hashlib.sha256(group_key.encode()).hexdigest()


def wait_alerts(warroom: Warroom, what: str, done: Any) -> list[Alert]:
    return wait_for(what, warroom.alerts, done)


def test_webhook_alerts_dedup_group_into_one_incident_and_resolve_it(
    warroom: Warroom, integrations: Keys, alertmanager: Alertmanager
) -> None:
    before = warroom.incident_refs()
    firing = [prometheus_alert(ERRORS, "web1"), prometheus_alert(ERRORS, "web2")]
    alertmanager.push(firing)
    prints = alertmanager.fingerprints()
    web1, web2 = prints[ERRORS, "web1"], prints[ERRORS, "web2"]

    wait_alerts(
        warroom,
        "webhook alerts for web1 and web2 plus the PagerDuty group alert",
        lambda alerts: of(alerts, WEBHOOK).keys() == {web1, web2} and of(alerts, PAGERDUTY),
    )
    listed = warroom.cli_alerts()
    webhook = of(listed, WEBHOOK)
    assert webhook.keys() == {web1, web2}
    for instance, key in (("web1", web1), ("web2", web2)):
        alert = webhook[key]
        assert alert["status"] == "triggered"
        assert alert["service"] == "checkout"
        assert alert["count"] >= 1
        assert alert["severity"] == "critical"
        assert alert["summary"] == f"{ERRORS} on {instance}"
        assert alert["labels"] == firing[0]["labels"] | {"instance": instance}
    refs = {a["incident"] for a in listed}
    assert len(refs) == 1, listed
    (ref,) = refs
    assert warroom.incident_refs() - before == {ref}
    assert warroom.incident(ref)["phase"] == "detection"

    # The same alerts again, several times, then a third one in the same group:
    # Alertmanager re-sends the whole group with it, so once web3 is in,
    # web1 and web2 have been delivered again too.
    for _ in range(3):
        alertmanager.push(firing)
    alertmanager.push([*firing, prometheus_alert(ERRORS, "web3")])
    web3 = alertmanager.fingerprints()[ERRORS, "web3"]
    after = wait_alerts(
        warroom,
        "web3 and a repeated PagerDuty trigger",
        lambda alerts: (
            web3 in of(alerts, WEBHOOK)
            and all(a["count"] >= 2 for a in of(alerts, PAGERDUTY).values())
        ),
    )
    webhook = of(after, WEBHOOK)
    assert webhook.keys() == {web1, web2, web3}
    assert webhook[web1]["count"] >= 2
    assert webhook[web2]["count"] >= 2
    assert len(of(after, PAGERDUTY)) == 1
    assert {a["incident"] for a in after} == {ref}
    assert warroom.incident_refs() - before == {ref}

    ended = [prometheus_alert(ERRORS, i, resolved=True) for i in ("web1", "web2", "web3")]
    alertmanager.push(ended)
    wait_for(
        f"{ref} resolving itself",
        lambda: warroom.incident(ref),
        lambda incident: incident["phase"] == "resolved",
    )
    final = warroom.cli_alerts()
    everything = (web1, web2, web3, *of(final, PAGERDUTY))
    assert {a["dedup_key"]: a["status"] for a in final} == dict.fromkeys(everything, "resolved")
    assert all(a["resolved_at"] for a in final)
    assert_timeline_explains(warroom, ref, final)


def assert_timeline_explains(warroom: Warroom, ref: str, alerts: list[Alert]) -> None:
    """Each alert entered, why it was grouped, each resolved, then the incident resolved."""
    incident = warroom.incident(ref, timeline=True)
    assert incident["acknowledged_at"] is None
    assert incident["resolved_at"] is not None
    entries = incident["timeline"]
    triggered = [e for e in entries if e["kind"] == "alert_triggered"]
    assert [e["data"]["dedup_key"] for e in triggered] == [
        a["dedup_key"] for a in sorted(alerts, key=lambda a: a["id"])
    ]
    first, *joined = triggered
    assert "opened in detection: no open incident on service checkout" in first["text"]
    for entry in joined:
        assert f"joined {ref}: it is open on service checkout" in entry["text"], entry
    by_id = {a["id"]: a for a in alerts}
    for entry in triggered:
        alert = by_id[entry["data"]["alert_id"]]
        assert alert["grouping_reason"] in entry["text"]
        assert entry["data"]["integration"] == alert["integration"]
    resolved = [e for e in entries if e["kind"] == "alert_resolved"]
    assert sorted(e["data"]["alert_id"] for e in resolved) == sorted(by_id)
    phases = [e for e in entries if e["kind"] == "phase_changed"]
    assert [(e["data"]["before"], e["data"]["after"]) for e in phases] == [
        ("detection", "resolved")
    ]
    assert "all its alerts resolved before anyone acknowledged" in phases[0]["text"]
    assert entries.index(phases[0]) > max(entries.index(e) for e in resolved)


def test_pagerduty_receiver_sends_one_alert_per_group_and_resolves_it(
    warroom: Warroom, integrations: Keys, alertmanager: Alertmanager
) -> None:
    names = [(ERRORS, "web1"), (ERRORS, "web2"), (LATENCY, "web1")]
    alertmanager.push([prometheus_alert(name, instance) for name, instance in names])
    groups = {group_dedup_key(ERRORS): 2, group_dedup_key(LATENCY): 1}

    alerts = wait_alerts(
        warroom,
        "one PagerDuty alert per Alertmanager group",
        lambda alerts: (
            of(alerts, PAGERDUTY).keys() == groups.keys() and len(of(alerts, WEBHOOK)) == len(names)
        ),
    )
    by_group = of(alerts, PAGERDUTY)
    for key, firing_count in groups.items():
        alert = by_group[key]
        assert len(key) == 64
        assert set(key) <= set("0123456789abcdef")
        assert alert["status"] == "triggered"
        assert alert["service"] == "checkout"
        assert alert["summary"].startswith(f"[FIRING:{firing_count}] ")
        assert str(alert["details"]["num_firing"]) == str(firing_count)
    assert by_group[group_dedup_key(LATENCY)]["summary"].startswith(f"[FIRING:1] {LATENCY}")
    assert len({a["incident"] for a in alerts}) == 1

    alertmanager.push([prometheus_alert(n, i, resolved=True) for n, i in names])
    resolved = wait_alerts(
        warroom,
        "the PagerDuty group alerts resolved",
        lambda alerts: all(a["status"] == "resolved" for a in of(alerts, PAGERDUTY).values()),
    )
    assert of(resolved, PAGERDUTY).keys() == groups.keys()
    listed = of(warroom.cli_alerts(), PAGERDUTY)
    assert {key: a["status"] for key, a in listed.items()} == dict.fromkeys(groups, "resolved")
    assert all(a["resolved_at"] for a in listed.values())
