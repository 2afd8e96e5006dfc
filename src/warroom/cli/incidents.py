"""Client commands that run an incident: declare, ls, show, ack, assign, ..."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import typer

from warroom.cli.client import EXIT_USAGE, Client, CliError
from warroom.cli.output import console, esc, incident_table, print_json, show_incident
from warroom.errors import Invalid
from warroom.incidents.rules import parse_duration, parse_ref

JsonOpt = Annotated[bool, typer.Option("--json", help="print the API's JSON")]
RefArg = Annotated[str, typer.Argument(help="incident reference, e.g. INC-3")]


def _path(ref: str) -> str:
    try:
        return f"/api/v1/incidents/INC-{parse_ref(ref)}"
    except Invalid as error:
        raise CliError(error.message, EXIT_USAGE) from None


def _done(data: dict[str, Any], as_json: bool, message: str) -> None:
    if as_json:
        print_json(data)
        return
    console.print(message)
    for warning in data.get("warnings", []):
        console.print(f"[bold red]warning:[/bold red] {esc(warning)}")


def _next_update(data: dict[str, Any]) -> str:
    if data["next_update_due_at"] is None:
        return "no scheduled updates"
    return f"next update {esc(data['update_status'])}"


def declare(
    title: Annotated[str, typer.Argument(help="what is broken, in a few words")],
    sev: Annotated[str, typer.Option("--sev", help="severity: 1-4 or SEV-1 (required)")],
    service: Annotated[list[str] | None, typer.Option(help="affected service (repeatable)")] = None,
    commander: Annotated[str | None, typer.Option(help="Incident Commander handle")] = None,
    impact: Annotated[str, typer.Option(help="customer impact so far")] = "",
    drill: Annotated[bool, typer.Option("--drill", help="a practice incident")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Declare an incident."""
    body = {
        "title": title,
        "severity": sev,
        "services": service or [],
        "commander": commander,
        "customer_impact": impact,
        "drill": drill,
    }
    data = Client.from_env().post("/api/v1/incidents", body)
    _done(
        data,
        as_json,
        f"declared [bold]{esc(data['ref'])}[/bold] {esc(data['severity'])}: "
        f"{esc(data['title'])} ({_next_update(data)})",
    )


