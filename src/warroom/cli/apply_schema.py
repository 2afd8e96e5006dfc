"""The organisation file's format: every section, key and value `warroom apply` accepts.

An Item's ``fields`` hold only the keys the file sets, already checked and
normalised (durations in seconds, clocks as HH:MM, defaults of nested
objects filled in); apply keeps the server's value for the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from warroom.alerts import rules as alert_rules
from warroom.cli.apply_yaml import (
    Checker,
    Reader,
    Skip,
    Where,
    choice,
    clock,
    duration,
    flag,
    integer,
    moment,
    nullable,
    text,
    weekdays,
)
from warroom.users import rules as user_rules

DAY = 86400
TYPES = ("alertmanager", "pagerduty", "grafana", "generic")
RULE_KEYS = frozenset({"name", "match", "service", "urgency", "severity", "declare", "drop"})
MATCH_KEYS = frozenset({"label", "equals", "regex", "exists"})
HOURS_DEFAULT: dict[str, Any] = {
    "tz": None,
    "start": "09:00",
    "end": "17:00",
    "weekdays": [0, 1, 2, 3, 4],
    "country": None,
    "subdivision": None,
}


@dataclass
class Item:
    """One object the file describes: its kind, key, checked fields and place in the file."""

    kind: str
    key: str
    where: Where
    fields: dict[str, Any]


def many(reader: Reader, at_most: int = 500) -> Reader:
    return lambda c, where: c.each(where, reader, at_most=at_most)


handle = text(63, check=user_rules.handle_problem)
slug = text(63, check=user_rules.slug_problem)
zone = text(64, check=user_rules.time_zone_problem)
description = text(2000, empty=True)


def email(c: Checker, where: Where) -> str:
    return str(text(254, check=user_rules.email_problem)(c, where)).lower()


def contact(c: Checker, where: Where) -> dict[str, Any]:
    """{email: ADDRESS} or {webhook: URL}, with an optional label."""
    c.keys(where, {"email", "webhook", "label"})
    kinds = [k for k in ("email", "webhook") if c.has(where, k)]
    if len(kinds) != 1:
        raise c.fail(where, "give exactly one of 'email' or 'webhook'")
    kind = kinds[0]
    if kind == "email":
        target = c.read((*where, kind), text(254, check=user_rules.email_problem))
    else:
        target = c.read((*where, kind), text(2000, check=_url_problem))
    found = {"kind": kind, "target": target}
    return found | c.fields(where, {"label": text(100)})


def _url_problem(value: str) -> str | None:
    scheme, _, rest = value.partition("://")
    return None if scheme in ("http", "https") and rest else "is not an http(s) URL"


def notification_rule(contacts: list[dict[str, Any]]) -> Reader:
    """{contact: INDEX | LABEL | ADDRESS, delay: 2m}, naming one of this person's contacts."""

    def read(c: Checker, where: Where) -> dict[str, Any]:
        c.keys(where, {"contact", "delay"}, ["contact"])
        delay = c.fields(where, {"delay": duration(0, DAY)}).get("delay", 0)
        ref = c.get((*where, "contact"))
        if isinstance(ref, int) and not isinstance(ref, bool):
            index = ref if 0 <= ref < len(contacts) else None
        else:
            name = c.text_of((*where, "contact"))
            matches = [i for i, m in enumerate(contacts) if name in (m.get("label"), m["target"])]
            index = matches[0] if matches else None
        if index is None:
            raise c.fail(
                (*where, "contact"),
                f"no contact method {ref!r} in this person's contact_methods "
                "(give its position from 0, its label or its address)",
            )
        return {"contact": index, "delay": delay}

    return read


def business_hours(c: Checker, where: Where) -> dict[str, Any]:
    c.keys(where, set(HOURS_DEFAULT))
    found = c.fields(
        where,
        {
            "tz": zone,
            "start": clock,
            "end": clock,
            "weekdays": weekdays,
            "country": text(3, check=user_rules.country_problem),
            "subdivision": text(10),
        },
    )
    hours = HOURS_DEFAULT | found
    if hours["country"]:
        hours["country"] = hours["country"].upper()
    if hours["end"] <= hours["start"]:
        raise c.fail(where, "business hours must end after they start on the same day")
    return hours


