"""Alertmanager fingerprints and v4 / Grafana v1 notifications (protocols.md §1, §4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.unit.alerts.samples import (
    DISK_FULL_FINGERPRINT,
    DISK_FULL_LABELS,
    GO_ZERO_TIME,
    GROUP_KEY,
    am_alert,
    am_body,
    grafana_alert,
    grafana_body,
)
from warroom.alerts.alertmanager import fingerprint, parse_notification
from warroom.alerts.events import Action, AlertSeverity, EventInvalid

FNV_OFFSET_HEX = "cbf29ce484222325"


def _errors(body: Any, version: str = "4") -> list[str]:
    with pytest.raises(EventInvalid) as caught:
        parse_notification(body, expect_version=version)
    return caught.value.errors


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (DISK_FULL_LABELS, DISK_FULL_FINGERPRINT),
        ({"severity": "critical", "instance": "db1", "alertname": "DiskFull"}, "e94c744ae3d44df8"),
        ({}, FNV_OFFSET_HEX),
    ],
    ids=["protocols-verified", "reordered", "empty"],
)
def test_fingerprint_known_values(labels, expected):
    assert fingerprint(labels) == expected


@pytest.mark.parametrize(
    "other",
    [
        {**DISK_FULL_LABELS, "instance": "db2"},
        {**DISK_FULL_LABELS, "team": "db"},
        {"alertname": "DiskFull", "instance": "db1"},
        {"alertname": "DiskFulli", "nstance": "db1", "severity": "critical"},
        {"alertname": "DiskFull", "instance": "db1severity", "": "critical"},
    ],
)
def test_fingerprint_changes_with_any_label_change(other):
    assert fingerprint(other) != DISK_FULL_FINGERPRINT


def test_fingerprint_is_sixteen_lowercase_hex_digits():
    for labels in ({}, {"a": ""}, {"ünïcode": "värde"}, {"x": "y" * 5000}):
        value = fingerprint(labels)
        assert len(value) == 16
        assert value == value.lower()
        int(value, 16)


def test_v4_example_from_protocols():
    note = parse_notification(am_body(truncatedAlerts=1), expect_version="4")
    assert note.group_key == GROUP_KEY
    assert note.truncated == 1
    [event] = note.events
    assert event.action is Action.TRIGGER
    assert event.dedup_key == DISK_FULL_FINGERPRINT
    assert event.summary == "disk full on db1"
    assert event.source == "db1"
    assert event.severity is AlertSeverity.CRITICAL
    assert event.labels == DISK_FULL_LABELS
    assert event.occurred_at == datetime(2026, 11, 27, 6, 20, 23, tzinfo=UTC)
    assert event.group_key == GROUP_KEY
    assert event.client == "Alertmanager"
    assert event.client_url == "http://127.0.0.1:19093"
    assert event.links == [{"href": "http://prom.example/graph", "text": "Source"}]
    assert event.details["endsAt"] is None  # Go's zero time means "not ended"
    assert event.details["annotations"] == {"summary": "disk full on db1"}


def test_optional_newer_fields_are_accepted():
    body = am_body(notification_reason="first notification", routeLabels={"team": "db"})
    body["unknownFutureField"] = {"x": 1}
    assert len(parse_notification(body, expect_version="4").events) == 1


def test_grafana_v1_with_its_extra_fields():
    note = parse_notification(grafana_body(), expect_version="1")
    [event] = note.events
    assert event.action is Action.TRIGGER
    assert event.dedup_key == DISK_FULL_FINGERPRINT
    assert event.details["values"] == {"B": 44.2, "C": 1}
    assert [link["text"] for link in event.links] == ["Source", "dashboard", "panel", "silence"]


def test_mixed_firing_and_resolved_alerts_each_keep_their_status():
    db2 = {**DISK_FULL_LABELS, "instance": "db2"}
    resolved = am_alert(
        status="resolved", labels=db2, fingerprint="", endsAt="2026-11-27T06:30:00Z"
    )
    note = parse_notification(am_body(am_alert(), resolved), expect_version="4")
    firing, gone = note.events
    assert (firing.action, gone.action) == (Action.TRIGGER, Action.RESOLVE)
    assert gone.dedup_key == fingerprint(db2)
    assert gone.details["endsAt"] == "2026-11-27T06:30:00Z"


@pytest.mark.parametrize("raw", [None, "", 42, "x" * 256], ids=["missing", "empty", "int", "long"])
def test_unusable_fingerprint_is_computed_from_labels(raw):
    alert = am_alert()
    if raw is None:
        del alert["fingerprint"]
    else:
        alert["fingerprint"] = raw
    [event] = parse_notification(am_body(alert), expect_version="4").events
    assert event.dedup_key == DISK_FULL_FINGERPRINT


@pytest.mark.parametrize(
    ("ends_at", "expected"),
    [
        (GO_ZERO_TIME, None),
        ("", None),
        (None, None),
        ("2026-11-27T07:00:00Z", "2026-11-27T07:00:00Z"),
    ],
)
def test_ends_at(ends_at, expected):
    [event] = parse_notification(am_body(am_alert(endsAt=ends_at)), expect_version="4").events
    assert event.details["endsAt"] == expected


def test_nanosecond_start_time_from_go_is_accepted():
    alert = am_alert(startsAt="2026-11-27T06:20:23.123456789Z")
    [event] = parse_notification(am_body(alert), expect_version="4").events
    assert event.occurred_at == datetime(2026, 11, 27, 6, 20, 23, 123456, tzinfo=UTC)


@pytest.mark.parametrize(("raw", "expected"), [(3, 3), (0, 0), (-1, 0), ("2", 0), (None, 0)])
def test_truncated_alerts(raw, expected):
    assert (
        parse_notification(am_body(truncatedAlerts=raw), expect_version="4").truncated == expected
    )


def test_missing_version_is_tolerated_and_integer_version_accepted():
    body = am_body()
    del body["version"]
    assert parse_notification(body, expect_version="4").events
    assert parse_notification(am_body(version=4), expect_version="4").events


@pytest.mark.parametrize(("body", "version"), [(am_body(), "1"), (grafana_body(), "4")])
def test_wrong_version_is_refused(body, version):
    [message] = _errors(body, version)
    assert "'version'" in message
    assert repr(version) in message


@pytest.mark.parametrize("body", [[], "text", 4, None])
def test_body_must_be_an_object(body):
    assert _errors(body) == ["the notification must be a JSON object"]


@pytest.mark.parametrize("alerts", [None, {}, "x", 1])
def test_alerts_must_be_a_list(alerts):
    assert _errors(am_body(alerts=alerts)) == ["'alerts' must be a list"]


def test_empty_alert_list_is_fine():
    assert parse_notification(am_body(alerts=[]), expect_version="4").events == []


def test_too_many_alerts_are_refused():
    [message] = _errors(am_body(alerts=[am_alert()] * 5001))
    assert "5000" in message


@pytest.mark.parametrize("count", [201, 10_000])
def test_too_many_labels_are_refused(count):
    labels = {f"label{i}": "v" for i in range(count)}
    [message] = _errors(am_body(am_alert(labels=labels)))
    assert message.startswith("'alerts[0].labels' has")


def test_two_hundred_labels_are_accepted():
    labels = {f"label{i}": "v" for i in range(200)}
    [event] = parse_notification(am_body(am_alert(labels=labels)), expect_version="4").events
    assert event.labels == labels


@pytest.mark.parametrize(
    ("alert", "expected"),
    [
        (
            am_alert(labels={"instance": "db\x001"}),
            "'alerts[0].labels.instance' must not contain NUL",
        ),
        (am_alert(labels={"a\x00b": "x"}), "must not contain NUL"),
        (am_alert(annotations={"summary": "\x00"}), "'alerts[0].annotations.summary' must not"),
        (am_alert(labels={"count": 3}), "'alerts[0].labels.count' must be a string"),
        (am_alert(labels={"flag": None}), "'alerts[0].labels.flag' must be a string"),
        (am_alert(labels={"nested": {"a": "b"}}), "'alerts[0].labels.nested' must be a string"),
        (am_alert(labels=["alertname"]), "'alerts[0].labels' must be an object of strings"),
        (am_alert(labels={"x": "y" * 4097}), "'alerts[0].labels.x' is too long"),
        (am_alert(status="pending"), "'alerts[0].status' must be firing or resolved"),
        (am_alert(startsAt="yesterday"), "'alerts[0].startsAt' is not an ISO 8601 timestamp"),
        (am_alert(startsAt=1700000000), "'alerts[0].startsAt' must be an ISO 8601 string"),
        ("not an alert", "'alerts[0]' must be an object"),
    ],
)
def test_bad_alerts_are_refused_with_a_precise_message(alert, expected):
    errors = _errors(am_body(alert))
    assert any(expected in error for error in errors), errors


def test_errors_name_each_bad_alert_by_index():
    body = am_body(am_alert(), am_alert(status="x"), am_alert(labels={"a": 1}))
    errors = _errors(body)
    assert any(e.startswith("'alerts[1].status'") for e in errors)
    assert any(e.startswith("'alerts[2].labels.a'") for e in errors)


@pytest.mark.parametrize(
    ("labels", "annotations", "summary"),
    [
        ({"alertname": "High"}, {"summary": "s"}, "s"),
        ({"alertname": "High", "instance": "h1"}, {"title": "t"}, "t on h1"),
        ({"alertname": "High", "job": "api"}, {"description": "d"}, "d on api"),
        ({"alertname": "High", "instance": "h1"}, {}, "High on h1"),
        ({}, {}, "alert"),
    ],
)
def test_summary_falls_back_through_annotations_and_labels(labels, annotations, summary):
    alert = am_alert(labels=labels, annotations=annotations, fingerprint="")
    [event] = parse_notification(am_body(alert), expect_version="4").events
    assert event.summary == summary


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("critical", AlertSeverity.CRITICAL),
        ("page", AlertSeverity.CRITICAL),
        ("warning", AlertSeverity.WARNING),
        ("INFO", AlertSeverity.INFO),
        ("something-else", AlertSeverity.ERROR),
        (None, AlertSeverity.ERROR),
    ],
)
def test_severity_label_is_mapped(severity, expected):
    labels = {"alertname": "X"} | ({"severity": severity} if severity else {})
    [event] = parse_notification(am_body(am_alert(labels=labels)), expect_version="4").events
    assert event.severity is expected


def test_grafana_alert_values_must_not_be_required():
    alert = grafana_alert()
    for key in ("values", "valueString", "silenceURL", "dashboardURL", "panelURL", "ruleUID"):
        del alert[key]
    [event] = parse_notification(grafana_body(alert), expect_version="1").events
    assert "values" not in event.details