def ls(
    open_only: Annotated[bool, typer.Option("--open", help="only open incidents")] = False,
    sev: Annotated[list[str] | None, typer.Option("--sev", help="severity filter")] = None,
    phase: Annotated[list[str] | None, typer.Option(help="phase filter")] = None,
    service: Annotated[str | None, typer.Option(help="service slug")] = None,
    drill: Annotated[
        bool | None, typer.Option("--drill/--no-drill", help="drills only / none")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    cursor: Annotated[str | None, typer.Option(help="page cursor from a previous call")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List incidents, newest first."""
    params = {
        "open": "true" if open_only else None,
        "severity": sev,
        "phase": phase,
        "service": service,
        "drill": None if drill is None else str(drill).lower(),
        "limit": limit,
        "cursor": cursor,
    }
    page = Client.from_env().get("/api/v1/incidents", **params)
    if as_json:
        print_json(page)
        return
    if not page["items"]:
        console.print("no incidents")
        return
    console.print(incident_table(page["items"]))
    if page["next_cursor"]:
        console.print(f"[dim]more: warroom ls --cursor {page['next_cursor']}[/dim]")


def show(
    ref: RefArg,
    timeline: Annotated[bool, typer.Option("--timeline", help="include the timeline")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show one incident, its targets and (with --timeline) its timeline."""
    client = Client.from_env()
    data = client.get(_path(ref), timeline="true" if timeline else None)
    if as_json:
        print_json(data)
    else:
        show_incident(data)


def ack(ref: RefArg, as_json: JsonOpt = False) -> None:
    """Acknowledge an incident."""
    data = Client.from_env().post(_path(ref) + "/ack")
    _done(data, as_json, f"{data['ref']} acknowledged by @{esc(data['acknowledged_by'])}")


def assign(
    ref: RefArg,
    commander: Annotated[str | None, typer.Option(help="Incident Commander ('' clears)")] = None,
    tech_lead: Annotated[str | None, typer.Option("--tech-lead", help="Tech Lead")] = None,
    comms: Annotated[str | None, typer.Option(help="Communications Lead")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Assign incident roles."""
    if commander is None and tech_lead is None and comms is None:
        raise CliError("give at least one of --commander, --tech-lead, --comms", EXIT_USAGE)
    body = {"commander": commander, "tech_lead": tech_lead, "comms": comms}
    data = Client.from_env().post(_path(ref) + "/roles", body)
    roles = data["roles"]
    names = ", ".join(f"{k}=@{esc(v['handle'])}" for k, v in roles.items() if v)
    _done(data, as_json, f"{data['ref']} roles: {names or 'none'}")


def phase(
    ref: RefArg,
    to: Annotated[str, typer.Argument(metavar="PHASE", help="investigating, mitigating, ...")],
    note: Annotated[str, typer.Option(help="why, for the timeline")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Move an incident to another phase."""
    data = Client.from_env().post(_path(ref) + "/phase", {"phase": to, "note": note})
    _done(data, as_json, f"{data['ref']} is now {data['phase']}")


def resolve(ref: RefArg, as_json: JsonOpt = False) -> None:
    """Mark an incident resolved."""
    data = Client.from_env().post(_path(ref) + "/resolve")
    _done(data, as_json, f"{data['ref']} resolved")


def sev(
    ref: RefArg,
    level: Annotated[str, typer.Argument(metavar="SEV", help="new severity, e.g. 2")],
    reason: Annotated[str, typer.Option(help="why, for the timeline")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Change an incident's severity."""
    data = Client.from_env().post(_path(ref) + "/severity", {"severity": level, "reason": reason})
    _done(data, as_json, f"{data['ref']} is now {esc(data['severity'])}")


def note(
    ref: RefArg,
    text: Annotated[str, typer.Argument(help="what happened")],
    at: Annotated[str | None, typer.Option(help="when, if earlier (ISO 8601 with zone)")] = None,
    corrects: Annotated[int | None, typer.Option(help="id of the entry this corrects")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a note to the timeline."""
    if at is not None:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            raise CliError(f"--at {at!r} is not an ISO 8601 time", EXIT_USAGE) from None
        if when.tzinfo is None:
            when = when.astimezone()  # a bare time means this terminal's zone
        at = when.isoformat()
    body = {"text": text, "at": at, "corrects": corrects}
    data = Client.from_env().post(_path(ref) + "/notes", body)
    if as_json:
        print_json(data)
    else:
        console.print(f"noted on {esc(ref.upper())} (entry {data['id']})")


def update(
    ref: RefArg,
    impact: Annotated[str | None, typer.Option(help="customer impact now")] = None,
    theory: Annotated[str | None, typer.Option(help="current theory")] = None,
    next_action: Annotated[str | None, typer.Option("--next", help="next action")] = None,
    eta: Annotated[str | None, typer.Option(help="ETA of the next action, e.g. 15m")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Post an internal update (rendered from the update template)."""
    if eta is not None:
        try:
            parse_duration(eta)
        except Invalid as error:
            raise CliError(f"--eta: {error.message}", EXIT_USAGE) from None
    body = {"impact": impact, "theory": theory, "next_action": next_action, "eta": eta}
    data = Client.from_env().post(_path(ref) + "/updates", body)
    if as_json:
        print_json(data)
    else:
        console.print(data["body"].rstrip(), markup=False)


COMMANDS: list[Callable[..., None]] = [
    declare,
    ls,
    show,
    ack,
    assign,
    phase,
    sev,
    note,
    update,
    resolve,
]
