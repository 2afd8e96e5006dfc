"""On-call and paging commands: who is on call, schedules, policies, pages, contacts."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.table import Table

from warroom.cli.client import EXIT_USAGE, Client, CliError
from warroom.cli.output import console, errors, esc, local_time, print_json

JsonOpt = Annotated[bool, typer.Option("--json", help="print the API's JSON")]
oncall_app = typer.Typer(help="Who is on call; schedule previews and reachability.")
schedule_app = typer.Typer(help="On-call schedules and overrides.", no_args_is_help=True)
policy_app = typer.Typer(help="Escalation policies.", no_args_is_help=True)
contact_app = typer.Typer(help="People's contact methods.", no_args_is_help=True)
notify_app = typer.Typer(help="Notification rules and tests.", no_args_is_help=True)
DELAY = re.compile(r"^(\d+(?:\.\d+)?)([smh]?)$")


def _table(*columns: str) -> Table:
    table = Table(box=None, header_style="bold")
    for column in columns:
        table.add_column(column)
    return table


def _at(value: str | None) -> str | None:
    """An --at time as ISO 8601 with an offset; a bare local time gets this machine's zone."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"--at {value!r}: give a time like 2026-03-08T09:00", EXIT_USAGE) from None
    return (parsed if parsed.tzinfo else parsed.astimezone()).isoformat()


