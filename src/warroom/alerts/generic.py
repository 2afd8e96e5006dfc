"""Generic JSON webhooks with configurable field paths, and signature checks. Pure."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from warroom.alerts.events import Action, AlertEvent, EventInvalid
from warroom.alerts.formats import MAX_DEDUP_KEY, MAX_SUMMARY, parse_time, severity_from

RESOLVED_WORDS = frozenset({"resolved", "resolve", "ok", "closed", "recovered", "normal"})
ACK_WORDS = frozenset({"acknowledged", "acknowledge", "ack"})
SIGNATURE_TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class FieldPaths:
    """Where a generic payload keeps each field, as dotted paths ("alert.title")."""

    summary: str = "summary"
    dedup_key: str = "dedup_key"
    severity: str = "severity"
    status: str = "status"
    source: str = "source"
    timestamp: str = "timestamp"


def lookup(body: Any, path: str) -> Any:
    """The value at a dotted path ("a.b.0.c"), or None."""
    current = body
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def parse_generic(body: Any, paths: FieldPaths) -> AlertEvent:
    """One alert from any JSON object, using the integration's field paths."""
    if not isinstance(body, dict):
        raise EventInvalid(["the event must be a JSON object"])
    errors = []
    summary = _text(lookup(body, paths.summary) or lookup(body, "title"))
    if not summary.strip():
        errors.append(f"no summary at '{paths.summary}'")
    key = _text(lookup(body, paths.dedup_key))
    if len(key) > MAX_DEDUP_KEY:
        errors.append(f"dedup key at '{paths.dedup_key}' is longer than {MAX_DEDUP_KEY}")
    if "\x00" in summary or "\x00" in key:
        errors.append("summary and dedup key must not contain NUL characters")
    status = _text(lookup(body, paths.status)).strip().lower()
    occurred_at = parse_time(lookup(body, paths.timestamp), paths.timestamp, errors)
    if errors:
        raise EventInvalid(errors)
    action = (
        Action.RESOLVE
        if status in RESOLVED_WORDS
        else Action.ACKNOWLEDGE
        if status in ACK_WORDS
        else Action.TRIGGER
    )
    if action is not Action.TRIGGER and not key:
        raise EventInvalid([f"a {action.value} needs a dedup key at '{paths.dedup_key}'"])
    severity = severity_from(_text(lookup(body, paths.severity)))
    source = _text(lookup(body, paths.source))[:1024]
    labels = {k: v for k, v in body.items() if isinstance(v, str) and len(v) <= 1024}
    return AlertEvent(
        action=action,
        dedup_key=key or hashlib.sha256(summary.encode()).hexdigest(),
        summary=summary[:MAX_SUMMARY],
        source=source,
        severity=severity,
        occurred_at=occurred_at,
        labels=dict(list(labels.items())[:200]),
        details=body,
    )


def standard_webhook_valid(
    secret: bytes, *, webhook_id: str, timestamp: str, body: bytes, signatures: str, now: float
) -> bool:
    """Check a Standard Webhooks signature ("v1,<base64>", space-separated) and its age."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            return True
    return False


def grafana_signature_valid(
    secret: bytes, *, body: bytes, signature: str, timestamp: str | None, now: float
) -> bool:
    """Check Grafana's X-Grafana-Alerting-Signature (hex HMAC-SHA256, optional timestamp)."""
    if timestamp is not None:
        if not timestamp.isdigit() or abs(now - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
            return False
        signed = f"{timestamp}:".encode() + body
    else:
        signed = body
    expected = hmac.new(secret, signed, hashlib.sha256).hexdigest()
    # Compare bytes: compare_digest refuses non-ASCII str, and headers are untrusted.
    return hmac.compare_digest(signature.strip().lower().encode(), expected.encode())
