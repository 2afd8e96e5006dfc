"""Alertmanager (v4) and Grafana (v1) webhook bodies into alert events. Pure.

Both send one notification per alert group; each alert in it is handled on
its own, keyed by its fingerprint. A truncated group (``truncatedAlerts``)
only tells us about the alerts it includes, so nothing is concluded about
the rest (protocols.md §1.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from warroom.alerts.events import Action, AlertEvent, EventInvalid
from warroom.alerts.formats import (
    MAX_ALERTS_PER_REQUEST,
    MAX_LABEL_VALUE,
    MAX_LABELS,
    MAX_SUMMARY,
    parse_time,
    severity_from,
)

FNV_OFFSET = 14695981039346656037
FNV_PRIME = 1099511628211
FNV_MASK = (1 << 64) - 1
SEPARATOR = 0xFF


def fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager's fingerprint of a label set: FNV-1a 64 over sorted pairs."""
    value = FNV_OFFSET
    for name in sorted(labels):
        for chunk in (name.encode(), labels[name].encode()):
            for byte in chunk:
                value = ((value ^ byte) * FNV_PRIME) & FNV_MASK
            value = ((value ^ SEPARATOR) * FNV_PRIME) & FNV_MASK
    return f"{value:016x}"


@dataclass(frozen=True)
class Notification:
    """The alerts of one webhook call, plus what the group says about itself."""

    events: list[AlertEvent]
    group_key: str
    truncated: int


def _string_map(value: Any, name: str, errors: list[str]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(f"'{name}' must be an object of strings")
        return {}
    if len(value) > MAX_LABELS:
        errors.append(f"'{name}' has {len(value)} entries; at most {MAX_LABELS} are accepted")
        return {}
    result: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(item, str):
            errors.append(f"'{name}.{key}' must be a string")
        elif "\x00" in item or "\x00" in key:
            errors.append(f"'{name}.{key}' must not contain NUL characters")
        elif len(item) > MAX_LABEL_VALUE or len(key) > 256:
            errors.append(f"'{name}.{key}' is too long")
        else:
            result[key] = item
    return result


def _summary(labels: dict[str, str], annotations: dict[str, str]) -> str:
    text = (
        annotations.get("summary")
        or annotations.get("title")
        or annotations.get("description")
        or labels.get("alertname")
        or "alert"
    )
    where = labels.get("instance") or labels.get("job")
    if where and where not in text and "summary" not in annotations:
        text = f"{text} on {where}"
    return text[:MAX_SUMMARY]


def _alert(
    item: Any, index: int, group_key: str, external_url: str, errors: list[str]
) -> AlertEvent | None:
    where = f"alerts[{index}]"
    if not isinstance(item, dict):
        errors.append(f"'{where}' must be an object")
        return None
    labels = _string_map(item.get("labels"), f"{where}.labels", errors)
    annotations = _string_map(item.get("annotations"), f"{where}.annotations", errors)
    status = item.get("status")
    if status not in ("firing", "resolved"):
        errors.append(f"'{where}.status' must be firing or resolved")
        return None
    starts_at = parse_time(item.get("startsAt"), f"{where}.startsAt", errors)
    ends_at = parse_time(item.get("endsAt"), f"{where}.endsAt", errors)
    raw_fp = item.get("fingerprint")
    key = raw_fp if isinstance(raw_fp, str) and 0 < len(raw_fp) <= 255 else fingerprint(labels)
    generator = item.get("generatorURL")
    links = (
        [{"href": generator, "text": "Source"}] if isinstance(generator, str) and generator else []
    )
    for extra in ("dashboardURL", "panelURL", "silenceURL"):
        value = item.get(extra)
        if isinstance(value, str) and value:
            links.append({"href": value, "text": extra.removesuffix("URL")})
    details = {
        "annotations": annotations,
        "startsAt": item.get("startsAt"),
        "endsAt": item.get("endsAt") if ends_at else None,
    }
    if isinstance(item.get("values"), dict):
        details["values"] = item["values"]
    return AlertEvent(
        action=Action.TRIGGER if status == "firing" else Action.RESOLVE,
        dedup_key=key,
        summary=_summary(labels, annotations),
        source=labels.get("instance") or labels.get("job") or external_url[:1024],
        severity=severity_from(labels.get("severity")),
        occurred_at=starts_at,
        labels=labels,
        details=details,
        links=links[:10],
        client="Alertmanager",
        client_url=external_url[:2048],
        group_key=group_key,
    )


def parse_notification(body: Any, *, expect_version: str) -> Notification:
    """Parse an Alertmanager ("4") or Grafana ("1") webhook notification."""
    if not isinstance(body, dict):
        raise EventInvalid(["the notification must be a JSON object"])
    version = body.get("version")
    if version is not None and str(version) != expect_version:
        raise EventInvalid([f"'version' is {version!r}; this endpoint takes {expect_version!r}"])
    alerts = body.get("alerts")
    if not isinstance(alerts, list):
        raise EventInvalid(["'alerts' must be a list"])
    if len(alerts) > MAX_ALERTS_PER_REQUEST:
        raise EventInvalid([f"at most {MAX_ALERTS_PER_REQUEST} alerts per notification"])
    errors: list[str] = []
    raw_group, raw_external = body.get("groupKey"), body.get("externalURL")
    group_key = raw_group if isinstance(raw_group, str) else ""
    external = raw_external if isinstance(raw_external, str) else ""
    events = [_alert(a, i, group_key[:1024], external, errors) for i, a in enumerate(alerts)]
    if errors:
        raise EventInvalid(errors[:20])
    truncated = body.get("truncatedAlerts")
    return Notification(
        events=[e for e in events if e is not None],
        group_key=group_key,
        truncated=truncated if isinstance(truncated, int) and truncated > 0 else 0,
    )
