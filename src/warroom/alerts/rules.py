"""Pure alert decisions: routing rules, dedup, grouping and self-resolution."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from warroom.alerts.events import Action, AlertEvent, AlertSeverity

DEFAULT_INCIDENT_SEVERITY = {
    AlertSeverity.CRITICAL: 2,
    AlertSeverity.ERROR: 3,
    AlertSeverity.WARNING: 3,
    AlertSeverity.INFO: 4,
}
MAX_RULES = 100
MAX_MATCHERS = 20


class AlertStatus(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Outcome(StrEnum):
    """What an event does to the alert its dedup key names."""

    NEW = "new"  # open a new alert
    BUMP = "bump"  # same alert again: count + 1, nobody paged again
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    IGNORE = "ignore"  # ack/resolve of nothing open, or ack of an acked alert
    DROP = "drop"  # a routing rule says to drop it


def decide(action: Action, open_status: AlertStatus | None) -> Outcome:
    """Dedup: the outcome of ``action`` given the open alert with its key, if any."""
    if open_status is AlertStatus.RESOLVED:
        open_status = None  # a resolved alert is no longer open: its key is free again
    if action is Action.TRIGGER:
        return Outcome.BUMP if open_status is not None else Outcome.NEW
    if open_status is None:
        return Outcome.IGNORE
    if action is Action.ACKNOWLEDGE:
        return Outcome.ACKNOWLEDGE if open_status is AlertStatus.TRIGGERED else Outcome.IGNORE
    return Outcome.RESOLVE


@dataclass(frozen=True)
class Matcher:
    """One condition on an event field or label."""

    key: str
    equals: str | None = None
    regex: str | None = None
    exists: bool | None = None

    def matches(self, fields: dict[str, str]) -> bool:
        value = fields.get(self.key)
        if self.exists is not None and (value is not None) != self.exists:
            return False
        if self.equals is not None and value != self.equals:
            return False
        return not (
            self.regex is not None and (value is None or re.fullmatch(self.regex, value) is None)
        )


@dataclass(frozen=True)
class RoutingRule:
    """If every matcher holds, route the alert as this rule says."""

    name: str
    matchers: tuple[Matcher, ...] = ()
    service: str | None = None
    urgency: str | None = None
    severity: int | None = None
    declare: bool = False
    drop: bool = False


def rule_problems(raw: Any) -> list[str]:
    """Why a list of routing rules (as JSON) is invalid; empty when it is fine."""
    if not isinstance(raw, list) or len(raw) > MAX_RULES:
        return [f"rules must be a list of at most {MAX_RULES} objects"]
    problems = []
    for index, item in enumerate(raw):
        try:
            rule_from(item)
        except ValueError as error:
            problems.append(f"rules[{index}]: {error}")
    return problems


def rule_from(item: Any) -> RoutingRule:
    """Build a RoutingRule from its JSON form, or ValueError."""
    if not isinstance(item, dict):
        raise ValueError("must be an object")
    unknown = set(item) - {"name", "match", "service", "urgency", "severity", "declare", "drop"}
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
    matchers = item.get("match", [])
    if not isinstance(matchers, list) or len(matchers) > MAX_MATCHERS:
        raise ValueError(f"'match' must be a list of at most {MAX_MATCHERS} conditions")
    built = tuple(_matcher(m) for m in matchers)
    severity = item.get("severity")
    if severity is not None and (
        isinstance(severity, bool) or not isinstance(severity, int) or not 1 <= severity <= 20
    ):
        raise ValueError("'severity' must be a level number such as 2")
    for flag in ("declare", "drop"):
        if not isinstance(item.get(flag, False), bool):
            raise ValueError(f"'{flag}' must be true or false")
    if item.get("service") is not None and not isinstance(item["service"], str):
        raise ValueError("'service' must be a service slug")
    if item.get("name") is not None and not isinstance(item["name"], str):
        raise ValueError("'name' must be a string")
    if item.get("urgency") not in (None, "high", "low"):
        raise ValueError("'urgency' must be high or low")
    return RoutingRule(
        name=str(item.get("name") or "unnamed")[:100],
        matchers=built,
        service=item.get("service"),
        urgency=item.get("urgency"),
        severity=severity,
        declare=bool(item.get("declare", False)),
        drop=bool(item.get("drop", False)),
    )


def _matcher(raw: Any) -> Matcher:
    if not isinstance(raw, dict) or not isinstance(raw.get("label"), str):
        raise ValueError("each condition needs a 'label' and one of equals, regex, exists")
    ops = {k: raw[k] for k in ("equals", "regex", "exists") if k in raw}
    if len(ops) != 1:
        raise ValueError(
            f"condition on {raw['label']!r} needs exactly one of equals, regex, exists"
        )
    if "regex" in ops:
        try:
            re.compile(str(ops["regex"]))
        except re.error as error:
            raise ValueError(f"bad regex for {raw['label']!r}: {error}") from None
    if "exists" in ops and not isinstance(ops["exists"], bool):
        raise ValueError("'exists' must be true or false")
    return Matcher(
        key=raw["label"],
        equals=_opt_str(ops.get("equals")),
        regex=_opt_str(ops.get("regex")),
        exists=ops.get("exists"),
    )


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def event_fields(event: AlertEvent) -> dict[str, str]:
    """What routing rules can match on: the labels, then summary/source/severity."""
    fields = {"summary": event.summary, "source": event.source, "severity": event.severity.value}
    fields.update(event.labels)
    return fields


def route(rules: Sequence[RoutingRule], event: AlertEvent) -> RoutingRule | None:
    """The first rule whose matchers all hold for ``event``."""
    if not rules:
        return None
    fields = event_fields(event)
    for rule in rules:
        if all(m.matches(fields) for m in rule.matchers):
            return rule
    return None


@dataclass(frozen=True)
class Placement:
    """Where a new alert goes: an open incident, or a new one."""

    join_incident: int | None
    severity: int
    declare: bool
    reason: str
    urgency: str = "high"
    notes: list[str] = field(default_factory=list)


def place(
    event: AlertEvent, rule: RoutingRule | None, *, service: str, open_incident: int | None
) -> Placement:
    """Group a new alert: join the service's open incident or open a new one."""
    severity = (
        rule.severity if rule and rule.severity else DEFAULT_INCIDENT_SEVERITY[event.severity]
    )
    urgency = (
        rule.urgency
        if rule and rule.urgency
        else "low"
        if event.severity is AlertSeverity.INFO
        else "high"
    )
    by_rule = f" (rule {rule.name!r})" if rule else ""
    if open_incident is not None:
        reason = f"joined INC-{open_incident}: it is open on service {service}{by_rule}"
        return Placement(open_incident, severity, False, reason, urgency)
    declare = bool(rule and rule.declare)
    verb = "declared" if declare else "opened in detection"
    reason = f"{verb}: no open incident on service {service}{by_rule}"
    return Placement(None, severity, declare, reason, urgency)