def restriction(c: Checker, where: Where) -> dict[str, Any]:
    c.keys(where, {"days", "start", "end"}, ["start", "end"])
    found = c.fields(where, {"days": weekdays, "start": clock, "end": clock})
    return {"days": found.get("days", list(range(7))), **found}


LAYER: dict[str, Reader] = {
    "name": text(100),
    "participants": many(handle, 100),
    "shift_count": integer(1, 1000),
    "shift_unit": choice("hours", "days", "weeks"),
    "handoff": clock,
    "start": moment,
    "restrictions": many(restriction, 20),
}


def layer(c: Checker, where: Where) -> dict[str, Any]:
    c.keys(where, set(LAYER), ["participants", "start"])
    found = c.fields(where, LAYER)
    if not c.get((*where, "participants")):
        raise c.fail((*where, "participants"), "needs at least one person")
    defaults = {"name": "", "shift_count": 1, "shift_unit": "weeks", "handoff": "09:00"}
    return defaults | {"restrictions": []} | found


def level(c: Checker, where: Where) -> dict[str, Any]:
    """{targets: [user:HANDLE | schedule:SLUG, ...], timeout: 5m}."""
    c.keys(where, {"targets", "timeout"}, ["targets", "timeout"])
    before = len(c.problems)
    found = c.fields(where, {"targets": many(target, 20), "timeout": duration(60, DAY)})
    if len(c.problems) > before:
        raise Skip
    if not found["targets"]:
        raise c.fail((*where, "targets"), "needs at least one target")
    if len(set(found["targets"])) != len(found["targets"]):
        raise c.fail((*where, "targets"), "names a target twice")
    return found


def target(c: Checker, where: Where) -> str:
    kind, _, ref = (c.text_of(where) or "").strip().partition(":")
    check = {"user": user_rules.handle_problem, "schedule": user_rules.slug_problem}.get(kind)
    if check is None or not ref or check(ref):
        raise c.fail(where, "must be user:HANDLE or schedule:SLUG, e.g. user:alice")
    return f"{kind}:{ref}"


def routing_rule(c: Checker, where: Where) -> dict[str, Any]:
    """One routing rule in the API's form (see warroom.alerts.rules.rule_from)."""
    c.keys(where, RULE_KEYS)
    if isinstance(c.get(where), dict) and isinstance(c.get(where).get("match"), list):
        for index in range(len(c.get((*where, "match")))):
            c.keys((*where, "match", index), MATCH_KEYS, ["label"])
    rule = c.plain(where)
    try:
        alert_rules.rule_from(rule)
    except ValueError as error:
        raise c.fail(where, str(error)) from None
    return dict(rule)


def config(type_: str) -> Reader:
    def read(c: Checker, where: Where) -> dict[str, Any]:
        before = len(c.problems)
        c.keys(where, alert_rules.CONFIG_KEYS[type_])
        if c.has(where, "paths"):
            c.keys((*where, "paths"), alert_rules.PATH_KEYS)
        found = dict(c.plain(where))
        problems = alert_rules.config_problems(type_, found) if len(c.problems) == before else []
        for problem in problems:
            c.fail(where, problem)
        if len(c.problems) != before:
            raise Skip
        return found

    return read


SEVERITY: dict[str, Reader] = {
    "name": text(32),
    "description": text(500, empty=True),
    "ack_target": nullable(duration(1, 30 * DAY)),
    "ack_next_business_day": flag,
    "update_cadence": nullable(duration(1, 30 * DAY)),
    "postmortem_required": flag,
}
USER: dict[str, Reader] = {
    "name": text(200),
    "email": email,
    "role": choice("viewer", "responder", "admin"),
    "time_zone": zone,
    "contact_methods": many(contact, 20),
}
TEAM: dict[str, Reader] = {
    "name": text(200),
    "time_zone": zone,
    "members": many(handle),
    "business_hours": nullable(business_hours),
}
SERVICE: dict[str, Reader] = {
    "name": text(200),
    "description": description,
    "team": nullable(slug),
    "escalation_policy": nullable(slug),
}
SCHEDULE: dict[str, Reader] = {
    "name": text(200),
    "time_zone": zone,
    "team": nullable(slug),
    "layers": many(layer, 20),
}
POLICY: dict[str, Reader] = {
    "name": text(200),
    "repeat": integer(0, 9),
    "levels": many(level, 20),
    "services": many(slug),
}


