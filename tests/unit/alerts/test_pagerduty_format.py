"""PagerDuty Events API v2 alert and change events (protocols.md §2.1, §2.2)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.unit.alerts.samples import pd_trigger
from warroom.alerts.events import Action, AlertSeverity, EventInvalid
from warroom.alerts.formats import parse_pagerduty, parse_pagerduty_change, severity_from

KEY = "0123456789abcdef0123456789abcdef"
BAD_SEVERITY = "'payload.severity' must be one of critical, error, warning, info"


def _without(body: dict[str, Any], *paths: str) -> dict[str, Any]:
    body = copy.deepcopy(body)
    for path in paths:
        *parents, last = path.split(".")
        target = body
        for parent in parents:
            target = target[parent]
        del target[last]
    return body


def _with_payload(**changes: Any) -> dict[str, Any]:
    body = pd_trigger(KEY)
    body["payload"].update(changes)
    return body


def _errors(body: Any) -> list[str]:
    with pytest.raises(EventInvalid) as caught:
        parse_pagerduty(body)
    return caught.value.errors


def test_trigger_from_protocols_table():
    body = pd_trigger(
        KEY,
        client="Alertmanager",
        client_url="http://am.example/#/alerts",
        links=[{"href": "https://runbook.example/disk", "text": "Runbook"}],
        images=[{"src": "https://img.example/g.png", "href": "https://g.example", "alt": "graph"}],
    )
    body["payload"].update(
        timestamp="2026-11-27T06:20:23.315+00:00",
        component="postgres",
        group="db-stack",
        **{"class": "disk"},
        custom_details={"free": "0 bytes", "num_firing": 2},
    )
    routing_key, event = parse_pagerduty(body)
    assert routing_key == KEY
    assert event.action is Action.TRIGGER
    assert (event.dedup_key, event.dedup_key_generated) == ("disk-full-db1", False)
    assert event.summary == "Disk full on db1"
    assert event.source == "db1.example.com"
    assert event.severity is AlertSeverity.CRITICAL
    assert event.occurred_at == datetime(2026, 11, 27, 6, 20, 23, 315000, tzinfo=UTC)
    assert event.labels == {
        "component": "postgres",
        "group": "db-stack",
        "class": "disk",
        "severity": "critical",
        "source": "db1.example.com",
        "free": "0 bytes",
    }
    assert event.details == {"free": "0 bytes", "num_firing": 2}
    assert event.links == [
        {"href": "https://runbook.example/disk", "text": "Runbook"},
        {"src": "https://img.example/g.png", "href": "https://g.example", "alt": "graph"},
    ]
    assert (event.client, event.client_url) == ("Alertmanager", "http://am.example/#/alerts")


def test_unknown_fields_are_accepted():
    body = pd_trigger(KEY, future_field=[1, 2])
    body["payload"]["future_payload_field"] = {"x": None}
    assert parse_pagerduty(body)[1].summary == "Disk full on db1"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_without(pd_trigger(KEY), "routing_key"), "'routing_key' is missing"),
        (pd_trigger(" "), "'routing_key' must not be empty"),
        (pd_trigger(123), "'routing_key' must be a string"),  # type: ignore[arg-type]
        (pd_trigger("k" * 256), "Length of 'routing_key' is too long (max 255 characters)"),
        (_without(pd_trigger(KEY), "payload"), "'payload' must be an object"),
        (pd_trigger(KEY, payload="disk full"), "'payload' must be an object"),
        (_without(pd_trigger(KEY), "payload.summary"), "'payload.summary' is missing"),
        (_with_payload(summary="  "), "'payload.summary' must not be empty"),
        (_with_payload(summary=["x"]), "'payload.summary' must be a string"),
        (_with_payload(summary="a\x00b"), "'payload.summary' must not contain NUL characters"),
        (_without(pd_trigger(KEY), "payload.source"), "'payload.source' is missing"),
        (_with_payload(source=7), "'payload.source' must be a string"),
        (_without(pd_trigger(KEY), "payload.severity"), BAD_SEVERITY),
        (_with_payload(severity="CRITICAL"), BAD_SEVERITY),
        (_with_payload(severity="high"), BAD_SEVERITY),
        (_with_payload(severity=1), BAD_SEVERITY),
        (_with_payload(component=5), "'payload.component' must be a string"),
        (pd_trigger(KEY, dedup_key=5), "'dedup_key' must be a string"),
        (pd_trigger(KEY, client=["x"]), "'client' must be a string"),
        (pd_trigger(KEY, links="https://x"), "'links' must be a list of at most 50 objects"),
        (pd_trigger(KEY, links=[{"href": 1}]), "each of 'links' must be an object of strings"),
        (pd_trigger(KEY, images=[{}] * 51), "'images' must be a list of at most 50 objects"),
        (_with_payload(timestamp="soon"), "'payload.timestamp' is not an ISO 8601 timestamp"),
        (_with_payload(timestamp=1700000000), "'payload.timestamp' must be an ISO 8601 string"),
    ],
)
def test_each_bad_field_has_its_own_message(body, message):
    assert message in _errors(body)


@pytest.mark.parametrize("action", [None, "", "Trigger", "snooze", 1])
def test_event_action_must_be_known(action):
    body = pd_trigger(KEY, event_action=action)
    assert _errors(body) == ["'event_action' must be one of trigger, acknowledge, resolve"]


def test_several_problems_are_reported_together():
    body = _without(pd_trigger(KEY), "routing_key", "payload.summary", "payload.source")
    assert _errors(body) == [
        "'routing_key' is missing",
        "'payload.summary' is missing",
        "'payload.source' is missing",
    ]


@pytest.mark.parametrize("body", [[], "event", None, 3])
def test_body_must_be_an_object(body):
    assert _errors(body) == ["the event must be a JSON object"]


def test_summary_limit_is_1024_characters():
    assert parse_pagerduty(_with_payload(summary="s" * 1024))[1].summary == "s" * 1024
    assert _errors(_with_payload(summary="s" * 1025)) == [
        "Length of 'payload.summary' is too long (max 1024 characters)"
    ]


def test_dedup_key_limit_is_255_characters():
    assert parse_pagerduty(pd_trigger(KEY, dedup_key="d" * 255))[1].dedup_key == "d" * 255
    assert _errors(pd_trigger(KEY, dedup_key="d" * 256)) == [
        "Length of 'dedup_key' is too long (max 255 characters)"
    ]


def test_alertmanager_sha256_group_dedup_key_is_accepted():
    key = "17c4e445" + "0" * 52 + "ff41"
    assert parse_pagerduty(pd_trigger(KEY, dedup_key=key))[1].dedup_key == key


@pytest.mark.parametrize("severity", ["critical", "error", "warning", "info"])
def test_the_four_severities(severity):
    assert parse_pagerduty(_with_payload(severity=severity))[1].severity == severity


@pytest.mark.parametrize("dedup", [None, ""])
def test_trigger_without_dedup_key_gets_a_generated_one(dedup):
    body = (
        pd_trigger(KEY, dedup_key=dedup)
        if dedup is not None
        else _without(pd_trigger(KEY), "dedup_key")
    )
    first = parse_pagerduty(body)[1]
    second = parse_pagerduty(body)[1]
    assert first.dedup_key_generated
    assert 0 < len(first.dedup_key) <= 255
    assert first.dedup_key != second.dedup_key


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_ack_and_resolve_need_a_dedup_key(action):
    body = {"routing_key": KEY, "event_action": action}
    assert _errors(body) == [f"'dedup_key' is required for {action} events"]


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_ack_and_resolve_need_no_payload(action):
    _, event = parse_pagerduty({"routing_key": KEY, "event_action": action, "dedup_key": "k1"})
    assert (event.action, event.dedup_key, event.summary) == (action, "k1", "")
    assert not event.dedup_key_generated


def test_resolve_may_carry_the_full_payload_like_alertmanager_sends():
    body = pd_trigger(KEY, event_action="resolve")
    body["payload"]["summary"] = "[RESOLVED] DiskFull"
    _, event = parse_pagerduty(body)
    assert (event.action, event.summary) == (Action.RESOLVE, "[RESOLVED] DiskFull")


@pytest.mark.parametrize(
    "details",
    [
        {"firing": "Labels: ...", "num_firing": "2"},
        [{"labels": {"alertname": "DiskFull"}}, {"labels": {"alertname": "Other"}}],
        "plain text details",
        42,
        4.5,
        True,
        None,
        {"nested": {"deeper": [1, {"x": None}]}, "list": [], "n": 0},
    ],
    ids=["object", "list", "string", "int", "float", "bool", "null", "nested"],
)
def test_custom_details_may_be_any_json(details):
    _, event = parse_pagerduty(_with_payload(custom_details=details))
    assert event.details == details
    assert event.labels["severity"] == "critical"


def test_only_short_string_details_become_labels():
    details = {"s": "x", "n": 1, "long": "y" * 4097, "severity": "info", "obj": {}}
    _, event = parse_pagerduty(_with_payload(custom_details=details))
    assert event.labels["s"] == "x"
    assert event.labels["severity"] == "critical"  # the event's own fields win
    assert not {"n", "long", "obj"} & set(event.labels)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-27T06:20:23Z", datetime(2026, 11, 27, 6, 20, 23, tzinfo=UTC)),
        (
            "2015-07-17T08:42:58.315+0000",
            datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC),
        ),
        (
            "2026-11-27T08:20:23+02:00",
            datetime(2026, 11, 27, 8, 20, 23, tzinfo=timezone(timedelta(hours=2))),
        ),
        (None, None),
        ("", None),
        ("0001-01-01T00:00:00Z", None),
    ],
)
def test_timestamps(raw, expected):
    assert parse_pagerduty(_with_payload(timestamp=raw))[1].occurred_at == expected


@pytest.mark.parametrize("raw", ["2026-11-27T06:20:23", "2026-11-27"])
def test_timestamp_without_offset_is_refused(raw):
    assert _errors(_with_payload(timestamp=raw)) == ["'payload.timestamp' needs a time zone offset"]


def test_links_keep_only_known_keys_and_cap_their_length():
    body = pd_trigger(KEY, links=[{"href": "h" * 3000, "text": "t", "onclick": "x"}])
    [link] = parse_pagerduty(body)[1].links
    assert link == {"href": "h" * 2048, "text": "t"}


def test_change_event():
    body = {
        "routing_key": KEY,
        "payload": {
            "summary": "Deployed checkout v42",
            "source": "ci",
            "timestamp": "2026-11-27T09:00:00Z",
            "custom_details": {"sha": "abc123"},
        },
        "links": [{"href": "https://ci.example/42", "text": "Build"}],
    }
    routing_key, change = parse_pagerduty_change(body)
    assert routing_key == KEY
    assert change.summary == "Deployed checkout v42"
    assert change.source == "ci"
    assert change.occurred_at == datetime(2026, 11, 27, 9, tzinfo=UTC)
    assert change.details == {"sha": "abc123"}
    assert change.links == [{"href": "https://ci.example/42", "text": "Build"}]


def test_change_event_needs_only_key_and_summary():
    routing_key, change = parse_pagerduty_change({"routing_key": KEY, "payload": {"summary": "s"}})
    assert (routing_key, change.summary, change.source, change.occurred_at) == (KEY, "s", "", None)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ([], ["the event must be a JSON object"]),
        ({"routing_key": KEY}, ["'payload' must be an object"]),
        ({"payload": {"summary": "s"}}, ["'routing_key' is missing"]),
        ({"routing_key": KEY, "payload": {}}, ["'payload.summary' is missing"]),
        (
            {"routing_key": KEY, "payload": {"summary": "s" * 1025}},
            ["Length of 'payload.summary' is too long (max 1024 characters)"],
        ),
        (
            {"routing_key": KEY, "payload": {"summary": "s", "timestamp": "x"}},
            ["'payload.timestamp' is not an ISO 8601 timestamp"],
        ),
        ({}, ["'routing_key' is missing", "'payload' must be an object"]),
    ],
)
def test_bad_change_events(body, expected):
    with pytest.raises(EventInvalid) as caught:
        parse_pagerduty_change(body)
    assert caught.value.errors == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("critical", AlertSeverity.CRITICAL),
        (" P1 ", AlertSeverity.CRITICAL),
        ("Major", AlertSeverity.ERROR),
        ("warn", AlertSeverity.WARNING),
        ("low", AlertSeverity.INFO),
        ("", AlertSeverity.ERROR),
        (None, AlertSeverity.ERROR),
        ("unheard-of", AlertSeverity.ERROR),
    ],
)
def test_severity_from(value, expected):
    assert severity_from(value) is expected
