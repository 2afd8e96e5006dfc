"""Webhook bodies shaped after protocols.md §1.1 (Alertmanager v4) and §4 (Grafana v1)."""

from __future__ import annotations

import copy
from typing import Any

GO_ZERO_TIME = "0001-01-01T00:00:00Z"
DISK_FULL_LABELS = {"alertname": "DiskFull", "instance": "db1", "severity": "critical"}
DISK_FULL_FINGERPRINT = "e94c744ae3d44df8"
GROUP_KEY = '{}:{alertname="DiskFull"}'

_AM_ALERT: dict[str, Any] = {
    "status": "firing",
    "labels": DISK_FULL_LABELS,
    "annotations": {"summary": "disk full on db1"},
    "startsAt": "2026-11-27T06:20:23Z",
    "endsAt": GO_ZERO_TIME,
    "generatorURL": "http://prom.example/graph",
    "fingerprint": DISK_FULL_FINGERPRINT,
}

_AM_BODY: dict[str, Any] = {
    "receiver": "both",
    "status": "firing",
    "alerts": [_AM_ALERT],
    "groupLabels": {"alertname": "DiskFull"},
    "commonLabels": DISK_FULL_LABELS,
    "commonAnnotations": {"summary": "disk full on db1"},
    "externalURL": "http://127.0.0.1:19093",
    "version": "4",
    "groupKey": GROUP_KEY,
    "truncatedAlerts": 0,
}

_GRAFANA_EXTRA_ALERT: dict[str, Any] = {
    "silenceURL": "http://grafana.example/alerting/silence/new?alertmanager=grafana",
    "dashboardURL": "http://grafana.example/d/abc",
    "panelURL": "http://grafana.example/d/abc?viewPanel=2",
    "values": {"B": 44.2, "C": 1},
    "valueString": "[ var='B' labels={} value=44.2 ]",
    "ruleUID": "rule-uid-1",
    "orgId": 1,
    "enrichments": {"anything": ["goes", 1, None]},
}


def am_alert(**changes: Any) -> dict[str, Any]:
    """One Alertmanager alert object (DiskFull on db1, firing) with ``changes``."""
    alert = copy.deepcopy(_AM_ALERT)
    alert.update(changes)
    return alert


def am_body(*alerts: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """An Alertmanager v4 notification of ``alerts`` (default: the DiskFull example)."""
    body = copy.deepcopy(_AM_BODY)
    if alerts:
        body["alerts"] = list(alerts)
    body.update(changes)
    return body


def grafana_alert(**changes: Any) -> dict[str, Any]:
    """One Grafana alert object: the Alertmanager fields plus Grafana's additions."""
    alert = am_alert(generatorURL="http://grafana.example/alerting/grafana/rule-uid-1/view?orgId=1")
    alert.update(copy.deepcopy(_GRAFANA_EXTRA_ALERT))
    alert.update(changes)
    return alert


def grafana_body(*alerts: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A Grafana v1 webhook notification of ``alerts`` (default: one firing alert)."""
    body = am_body(*(alerts or (grafana_alert(),)))
    body.update(
        {
            "version": "1",
            "orgId": 1,
            "state": "alerting",
            "title": "[FIRING:1] DiskFull",
            "message": "**Firing**\n\nValue: B=44.2",
            "appVersion": "11.3.0",
            "externalURL": "http://grafana.example/",
        }
    )
    body.update(changes)
    return body


def pd_trigger(routing_key: str = "k" * 32, **changes: Any) -> dict[str, Any]:
    """A PagerDuty Events v2 trigger (protocols.md §2.1) with ``changes`` at top level."""
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": "disk-full-db1",
        "payload": {
            "summary": "Disk full on db1",
            "source": "db1.example.com",
            "severity": "critical",
        },
    }
    event.update(changes)
    return event