def should_self_resolve(*, phase: str, acknowledged: bool, open_alerts: int, enabled: bool) -> bool:
    """A detection-phase incident whose alerts all resolved before anyone acked."""
    return enabled and phase == "detection" and not acknowledged and open_alerts == 0


SECRET_CONFIG_KEYS = frozenset({"hmac_secret", "signing_secret"})
MASK = "********"
CONFIG_KEYS = {
    "alertmanager": frozenset(),
    "pagerduty": frozenset(),
    "grafana": frozenset({"hmac_secret", "hmac_header", "hmac_timestamp_header"}),
    "generic": frozenset({"paths", "signing_secret"}),
}
PATH_KEYS = frozenset({"summary", "dedup_key", "severity", "status", "source", "timestamp"})


def config_problems(type_: str, config: Any) -> list[str]:
    """Why an integration's format settings are unusable; empty when they are fine."""
    if not isinstance(config, dict):
        return ["config must be an object"]
    allowed = CONFIG_KEYS.get(type_, frozenset())
    problems = [f"unknown key {k!r} for a {type_} integration" for k in config if k not in allowed]
    for key in ("hmac_secret", "hmac_header", "hmac_timestamp_header", "signing_secret"):
        if key in config and (not isinstance(config[key], str) or not config[key].strip()):
            problems.append(f"{key} must be a non-empty string")
    problems += [
        f"{k} is the mask {MASK}; send the real secret"
        for k in SECRET_CONFIG_KEYS
        if config.get(k) == MASK
    ]
    secret = config.get("signing_secret")
    if isinstance(secret, str) and secret != MASK and not _is_base64(secret.removeprefix("whsec_")):
        problems.append("signing_secret must be 'whsec_' followed by base64")
    paths = config.get("paths")
    if paths is not None:
        if not isinstance(paths, dict):
            problems.append("paths must be an object of field: dotted.path")
        else:
            problems += [f"paths: unknown field {k!r}" for k in paths if k not in PATH_KEYS]
            problems += [
                f"paths.{k} must be a non-empty string"
                for k, v in paths.items()
                if not isinstance(v, str) or not v.strip()
            ]
    return problems


def _is_base64(text: str) -> bool:
    try:
        return len(base64.b64decode(text, validate=True)) >= 16
    except (ValueError, binascii.Error):
        return False


def merge_config(stored: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The new config, keeping stored secrets where the caller sent back the mask."""
    return {
        k: (stored.get(k, v) if k in SECRET_CONFIG_KEYS and v == MASK else v)
        for k, v in given.items()
    }
