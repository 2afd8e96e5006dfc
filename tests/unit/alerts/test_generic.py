"""Generic JSON webhooks and the two signature schemes (protocols.md §4, §6)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from warroom.alerts.events import Action, AlertSeverity, EventInvalid
from warroom.alerts.generic import (
    FieldPaths,
    grafana_signature_valid,
    lookup,
    parse_generic,
    standard_webhook_valid,
)

NOW = 1_795_000_000
SECRET = b"0123456789abcdef0123456789abcdef"
BODY = b'{"summary":"disk full","dedup_key":"d1"}'


def _standard_sig(secret: bytes, webhook_id: str, stamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{stamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()


def _grafana_sig(secret: bytes, body: bytes, stamp: int | None = None) -> str:
    signed = body if stamp is None else f"{stamp}:".encode() + body
    return hmac.new(secret, signed, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a", {"b": [{"c": "deep"}, "second"]}),
        ("a.b.0.c", "deep"),
        ("a.b.1", "second"),
        ("a.b.2", None),
        ("a.b.x", None),
        ("a.b.-1", None),
        ("missing", None),
        ("a.b.0.c.d", None),
    ],
)
def test_lookup(path, expected):
    assert lookup({"a": {"b": [{"c": "deep"}, "second"]}}, path) == expected


def test_default_paths():
    event = parse_generic(
        {
            "summary": "disk full",
            "dedup_key": "d1",
            "severity": "critical",
            "status": "firing",
            "source": "db1",
            "timestamp": "2026-11-27T06:00:00Z",
            "count": 3,
        },
        FieldPaths(),
    )
    assert event.action is Action.TRIGGER
    assert (event.summary, event.dedup_key, event.source) == ("disk full", "d1", "db1")
    assert event.severity is AlertSeverity.CRITICAL
    assert event.occurred_at == datetime(2026, 11, 27, 6, tzinfo=UTC)
    assert event.labels["source"] == "db1"
    assert "count" not in event.labels  # only strings become labels
    assert event.details["count"] == 3


def test_custom_dotted_paths_with_list_indexes():
    paths = FieldPaths(
        summary="alert.title",
        dedup_key="alert.id",
        severity="alert.tags.0.level",
        status="state",
        source="host.name",
        timestamp="alert.when",
    )
    body = {
        "alert": {
            "title": "queue backlog",
            "id": 77,
            "tags": [{"level": "P2"}],
            "when": "2026-11-27T06:00:00+01:00",
        },
        "state": "alerting",
        "host": {"name": "mq1"},
    }
    event = parse_generic(body, paths)
    assert (event.summary, event.dedup_key, event.source) == ("queue backlog", "77", "mq1")
    assert event.severity is AlertSeverity.ERROR
    assert event.action is Action.TRIGGER
    assert event.occurred_at == datetime(2026, 11, 27, 5, tzinfo=UTC)


def test_title_is_the_fallback_summary():
    assert (
        parse_generic({"title": "from title"}, FieldPaths(summary="nope")).summary == "from title"
    )


def test_missing_dedup_key_is_derived_from_the_summary():
    first = parse_generic({"summary": "same text"}, FieldPaths())
    second = parse_generic({"summary": "same text", "other": "x"}, FieldPaths())
    assert first.dedup_key == second.dedup_key
    assert first.dedup_key != parse_generic({"summary": "other text"}, FieldPaths()).dedup_key


@pytest.mark.parametrize("word", ["resolved", "Resolve", " OK ", "closed", "recovered", "normal"])
def test_resolved_words(word):
    event = parse_generic({"summary": "s", "dedup_key": "k", "status": word}, FieldPaths())
    assert event.action is Action.RESOLVE


@pytest.mark.parametrize("word", ["acknowledged", "ACK", "acknowledge"])
def test_ack_words(word):
    event = parse_generic({"summary": "s", "dedup_key": "k", "status": word}, FieldPaths())
    assert event.action is Action.ACKNOWLEDGE


@pytest.mark.parametrize("word", ["firing", "alerting", "", "triggered", "problem", None])
def test_anything_else_triggers(word):
    body = {"summary": "s", "status": word}
    assert parse_generic(body, FieldPaths()).action is Action.TRIGGER


@pytest.mark.parametrize("word", ["resolved", "ack"])
def test_resolve_and_ack_need_a_dedup_key(word):
    with pytest.raises(EventInvalid) as caught:
        parse_generic({"summary": "s", "status": word}, FieldPaths(dedup_key="alert.id"))
    assert "alert.id" in caught.value.errors[0]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "no summary at 'summary'"),
        ({"summary": "   "}, "no summary at 'summary'"),
        ({"summary": "s", "dedup_key": "k" * 256}, "longer than 255"),
        ({"summary": "a\x00b"}, "must not contain NUL"),
        ({"summary": "s", "dedup_key": "k\x00"}, "must not contain NUL"),
        ({"summary": "s", "timestamp": "later"}, "'timestamp' is not an ISO 8601 timestamp"),
        ({"summary": "s", "timestamp": "2026-11-27T06:00:00"}, "needs a time zone offset"),
    ],
)
def test_bad_generic_events(body, fragment):
    with pytest.raises(EventInvalid) as caught:
        parse_generic(body, FieldPaths())
    assert any(fragment in error for error in caught.value.errors), caught.value.errors


@pytest.mark.parametrize("body", [[], "x", None])
def test_generic_body_must_be_an_object(body):
    with pytest.raises(EventInvalid):
        parse_generic(body, FieldPaths())


def test_long_summary_is_cut_to_1024():
    assert len(parse_generic({"summary": "s" * 5000}, FieldPaths()).summary) == 1024


def test_standard_webhook_signature_valid():
    signature = _standard_sig(SECRET, "msg_1", NOW, BODY)
    assert standard_webhook_valid(
        SECRET, webhook_id="msg_1", timestamp=str(NOW), body=BODY, signatures=signature, now=NOW
    )


@pytest.mark.parametrize(
    ("webhook_id", "stamp", "body", "secret", "now"),
    [
        ("msg_1", NOW, BODY + b" ", SECRET, NOW),
        ("msg_2", NOW, BODY, SECRET, NOW),
        ("msg_1", NOW, BODY, b"another secret", NOW),
        ("msg_1", NOW, BODY, SECRET, NOW + 301),
        ("msg_1", NOW, BODY, SECRET, NOW - 301),
    ],
    ids=["tampered-body", "other-id", "wrong-secret", "stale", "from-the-future"],
)
def test_standard_webhook_signature_refused(webhook_id, stamp, body, secret, now):
    signature = _standard_sig(secret, "msg_1", stamp, BODY)
    assert not standard_webhook_valid(
        SECRET,
        webhook_id=webhook_id,
        timestamp=str(stamp),
        body=body,
        signatures=signature,
        now=now,
    )


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_standard_webhook_tolerates_five_minutes_of_skew(offset):
    signature = _standard_sig(SECRET, "m", NOW, BODY)
    assert standard_webhook_valid(
        SECRET,
        webhook_id="m",
        timestamp=str(NOW),
        body=BODY,
        signatures=signature,
        now=NOW + offset,
    )


@pytest.mark.parametrize("stamp", ["", "abc", "-5", "1.5e9"])
def test_standard_webhook_refuses_malformed_timestamps(stamp):
    assert not standard_webhook_valid(
        SECRET, webhook_id="m", timestamp=stamp, body=BODY, signatures="v1,xyz", now=NOW
    )


def test_standard_webhook_accepts_any_of_several_signatures_for_rotation():
    old = _standard_sig(b"old secret", "m", NOW, BODY)
    new = _standard_sig(SECRET, "m", NOW, BODY)
    for header in (f"{old} {new}", f"{new} {old}", f"v1a,abcd {new}"):
        assert standard_webhook_valid(
            SECRET, webhook_id="m", timestamp=str(NOW), body=BODY, signatures=header, now=NOW
        )
    assert not standard_webhook_valid(
        SECRET, webhook_id="m", timestamp=str(NOW), body=BODY, signatures=old, now=NOW
    )


def test_standard_webhook_needs_the_v1_prefix():
    signature = _standard_sig(SECRET, "m", NOW, BODY).replace("v1,", "v2,")
    assert not standard_webhook_valid(
        SECRET, webhook_id="m", timestamp=str(NOW), body=BODY, signatures=signature, now=NOW
    )
    assert not standard_webhook_valid(
        SECRET, webhook_id="m", timestamp=str(NOW), body=BODY, signatures="", now=NOW
    )


def test_grafana_signature_without_timestamp():
    signature = _grafana_sig(SECRET, BODY)
    assert grafana_signature_valid(SECRET, body=BODY, signature=signature, timestamp=None, now=NOW)
    assert grafana_signature_valid(
        SECRET, body=BODY, signature=f" {signature.upper()} ", timestamp=None, now=NOW
    )


@pytest.mark.parametrize(
    ("secret", "body", "signature"),
    [
        (SECRET, BODY + b"x", _grafana_sig(SECRET, BODY)),
        (b"wrong", BODY, _grafana_sig(SECRET, BODY)),
        (SECRET, BODY, ""),
        (SECRET, BODY, "not hex at all"),
    ],
    ids=["tampered-body", "wrong-secret", "empty", "garbage"],
)
def test_grafana_signature_refused(secret, body, signature):
    assert not grafana_signature_valid(
        secret, body=body, signature=signature, timestamp=None, now=NOW
    )


def test_grafana_signature_with_timestamp_header():
    signature = _grafana_sig(SECRET, BODY, NOW)
    assert grafana_signature_valid(
        SECRET, body=BODY, signature=signature, timestamp=str(NOW), now=NOW + 10
    )
    assert not grafana_signature_valid(
        SECRET, body=BODY, signature=signature, timestamp=str(NOW), now=NOW + 301
    )
    assert not grafana_signature_valid(
        SECRET, body=BODY, signature=signature, timestamp=str(NOW + 1), now=NOW
    )
    assert not grafana_signature_valid(
        SECRET, body=BODY, signature=_grafana_sig(SECRET, BODY), timestamp=str(NOW), now=NOW
    )
    assert not grafana_signature_valid(
        SECRET, body=BODY, signature=signature, timestamp="x", now=NOW
    )


def test_grafana_signature_with_non_ascii_characters_is_refused():
    assert not grafana_signature_valid(
        SECRET, body=BODY, signature="\xe9" * 64, timestamp=None, now=NOW
    )


def test_standard_webhook_signature_with_non_ascii_characters_is_refused():
    assert not standard_webhook_valid(
        SECRET, webhook_id="m", timestamp=str(NOW), body=BODY, signatures="v1,\xe9", now=NOW
    )
