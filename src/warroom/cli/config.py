"""Organisation settings through the API: severity levels and message templates."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from warroom.cli.client import EXIT_USAGE, Client, CliError
from warroom.cli.output import console, esc, print_json
from warroom.errors import Invalid
from warroom.incidents.rules import format_duration, parse_duration

severity_app = typer.Typer(help="Severity levels and their targets.", no_args_is_help=True)
template_app = typer.Typer(help="Message templates.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="print the API's JSON")]


def _seconds(option: str, value: str | None) -> int | None:
    if value is None or value.lower() in ("none", "-", ""):
        return None
    try:
        return int(parse_duration(value).total_seconds())
    except Invalid as error:
        raise CliError(f"{option}: {error.message}", EXIT_USAGE) from None


def _span(seconds: int | None) -> str:
    return format_duration(timedelta(seconds=seconds)) if seconds else "-"


@severity_app.command("ls")
def severity_ls(as_json: JsonOpt = False) -> None:
    """List severity levels with their ack target, update cadence and postmortem rule."""
    rows: list[dict[str, Any]] = Client.from_env().get("/api/v1/severities")
    if as_json:
        print_json(rows)
        return
    for row in rows:
        ack = (
            "next business day"
            if row["ack_next_business_day"]
            else _span(row["ack_target_seconds"])
        )
        postmortem = "postmortem required" if row["postmortem_required"] else "no postmortem"
        console.print(
            f"[bold]{esc(row['name'])}[/bold] (level {row['level']}): ack {ack}, "
            f"updates every {_span(row['update_cadence_seconds'])}, {postmortem}"
            f"  [dim]{esc(row['description'])}[/dim]"
        )


@severity_app.command("set")
def severity_set(
    level: Annotated[int, typer.Argument(min=1, max=20, help="level number, 1 = most severe")],
    name: Annotated[str, typer.Option(help="display name, e.g. SEV-1")],
    ack_target: Annotated[str | None, typer.Option(help="e.g. 5m; 'none' for no target")] = None,
    next_business_day: Annotated[bool, typer.Option(help="ack by the next business day")] = False,
    cadence: Annotated[str | None, typer.Option(help="internal update cadence, e.g. 15m")] = None,
    postmortem: Annotated[bool, typer.Option(help="postmortem required")] = False,
    description: Annotated[str, typer.Option(help="what this level means")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Create or replace a severity level (admins)."""
    body = {
        "name": name,
        "description": description,
        "ack_target_seconds": _seconds("--ack-target", ack_target),
        "ack_next_business_day": next_business_day,
        "update_cadence_seconds": _seconds("--cadence", cadence),
        "postmortem_required": postmortem,
    }
    data = Client.from_env().request("PUT", f"/api/v1/severities/{level}", json_body=body)
    if as_json:
        print_json(data)
    else:
        console.print(f"severity level {data['level']} is now {data['name']}")


@template_app.command("show")
def template_show(
    name: Annotated[str, typer.Argument(help="template name, e.g. internal_update")],
    as_json: JsonOpt = False,
) -> None:
    """Print a message template as it is used now."""
    data = Client.from_env().get(f"/api/v1/templates/{name}")
    if as_json:
        print_json(data)
    else:
        sys.stdout.write(data["body"])


@template_app.command("set")
def template_set(
    name: Annotated[str, typer.Argument(help="template name, e.g. internal_update")],
    file: Annotated[Path, typer.Option("-f", "--file", help="template file ('-' for stdin)")],
    as_json: JsonOpt = False,
) -> None:
    """Replace a message template (admins); it must render with sample values."""
    try:
        body = sys.stdin.read() if str(file) == "-" else file.read_text()
    except OSError as error:
        raise CliError(f"cannot read {file}: {error.strerror}", EXIT_USAGE) from None
    data = Client.from_env().request("PUT", f"/api/v1/templates/{name}", json_body={"body": body})
    if as_json:
        print_json(data)
    else:
        console.print(f"template {name} updated")


@template_app.command("reset")
def template_reset(name: Annotated[str, typer.Argument(help="template name")]) -> None:
    """Go back to the built-in template (admins)."""
    Client.from_env().request("DELETE", f"/api/v1/templates/{name}")
    console.print(f"template {name} reset to the default")
