"""Parsers for the formats alerts arrive in (protocols.md §1, §2, §4, §6). Pure.

Every parser accepts unknown fields, never requires what a sender may omit,
and turns a bad event into EventInvalid with one message per problem.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from warroom.alerts.events import Action, AlertEvent, AlertSeverity, ChangeEvent, EventInvalid

MAX_SUMMARY = 1024
MAX_DEDUP_KEY = 255
MAX_SOURCE = 1024
MAX_LABELS = 200
MAX_LABEL_VALUE = 4096
MAX_ALERTS_PER_REQUEST = 5000
SEVERITY_ALIASES = {
    "critical": AlertSeverity.CRITICAL,
    "page": AlertSeverity.CRITICAL,
    "high": AlertSeverity.CRITICAL,
    "p1": AlertSeverity.CRITICAL,
    "error": AlertSeverity.ERROR,
    "major": AlertSeverity.ERROR,
    "p2": AlertSeverity.ERROR,
    "warning": AlertSeverity.WARNING,
    "warn": AlertSeverity.WARNING,
    "medium": AlertSeverity.WARNING,
    "minor": AlertSeverity.WARNING,
    "p3": AlertSeverity.WARNING,
    "info": AlertSeverity.INFO,
    "low": AlertSeverity.INFO,
    "none": AlertSeverity.INFO,
    "p4": AlertSeverity.INFO,
    "p5": AlertSeverity.INFO,
}


def _string(
    body: Mapping[str, Any],
    key: str,
    errors: list[str],
    *,
    limit: int,
    required: bool = False,
    where: str = "",
) -> str:
    value = body.get(key)
    name = f"{where}{key}"
    if value is None:
        if required:
            errors.append(f"'{name}' is missing")
        return ""
    if not isinstance(value, str):
        errors.append(f"'{name}' must be a string")
        return ""
    if "\x00" in value:
        errors.append(f"'{name}' must not contain NUL characters")
        return ""
    if len(value) > limit:
        errors.append(f"Length of '{name}' is too long (max {limit} characters)")
        return ""
    if required and not value.strip():
        errors.append(f"'{name}' must not be empty")
    return value


def parse_time(value: Any, name: str, errors: list[str]) -> datetime | None:
    """An ISO 8601 timestamp with a zone, or None; Go's zero time counts as none."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        errors.append(f"'{name}' must be an ISO 8601 string")
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors.append(f"'{name}' is not an ISO 8601 timestamp")
        return None
    if parsed.tzinfo is None:
        errors.append(f"'{name}' needs a time zone offset")
        return None
    return None if parsed.year <= 1 else parsed


def _links(value: Any, name: str, errors: list[str]) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 50:
        errors.append(f"'{name}' must be a list of at most 50 objects")
        return []
    links = []
    for item in value:
        if not isinstance(item, dict) or not all(isinstance(v, str) for v in item.values()):
            errors.append(f"each of '{name}' must be an object of strings")
            return []
        links.append({k: v[:2048] for k, v in item.items() if k in ("href", "text", "src", "alt")})
    return links


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise EventInvalid(["the event must be a JSON object"])
    return body


def parse_pagerduty(body: Any) -> tuple[str, AlertEvent]:
    """A PagerDuty Events API v2 alert event: (routing_key, event)."""
    event = _object(body)
    errors: list[str] = []
    routing_key = _string(event, "routing_key", errors, limit=255, required=True)
    raw_action = event.get("event_action")
    if raw_action not in ("trigger", "acknowledge", "resolve"):
        errors.append("'event_action' must be one of trigger, acknowledge, resolve")
        raise EventInvalid(errors)
    action = Action(raw_action)
    dedup_key = _string(event, "dedup_key", errors, limit=MAX_DEDUP_KEY)
    if action is not Action.TRIGGER and not dedup_key:
        errors.append(f"'dedup_key' is required for {action.value} events")
    payload = event.get("payload")
    summary = source = ""
    severity = AlertSeverity.ERROR
    occurred_at = None
    labels: dict[str, str] = {}
    if action is Action.TRIGGER or payload is not None:
        if not isinstance(payload, dict):
            errors.append("'payload' must be an object")
            raise EventInvalid(errors)
        required = action is Action.TRIGGER
        summary = _string(
            payload, "summary", errors, limit=MAX_SUMMARY, required=required, where="payload."
        )
        source = _string(
            payload, "source", errors, limit=MAX_SOURCE, required=required, where="payload."
        )
        raw_severity = payload.get("severity")
        if isinstance(raw_severity, str) and raw_severity in AlertSeverity.__members__.values():
            severity = AlertSeverity(raw_severity)
        elif required or raw_severity is not None:
            errors.append("'payload.severity' must be one of critical, error, warning, info")
        occurred_at = parse_time(payload.get("timestamp"), "payload.timestamp", errors)
        for key in ("component", "group", "class"):
            value = _string(payload, key, errors, limit=MAX_SOURCE, where="payload.")
            if value:
                labels[key] = value
        details = payload.get("custom_details")
    else:
        details = None
    links = _links(event.get("links"), "links", errors) + _links(
        event.get("images"), "images", errors
    )
    client = _string(event, "client", errors, limit=MAX_SOURCE)
    client_url = _string(event, "client_url", errors, limit=2048)
    if errors:
        raise EventInvalid(errors)
    labels.update({"severity": severity.value, "source": source})
    if isinstance(details, dict):
        labels.update(
            {
                k: v
                for k, v in list(details.items())[:MAX_LABELS]
                if isinstance(v, str) and len(v) <= MAX_LABEL_VALUE and k not in labels
            }
        )
    generated = not dedup_key
    return routing_key, AlertEvent(
        action=action,
        dedup_key=dedup_key or uuid.uuid4().hex,
        summary=summary,
        source=source,
        severity=severity,
        occurred_at=occurred_at,
        labels=labels,
        details=details,
        links=links,
        client=client,
        client_url=client_url,
        dedup_key_generated=generated,
    )


def parse_pagerduty_change(body: Any) -> tuple[str, ChangeEvent]:
    """A PagerDuty Events API v2 change event: (routing_key, change)."""
    event = _object(body)
    errors: list[str] = []
    routing_key = _string(event, "routing_key", errors, limit=255, required=True)
    payload = event.get("payload")
    if not isinstance(payload, dict):
        raise EventInvalid([*errors, "'payload' must be an object"])
    summary = _string(
        payload, "summary", errors, limit=MAX_SUMMARY, required=True, where="payload."
    )
    source = _string(payload, "source", errors, limit=MAX_SOURCE, where="payload.")
    occurred_at = parse_time(payload.get("timestamp"), "payload.timestamp", errors)
    links = _links(event.get("links"), "links", errors)
    if errors:
        raise EventInvalid(errors)
    return routing_key, ChangeEvent(
        summary=summary,
        source=source,
        occurred_at=occurred_at,
        details=payload.get("custom_details"),
        links=links,
    )


def severity_from(value: str | None, default: AlertSeverity = AlertSeverity.ERROR) -> AlertSeverity:
    """Map a free-form severity label onto PagerDuty's four values."""
    if not value:
        return default
    return SEVERITY_ALIASES.get(value.strip().lower(), default)


def contains_nul(value: Any) -> bool:
    """Whether a parsed JSON value holds a NUL character in any key or string, at any depth."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            if any("\x00" in key for key in item):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
