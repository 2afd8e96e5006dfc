"""What `warroom apply` would change: the server's state, references checked, a diff per object.

Each kind has a "file form" (the shape apply_schema gives): the server's answer
is turned into it, both are compared field by field for the keys the file
sets, and the calls that make the server match are planned, in an order that
creates what others refer to first. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from warroom.cli.apply_schema import Item
from warroom.cli.apply_yaml import Checker, Where
from warroom.cli.client import Client

LISTS = {
    "severity": "/api/v1/severities",
    "user": "/api/v1/users",
    "team": "/api/v1/teams",
    "service": "/api/v1/services",
    "schedule": "/api/v1/schedules",
    "policy": "/api/v1/escalation-policies",
    "integration": "/api/v1/integrations",
}
NEEDED_TO_CREATE = {
    "severity": ("name",),
    "user": ("name", "email"),
    "team": ("name",),
    "service": ("name",),
    "schedule": ("name", "time_zone", "layers"),
    "policy": ("name", "levels"),
}
ORDER = ("severity", "user", "team", "schedule", "policy", "service", "integration")
# Calls run by phase, so whatever an object refers to exists before it.
PHASE = {"severity": 1, "user": 2, "contact": 3, "notify": 4, "team": 5, "service": 6}
PHASE |= {"schedule": 7, "policy": 8, "attach": 9, "integration": 10}


@dataclass
class Delta:
    """One field that differs: old → new; unsupported when the server offers no way to change it."""

    field: str
    old: Any
    new: Any
    supported: bool = True


@dataclass
class Call:
    """One request; ``build`` makes the body when sent (it needs ids made by earlier calls)."""

    phase: int
    method: str
    path: str
    body: Any = None
    build: Callable[[Client], Any] | None = None
    secret_of: str = ""  # the reply carries a key or secret to show once, for this


@dataclass
class Change:
    item: Item
    action: str  # create | change | same
    deltas: list[Delta] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Server:
    """What the server holds now, keyed like the file's items."""

    objects: dict[str, dict[str, dict[str, Any]]]
    contacts: dict[str, list[dict[str, Any]]]
    rules: dict[str, list[dict[str, Any]]]
    policy_of: dict[str, str]


def _key(kind: str, row: dict[str, Any]) -> str:
    if kind == "severity":
        return str(row["level"])
    if kind == "integration":
        return f"{row['service']}/{row['name']}"
    return str(row.get("handle") or row["slug"])


def fetch(client: Client, items: list[Item]) -> Server:
    """Read everything the file's objects could match or refer to."""
    objects: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, path in LISTS.items():
        rows = [r for r in client.get(path) if not r.get("revoked_at")]
        objects[kind] = {}
        for row in rows:
            objects[kind].setdefault(_key(kind, row), row)
    server = Server(objects, {}, {}, {})
    for row in objects["policy"].values():
        server.policy_of |= dict.fromkeys(row["services"], row["slug"])
    for item in items:
        wants = {"contact_methods", "notification_rules"} & set(item.fields)
        if item.kind == "user" and wants and item.key in objects["user"]:
            base = f"/api/v1/users/{quote(item.key)}"
            server.contacts[item.key] = client.get(f"{base}/contact-methods")
            server.rules[item.key] = client.get(f"{base}/notification-rules")
    return server


def attachments(items: list[Item], c: Checker) -> list[Item]:
    """Items with each service's policy, whether the service or the policy names it."""
    services = {i.key: i for i in items if i.kind == "service"}
    named = {k: (*i.where, "escalation_policy") for k, i in services.items()}
    extra: dict[str, Item] = {}
    for policy in (i for i in items if i.kind == "policy"):
        for index, slug in enumerate(policy.fields.get("services", [])):
            at = (*policy.where, "services", index)
            owner = services.get(slug) or extra.get(slug)
            current = owner.fields.get("escalation_policy", policy.key) if owner else policy.key
            if current != policy.key:
                line = c.line(named.get(slug, owner.where if owner else at))
                c.fail(at, f"service {slug} is given policy {current} at line {line}")
            elif owner is None:
                extra[slug] = Item("service", slug, at, {"escalation_policy": policy.key})
            else:
                owner.fields["escalation_policy"] = policy.key
    return items + list(extra.values())


def references(item: Item) -> Iterator[tuple[Where, str, str]]:
    """(where, kind, key) of every object ``item`` names."""
    f, w = item.fields, item.where
    if item.kind == "team":
        yield from (((*w, "members", i), "user", h) for i, h in enumerate(f.get("members", [])))
    if item.kind in ("service", "schedule") and f.get("team"):
        yield (*w, "team"), "team", f["team"]
    if item.kind == "service" and f.get("escalation_policy"):
        yield (*w, "escalation_policy"), "policy", f["escalation_policy"]
    for i, rule in enumerate(f.get("rules", []) if item.kind == "integration" else []):
        if rule.get("service"):
            yield (*w, "rules", i, "service"), "service", rule["service"]
    for i, layer in enumerate(f.get("layers", [])):
        for j, handle in enumerate(layer["participants"]):
            yield (*w, "layers", i, "participants", j), "user", handle
    for i, level in enumerate(f.get("levels", [])):
        for j, target in enumerate(level["targets"]):
            kind, _, ref = target.partition(":")
            yield (*w, "levels", i, "targets", j), kind, ref


def check_references(items: list[Item], server: Server, c: Checker) -> None:
    """Record a problem for every name that is neither in the file nor on the server."""
    known = {kind: set(rows) for kind, rows in server.objects.items()}
    for item in items:
        known[item.kind].add(item.key)
    for item in items:
        listed = item.kind == "service" and item.where[0] == "escalation_policies"
        if listed and item.key not in server.objects["service"]:
            c.fail(item.where, f"no service '{item.key}' in this file or on the server")
        elif item.key not in server.objects[item.kind]:
            missing = [k for k in NEEDED_TO_CREATE.get(item.kind, ()) if k not in item.fields]
            if missing:
                c.fail(item.where, f"new {item.kind} {item.key} needs {', '.join(missing)}")
        for where, kind, key in references(item):
            if key not in known[kind]:
                c.fail(where, f"no {kind} '{key}' in this file or on the server")


def diff_fields(old: dict[str, Any], new: dict[str, Any], *, supported: bool = True) -> list[Delta]:
    """Deltas over the keys of ``new``, nested objects and lists compared item by item."""
    found: list[tuple[str, Any, Any]] = []
    for key, value in new.items():
        _diff(key, old.get(key), value, found)
    return [Delta(path, a, b, supported) for path, a, b in found]


def _diff(path: str, old: Any, new: Any, out: list[tuple[str, Any, Any]]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in dict.fromkeys([*old, *new]):
            _diff(f"{path}.{key}", old.get(key), new.get(key), out)
    elif isinstance(old, list) and isinstance(new, list) and _records(old + new):
        for i in range(max(len(old), len(new))):
            _diff(f"{path}[{i}]", _at(old, i), _at(new, i), out)
    elif old != new:
        out.append((path, old, new))


def _records(values: list[Any]) -> bool:
    return any(isinstance(v, dict) for v in values)


def _at(values: list[Any], index: int) -> Any:
    return values[index] if index < len(values) else None


def settle(change: Change) -> Change:
    """An existing object changes when there is something to send."""
    if change.action != "create":
        change.action = "change" if change.calls else "same"
    return change