def severity(c: Checker, where: Where) -> list[Item]:
    c.keys(where, {"level", *SEVERITY}, ["level"])
    fields = c.fields(where, SEVERITY)
    return [Item("severity", str(c.read((*where, "level"), integer(1, 20))), where, fields)]


def user(c: Checker, where: Where) -> list[Item]:
    c.keys(where, {"handle", "notification_rules", *USER}, ["handle"])
    fields = c.fields(where, USER)
    if c.has(where, "notification_rules"):
        reader = notification_rule(fields.get("contact_methods", []))
        fields["notification_rules"] = c.each((*where, "notification_rules"), reader, at_most=50)
    return [Item("user", c.read((*where, "handle"), handle), where, fields)]


def team(c: Checker, where: Where) -> list[Item]:
    c.keys(where, {"slug", *TEAM}, ["slug"])
    fields = c.fields(where, TEAM)
    return [Item("team", c.read((*where, "slug"), slug), where, fields)]


def service(c: Checker, where: Where) -> list[Item]:
    c.keys(where, {"slug", "integrations", *SERVICE}, ["slug"])
    fields = c.fields(where, SERVICE)
    key = c.read((*where, "slug"), slug)
    found = [Item("service", key, where, fields)]
    if c.has(where, "integrations"):
        found += c.each((*where, "integrations"), lambda c, at: integration(c, at, key), at_most=50)
    return found


def integration(c: Checker, where: Where, service_slug: str) -> Item:
    c.keys(where, {"type", "name", "rate_limit_per_minute", "rules", "config"}, ["type"])
    type_ = c.read((*where, "type"), choice(*TYPES))
    spec = {
        "name": text(200),
        "rate_limit_per_minute": integer(0, 1_000_000),
        "rules": many(routing_rule, alert_rules.MAX_RULES),
        "config": config(type_),
    }
    fields = {"service": service_slug, "type": type_} | c.fields(where, spec)
    fields.setdefault("name", f"{service_slug}-{type_}")
    return Item("integration", f"{service_slug}/{fields['name']}", where, fields)


def schedule(c: Checker, where: Where) -> list[Item]:
    c.keys(where, {"slug", *SCHEDULE}, ["slug"])
    fields = c.fields(where, SCHEDULE)
    names = [layer["name"] for layer in fields.get("layers", []) if layer["name"]]
    if len(names) != len(set(names)):
        c.fail((*where, "layers"), "layer names must be distinct")
    if c.has(where, "layers") and c.get((*where, "layers")) == []:
        c.fail((*where, "layers"), "needs at least one layer")
    return [Item("schedule", c.read((*where, "slug"), slug), where, fields)]


def policy(c: Checker, where: Where) -> list[Item]:
    c.keys(where, {"slug", *POLICY}, ["slug"])
    fields = c.fields(where, POLICY)
    if c.has(where, "levels") and c.get((*where, "levels")) == []:
        c.fail((*where, "levels"), "needs at least one level")
    return [Item("policy", c.read((*where, "slug"), slug), where, fields)]


SECTIONS: dict[str, Callable[[Checker, Where], list[Item]]] = {
    "severities": severity,
    "users": user,
    "teams": team,
    "services": service,
    "schedules": schedule,
    "escalation_policies": policy,
}


def read_org(c: Checker) -> list[Item]:
    """Every object the loaded file describes; problems land in ``c.problems``."""
    try:
        root = c.get(())
        # x-... keys hold YAML anchors for reuse, as in docker-compose files.
        extensions = [k for k in root if k.startswith("x-")] if isinstance(root, dict) else []
        c.keys((), {"version", *SECTIONS, *extensions})
        if c.has((), "version") and c.get(("version",)) != 1:
            c.fail(("version",), "must be 1 (the only format so far)")
    except Skip:
        return []
    items: list[Item] = []
    for section, reader in SECTIONS.items():
        if c.has((), section) and c.get((section,)) is not None:
            for found in c.each((section,), reader):
                items.extend(found)
    seen: dict[tuple[str, str], Item] = {}
    for item in items:
        first = seen.setdefault((item.kind, item.key), item)
        if first is not item:
            line = c.line(first.where)
            c.fail(item.where, f"{item.kind} {item.key} is already described at line {line}")
    return items