@oncall_app.callback(invoke_without_command=True)
def oncall(
    ctx: typer.Context,
    schedule: Annotated[str | None, typer.Option(help="only this schedule")] = None,
    at: Annotated[str | None, typer.Option(help="when (ISO 8601; default now)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Who is on call now (or --at a time), per schedule."""
    if ctx.invoked_subcommand is not None:
        return
    rows = Client.from_env().get("/api/v1/oncall", schedule=schedule, at=_at(at))
    if as_json:
        print_json(rows)
        return
    table = _table("SCHEDULE", "ON CALL", "UNTIL")
    for row in rows:
        who = f"@{esc(row['user'])}" if row["user"] else "[red]nobody[/red]"
        table.add_row(esc(row["schedule"]), who, local_time(row["until"]))
    console.print(table)


@oncall_app.command("preview")
def preview(
    schedule: Annotated[str, typer.Argument(help="schedule slug")],
    weeks: Annotated[int, typer.Option(min=1, max=52)] = 4,
    as_json: JsonOpt = False,
) -> None:
    """The coming shifts, with coverage gaps and daylight-saving changes."""
    data = Client.from_env().get(f"/api/v1/schedules/{quote(schedule)}/preview", weeks=weeks)
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]{esc(data['schedule'])}[/bold] ({esc(data['time_zone'])}), {weeks} weeks")
    events: list[tuple[str, str, str, str]] = [
        (s["start"], f"@{esc(s['user'])}", local_time(s["end"]), s["layer"] or "override")
        for s in data["shifts"]
    ]
    events += [
        (g["start"], "[red]GAP: nobody on call[/red]", local_time(g["end"]), "")
        for g in data["gaps"]
    ]
    events += [
        (d["at"], f"[yellow]DST: {d['offset_before']} → {d['offset_after']}[/yellow]", "", "")
        for d in data["dst_changes"]
    ]
    table = _table("FROM", "WHO", "UNTIL", "LAYER")
    for start, who, end, layer in sorted(events, key=lambda e: e[0]):
        table.add_row(local_time(start), who, end, esc(layer))
    console.print(table)
    if not data["gaps"]:
        console.print("[green]no coverage gaps[/green]")


@oncall_app.command("unreachable")
def unreachable(as_json: JsonOpt = False) -> None:
    """People on call now or within 24 h who have no working contact method."""
    rows = Client.from_env().get("/api/v1/oncall/unreachable")
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("[green]everyone on call in the next 24 h can be reached[/green]")
        return
    table = _table("USER", "SCHEDULES", "SHIFT STARTS", "PROBLEM")
    for row in rows:
        start = "now" if row["on_call_now"] else local_time(row["first_shift_start"])
        table.add_row(
            f"@{esc(row['user'])}", esc(", ".join(row["schedules"])), start, esc(row["problem"])
        )
    console.print(table)
    raise typer.Exit(1)


@schedule_app.command("ls")
def schedule_ls(as_json: JsonOpt = False) -> None:
    """List schedules and who is on call on each now."""
    rows = Client.from_env().get("/api/v1/schedules")
    if as_json:
        print_json(rows)
        return
    table = _table("SLUG", "NAME", "TIME ZONE", "LAYERS", "ON CALL NOW")
    for row in rows:
        now = f"@{esc(row['on_call_now'])}" if row["on_call_now"] else "[red]nobody[/red]"
        table.add_row(
            esc(row["slug"]), esc(row["name"]), esc(row["time_zone"]), str(len(row["layers"])), now
        )
    console.print(table)


@schedule_app.command("show")
def schedule_show(slug: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """A schedule's layers, overrides and calendar feed URL."""
    data = Client.from_env().get(f"/api/v1/schedules/{quote(slug)}")
    if as_json:
        print_json(data)
        return
    console.print(
        f"[bold]{esc(data['name'])}[/bold] ({esc(data['slug'])}, {esc(data['time_zone'])})"
    )
    for layer in data["layers"]:
        people = ", ".join(f"@{p}" for p in layer["participants"])
        shift = f"{layer['shift_count']} {layer['shift_unit']}"
        console.print(
            f"  layer {esc(layer['name'])}: {esc(people)}, {shift} each, handoff {layer['handoff']}"
        )
    for override in data["overrides"]:
        console.print(
            f"  override {override['id']}: @{esc(override['user'])} "
            f"{local_time(override['start'])} → {local_time(override['end'])}"
        )
    console.print(f"calendar feed: {esc(data['feed_url'])}")


@schedule_app.command("override")
def schedule_override(
    slug: Annotated[str, typer.Argument(help="schedule slug")],
    user: Annotated[str, typer.Argument(help="who covers")],
    start: Annotated[str, typer.Option(help="ISO 8601 start")],
    end: Annotated[str, typer.Option(help="ISO 8601 end")],
) -> None:
    """Put someone on call over a period, on top of the rotation."""
    body = {"user": user.lstrip("@"), "start": _at(start), "end": _at(end)}
    data = Client.from_env().post(f"/api/v1/schedules/{quote(slug)}/overrides", body)
    console.print(
        f"override {data['id']}: @{esc(data['user'])} on call from {local_time(data['start'])}"
    )


@policy_app.command("ls")
def policy_ls(as_json: JsonOpt = False) -> None:
    """List escalation policies."""
    rows = Client.from_env().get("/api/v1/escalation-policies")
    if as_json:
        print_json(rows)
        return
    table = _table("SLUG", "NAME", "LEVELS", "REPEAT", "SERVICES")
    for row in rows:
        levels = " → ".join(
            "+".join(f"{t['kind'][0]}:{t['ref']}" for t in level["targets"])
            + f" ({level['timeout_minutes']:g}m)"
            for level in row["levels"]
        )
        table.add_row(
            esc(row["slug"]),
            esc(row["name"]),
            esc(levels),
            str(row["repeat"]),
            esc(", ".join(row["services"])),
        )
    console.print(table)


def pages(
    active: Annotated[bool, typer.Option("--active", help="only running pages")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List pages (escalations) and where they stand."""
    rows = Client.from_env().get("/api/v1/pages", active=str(active).lower())
    if as_json:
        print_json(rows)
        return
    table = _table("ID", "INCIDENT", "POLICY", "STATUS", "LEVEL", "NEXT STEP", "ACK BY")
    for row in rows:
        table.add_row(
            str(row["id"]),
            esc(row["incident"]),
            esc(row["policy"]),
            esc(row["status"]),
            f"{row['level']}" + (f" (repeat {row['round']})" if row["round"] else ""),
            local_time(row["next_step_at"]),
            f"@{esc(row['acknowledged_by'])}" if row["acknowledged_by"] else "-",
        )
    console.print(table)


def escalate(ref: Annotated[str, typer.Argument(help="incident, e.g. INC-3")]) -> None:
    """Page the next escalation level now."""
    data = Client.from_env().post(f"/api/v1/incidents/{quote(ref)}/escalate")
    console.print(f"{esc(data['incident'])}: escalating to the next level of {esc(data['policy'])}")


def reassign(
    ref: Annotated[str, typer.Argument(help="incident, e.g. INC-3")],
    user: Annotated[str, typer.Argument(help="who to page")],
) -> None:
    """Page someone else now for this incident."""
    data = Client.from_env().post(
        f"/api/v1/incidents/{quote(ref)}/reassign", {"user": user.lstrip("@")}
    )
    console.print(f"{esc(data['incident'])}: paging @{esc(user.lstrip('@'))}")


@contact_app.command("add")
def contact_add(
    user: Annotated[str, typer.Argument(help="handle")],
    email: Annotated[str | None, typer.Option(help="email address")] = None,
    webhook: Annotated[str | None, typer.Option(help="https URL")] = None,
    label: Annotated[str, typer.Option()] = "",
    as_json: JsonOpt = False,
) -> None:
    """Add an email address or a webhook to a person (a webhook's secret prints once)."""
    if (email is None) == (webhook is None):
        raise CliError("give exactly one of --email or --webhook", EXIT_USAGE)
    kind, target = ("email", email) if email else ("webhook", webhook)
    body = {"kind": kind, "target": target, "label": label}
    data = Client.from_env().post(f"/api/v1/users/{quote(user.lstrip('@'))}/contact-methods", body)
    if as_json:
        print_json(data)
        return
    console.print(f"contact method {data['id']}: {esc(data['kind'])} {esc(data['target'])}")
    if data.get("secret"):
        console.print(data["secret"])
        errors.print("[dim]the webhook signing secret above is shown only now[/dim]")


@contact_app.command("ls")
def contact_ls(
    user: Annotated[str, typer.Argument(help="handle")], as_json: JsonOpt = False
) -> None:
    """List a person's contact methods."""
    rows = Client.from_env().get(f"/api/v1/users/{quote(user.lstrip('@'))}/contact-methods")
    if as_json:
        print_json(rows)
        return
    table = _table("ID", "KIND", "LABEL", "TARGET", "STATE", "LAST SUCCESS")
    for row in rows:
        state = (
            f"[red]disabled: {esc(row['disabled_reason'])}[/red]" if row["disabled_at"] else "ok"
        )
        table.add_row(
            str(row["id"]),
            esc(row["kind"]),
            esc(row["label"]),
            esc(row["target"]),
            state,
            local_time(row["last_success_at"]),
        )
    console.print(table)


@contact_app.command("rm")
def contact_rm(
    user: Annotated[str, typer.Argument()], contact_id: Annotated[int, typer.Argument()]
) -> None:
    """Remove a contact method."""
    Client.from_env().request(
        "DELETE", f"/api/v1/users/{quote(user.lstrip('@'))}/contact-methods/{contact_id}"
    )
    console.print(f"removed contact method {contact_id}")


def _rule(text: str) -> dict[str, Any]:
    contact, _, delay = text.partition(":")
    match = DELAY.match(delay or "0")
    if not contact.isdigit() or match is None:
        raise CliError(f"--rule {text!r}: use CONTACT_ID:DELAY, e.g. 3:0 or 4:2m", EXIT_USAGE)
    amount, unit = float(match.group(1)), match.group(2) or "m"
    minutes = amount / 60 if unit == "s" else amount * 60 if unit == "h" else amount
    return {"contact_id": int(contact), "delay_minutes": minutes}


@notify_app.command("rules")
def notify_rules(
    user: Annotated[str, typer.Argument(help="handle")],
    rule: Annotated[list[str] | None, typer.Option(help="CONTACT_ID:DELAY, e.g. 3:0 4:2m")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a person's notification rules, or replace them with --rule ..."""
    client = Client.from_env()
    path = f"/api/v1/users/{quote(user.lstrip('@'))}/notification-rules"
    rows = (
        client.request("PUT", path, json_body=[_rule(r) for r in rule])
        if rule
        else client.get(path)
    )
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no rules: every contact method is notified at once")
    for row in rows:
        what = f"{esc(row['kind'])} ({esc(row['label'])}, id {row['contact_id']})"
        console.print(f"after {row['delay_minutes']:g} min: {what}")


@notify_app.command("test")
def notify_test(user: Annotated[str, typer.Argument(help="handle")]) -> None:
    """Send a test notification through each of a person's contact methods."""
    data = Client.from_env().post(f"/api/v1/users/{quote(user.lstrip('@'))}/notify-test")
    for row in data["queued"]:
        console.print(f"queued: {esc(row['kind'])} {esc(row['target'])}")
    errors.print(
        "[dim]the worker sends them now; see `warroom contact ls` for the last success[/dim]"
    )


def outbox_ls(
    status: Annotated[str, typer.Option(help="dead, pending, done or cancelled")] = "dead",
    as_json: JsonOpt = False,
) -> None:
    """Dead letters (deliveries that gave up), or other outbox messages."""
    if status not in ("dead", "pending", "done", "cancelled"):
        raise CliError("--status must be dead, pending, done or cancelled", EXIT_USAGE)
    rows = Client.from_env().get("/api/v1/outbox", status=status)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print(f"no {status} messages")
        return
    table = _table("ID", "KIND", "INCIDENT", "ATTEMPTS", "DUE", "LAST ERROR")
    for row in rows:
        table.add_row(
            str(row["id"]),
            esc(row["kind"]),
            esc(row["incident"] or "-"),
            str(row["attempts"]),
            local_time(row["due_at"]),
            esc(row["last_error"][:80]),
        )
    console.print(table)
