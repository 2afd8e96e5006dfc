"""Per kind of object: the server's answer in file form, the deltas, the calls that apply them.

apply never deletes: contact methods and team members that the file does not
list stay, and are mentioned as left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from warroom.alerts.rules import MASK, SECRET_CONFIG_KEYS
from warroom.cli.apply_plan import (
    ORDER,
    PHASE,
    Call,
    Change,
    Delta,
    Server,
    diff_fields,
    settle,
)
from warroom.cli.apply_schema import Item
from warroom.cli.apply_yaml import day_names, span
from warroom.cli.client import Client

SEVERITY_KEYS = {
    "name": "name",
    "description": "description",
    "ack_target": "ack_target_seconds",
    "ack_next_business_day": "ack_next_business_day",
    "update_cadence": "update_cadence_seconds",
    "postmortem_required": "postmortem_required",
}
PROFILE = ("name", "email", "role", "time_zone")


def _top(field: str) -> str:
    return field.split(".")[0].split("[")[0]


def _changed(deltas: list[Delta], wanted: dict[str, Any]) -> dict[str, Any]:
    """The body of a PATCH: the whole new value of every top-level field that differs."""
    return {key: wanted[key] for key in dict.fromkeys(_top(d.field) for d in deltas if d.supported)}


def plan_severity(item: Item, server: Server) -> Change:
    row = server.objects["severity"].get(item.key)
    current = {mine: row[theirs] for mine, theirs in SEVERITY_KEYS.items()} if row else {}
    body = {SEVERITY_KEYS[k]: v for k, v in (current | item.fields).items()}
    call = Call(PHASE["severity"], "PUT", f"/api/v1/severities/{item.key}", body)
    if row is None:
        return Change(item, "create", calls=[call])

    def view(form: dict[str, Any]) -> dict[str, Any]:
        timed = ("ack_target", "update_cadence")
        return {k: span(v) if k in timed and v is not None else v for k, v in form.items()}

    deltas = diff_fields(view(current), view(item.fields))
    return Change(item, "change", deltas, [call] if deltas else [])


def plan_user(item: Item, server: Server) -> Change:
    row = server.objects["user"].get(item.key)
    profile = {k: v for k, v in item.fields.items() if k in PROFILE}
    path = f"/api/v1/users/{quote(item.key)}"
    if row is None:
        change = Change(item, "create")
        body = {"handle": item.key} | profile
        change.calls.append(Call(PHASE["user"], "POST", "/api/v1/users", body))
    else:
        deltas = diff_fields({k: row[k] for k in PROFILE}, profile)
        change = Change(item, "change", deltas)
        if deltas:
            change.calls.append(Call(PHASE["user"], "PATCH", path, _changed(deltas, profile)))
    _plan_contacts(change, server.contacts.get(item.key, []), path)
    _plan_notify(change, server, path)
    return change


def _contact_name(method: dict[str, Any]) -> str:
    return f"{method['kind']} {method['target']}"


def _plan_contacts(change: Change, have: list[dict[str, Any]], path: str) -> None:
    wanted = change.item.fields.get("contact_methods")
    if wanted is None:
        return
    index = {_contact_name(m): m for m in have}
    missing = [m for m in wanted if _contact_name(m) not in index]
    for number, method in enumerate(wanted):
        old = index.get(_contact_name(method))
        if old is not None and method.get("label", old["label"]) != old["label"]:
            field = f"contact_methods[{number}].label"
            change.deltas.append(Delta(field, old["label"], method["label"], supported=False))
    for method in missing:
        body = {
            "kind": method["kind"],
            "target": method["target"],
            "label": method.get("label", ""),
        }
        secret = f"signing secret of @{change.item.key}'s webhook {method['target']}"
        change.calls.append(
            Call(PHASE["contact"], "POST", f"{path}/contact-methods", body, secret_of=secret)
        )
    if missing and change.action != "create":
        names = [_contact_name(m) for m in have]
        change.deltas.append(
            Delta("contact_methods", names, names + [_contact_name(m) for m in missing])
        )
    spare = [name for name in index if name not in {_contact_name(m) for m in wanted}]
    if spare:
        change.notes.append(f"contact methods not in file, left alone: {', '.join(spare)}")


def _plan_notify(change: Change, server: Server, path: str) -> None:
    handle, fields = change.item.key, change.item.fields
    if fields.get("notification_rules") is None:
        return
    contacts = fields.get("contact_methods", [])
    want = sorted(
        (r["delay"], _contact_name(contacts[r["contact"]])) for r in fields["notification_rules"]
    )
    by_id = {m["id"]: _contact_name(m) for m in server.contacts.get(handle, [])}
    have = sorted(
        (round(r["delay_minutes"] * 60), by_id.get(r["contact_id"], f"contact {r['contact_id']}"))
        for r in server.rules.get(handle, [])
    )
    if want == have:
        return

    def build(client: Client) -> list[dict[str, Any]]:
        ids = {_contact_name(m): m["id"] for m in client.get(f"{path}/contact-methods")}
        return [{"contact_id": ids[name], "delay_minutes": delay / 60} for delay, name in want]

    change.calls.append(Call(PHASE["notify"], "PUT", f"{path}/notification-rules", build=build))
    if change.action != "create":
        old, new = ([f"{n} after {span(d)}" for d, n in rules] for rules in (have, want))
        change.deltas.append(Delta("notification_rules", old, new))


def _hours_view(form: dict[str, Any]) -> dict[str, Any]:
    hours = form.get("business_hours")
    if not hours:
        return form
    return form | {"business_hours": hours | {"weekdays": day_names(hours["weekdays"])}}


def plan_team(item: Item, server: Server) -> Change:
    row, f = server.objects["team"].get(item.key), item.fields
    path = f"/api/v1/teams/{quote(item.key)}"
    if row is None:
        body = {"slug": item.key, "members": f.get("members", [])}
        body |= {k: f[k] for k in ("name", "time_zone") if k in f}
        change = Change(item, "create", calls=[Call(PHASE["team"], "POST", "/api/v1/teams", body)])
        if f.get("business_hours"):
            hours = {"business_hours": f["business_hours"]}
            change.calls.append(Call(PHASE["team"], "PATCH", path, hours))
        return change
    members = [m["handle"] for m in row["members"]]
    current = {k: row.get(k) for k in ("name", "time_zone", "business_hours")} | {
        "members": members
    }
    wanted = {k: v for k, v in f.items() if k != "members"}
    added = [h for h in f.get("members", []) if h not in members]
    if added:
        wanted["members"] = members + added
    deltas = diff_fields(_hours_view(current), _hours_view(wanted))
    change = Change(item, "change", deltas)
    if deltas:
        body = _changed(deltas, wanted)
        if "business_hours" in body and body["business_hours"] is None:
            body = {k: v for k, v in body.items() if k != "business_hours"}
            body["clear_business_hours"] = True
        change.calls.append(Call(PHASE["team"], "PATCH", path, body))
    spare = [h for h in members if "members" in f and h not in f["members"]]
    if spare:
        change.notes.append(f"members not in file, left alone: {', '.join(spare)}")
    return change


def plan_service(item: Item, server: Server) -> Change:
    row, f = server.objects["service"].get(item.key), item.fields
    path = f"/api/v1/services/{quote(item.key)}"
    basics = {k: v for k, v in f.items() if k in ("name", "description", "team")}
    if row is None:
        body = {"slug": item.key} | basics
        change = Change(
            item, "create", calls=[Call(PHASE["service"], "POST", "/api/v1/services", body)]
        )
    else:
        deltas = diff_fields({k: row[k] for k in basics}, basics)
        for delta in deltas:
            delta.supported = not (delta.field == "team" and delta.new is None)
        change = Change(item, "change", deltas)
        body = _changed(deltas, basics)
        if body:
            change.calls.append(Call(PHASE["service"], "PATCH", path, body))
    if "escalation_policy" in f:
        current = server.policy_of.get(item.key) if row else None
        if current != f["escalation_policy"]:
            attach = {"policy": f["escalation_policy"]}
            change.calls.append(Call(PHASE["attach"], "PUT", f"{path}/escalation-policy", attach))
            if row is not None:
                change.deltas.append(Delta("escalation_policy", current, f["escalation_policy"]))
    return change


def _layer_form(read: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "participants", "shift_count", "shift_unit", "handoff")
    restrictions = [{k: r[k] for k in ("days", "start", "end")} for r in read["restrictions"]]
    start = datetime.fromisoformat(str(read["start"]).replace("Z", "+00:00"))
    return {k: read[k] for k in keys} | {"start": start, "restrictions": restrictions}


def _layers_view(layers: list[dict[str, Any]], zone: str) -> list[dict[str, Any]]:
    return [
        layer
        | {
            "name": layer["name"] or f"layer {number + 1}",
            "start": layer["start"].astimezone(ZoneInfo(zone)).isoformat(),
            "restrictions": [r | {"days": day_names(r["days"])} for r in layer["restrictions"]],
        }
        for number, layer in enumerate(layers)
    ]


def plan_schedule(item: Item, server: Server) -> Change:
    row, f = server.objects["schedule"].get(item.key), item.fields
    current: dict[str, Any] = {}
    if row is not None:
        current = {k: row[k] for k in ("name", "time_zone", "team")}
        current["layers"] = [_layer_form(layer) for layer in row["layers"]]
    wanted = current | f
    body = {k: wanted.get(k) for k in ("name", "time_zone", "team")}
    body["layers"] = [layer | {"start": layer["start"].isoformat()} for layer in wanted["layers"]]
    call = Call(PHASE["schedule"], "PUT", f"/api/v1/schedules/{quote(item.key)}", body)
    if row is None:
        return Change(item, "create", calls=[call])
    compared = {k: v for k, v in f.items() if k != "team" or current["team"] is not None}
    old, new = (_schedule_view(form, wanted["time_zone"]) for form in (current, compared))
    deltas = diff_fields(old, new)
    change = Change(item, "change", deltas, [call] if deltas else [])
    if f.get("team") and current["team"] is None:
        change.notes.append("team: the server does not report a schedule's team; not compared")
    return change


def _schedule_view(form: dict[str, Any], zone: str) -> dict[str, Any]:
    return form | {"layers": _layers_view(form["layers"], zone)} if "layers" in form else form


def _levels_view(form: dict[str, Any]) -> dict[str, Any]:
    if "levels" not in form:
        return form
    levels = [
        {"targets": ", ".join(level["targets"]), "timeout": span(level["timeout"])}
        for level in form["levels"]
    ]
    return form | {"levels": levels}


def plan_policy(item: Item, server: Server) -> Change:
    row = server.objects["policy"].get(item.key)
    f = {k: v for k, v in item.fields.items() if k != "services"}
    current: dict[str, Any] = {"repeat": 0}
    if row is not None:
        levels = [
            {
                "targets": [f"{t['kind']}:{t['ref']}" for t in level["targets"]],
                "timeout": round(level["timeout_minutes"] * 60),
            }
            for level in row["levels"]
        ]
        current = {"name": row["name"], "repeat": row["repeat"], "levels": levels}
    wanted = current | f
    body = {"name": wanted["name"], "repeat": wanted["repeat"]}
    body["levels"] = [
        {
            "targets": [_target(t) for t in level["targets"]],
            "timeout_minutes": level["timeout"] / 60,
        }
        for level in wanted["levels"]
    ]
    call = Call(PHASE["policy"], "PUT", f"/api/v1/escalation-policies/{quote(item.key)}", body)
    if row is None:
        return Change(item, "create", calls=[call])
    deltas = diff_fields(_levels_view(current), _levels_view(f))
    return Change(item, "change", deltas, [call] if deltas else [])


def _target(text: str) -> dict[str, str]:
    kind, _, ref = text.partition(":")
    return {"kind": kind, "ref": ref}


def _masked(form: dict[str, Any]) -> dict[str, Any]:
    """Secrets hidden on both sides: the server never shows them, so they are not compared."""
    if "config" not in form:
        return form
    config = {k: MASK if k in SECRET_CONFIG_KEYS else v for k, v in form["config"].items()}
    return form | {"config": config}


def plan_integration(item: Item, server: Server) -> Change:
    row, f = server.objects["integration"].get(item.key), item.fields
    if row is None:
        secret = f"key of integration {item.key}"
        call = Call(PHASE["integration"], "POST", "/api/v1/integrations", dict(f), secret_of=secret)
        return Change(item, "create", calls=[call])
    editable = {k: v for k, v in f.items() if k in ("rate_limit_per_minute", "rules", "config")}
    current = {k: row[k] for k in editable}
    deltas = diff_fields(_masked(current), _masked(editable))
    change = Change(item, "change", deltas)
    if deltas:
        path = f"/api/v1/integrations/{row['id']}"
        change.calls.append(Call(PHASE["integration"], "PATCH", path, _changed(deltas, editable)))
    if row["type"] != f["type"]:
        change.deltas.append(Delta("type", row["type"], f["type"], supported=False))
    return change


PLANNERS: dict[str, Callable[[Item, Server], Change]] = {
    "severity": plan_severity,
    "user": plan_user,
    "team": plan_team,
    "service": plan_service,
    "schedule": plan_schedule,
    "policy": plan_policy,
    "integration": plan_integration,
}


def plan(items: list[Item], server: Server) -> list[Change]:
    """One change per item, in the order people read them: who, then how they are paged."""
    ordered = sorted(items, key=lambda item: ORDER.index(item.kind))
    return [settle(PLANNERS[item.kind](item, server)) for item in ordered]
