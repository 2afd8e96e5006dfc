"""`warroom statuspage maintenance`: announce, list, show and update scheduled maintenance."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from warroom.cli.client import EXIT_USAGE, Client, CliError
from warroom.cli.output import console, esc, local_time, print_json

PATH = "/api/v1/statuspage/maintenances"
STATUSES = ("scheduled", "in_progress", "verifying", "completed")
STATUS_FILTER_HELP = f"only this status: {', '.join(STATUSES)}"
MAINTENANCE_ID = re.compile(r"[a-z0-9]{12}")
ZONE_HELP = (
    "ISO 8601, e.g. 2026-12-01T02:00+01:00; without an offset the time is read in the "
    "organisation's time zone (the server's WARROOM_TIME_ZONE), not this terminal's"
)

maintenance_app = typer.Typer(
    help="Scheduled maintenance: announced ahead, started and completed on time by the worker.",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="print the API's JSON")]
IdArg = Annotated[str, typer.Argument(help="the maintenance's id (12 letters and digits)")]


def _time(value: str, option: str) -> str:
    """An ISO 8601 time passed on as given (a bare one stays bare: the server zones it)."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CliError(
            f"{option} {value!r}: give an ISO 8601 time like 2026-12-01T02:00+01:00", EXIT_USAGE
        ) from None
    return parsed.isoformat()


def _path(maintenance_id: str) -> str:
    if not MAINTENANCE_ID.fullmatch(maintenance_id):
        raise CliError(
            f"{maintenance_id!r} is not a maintenance id (12 lowercase letters and digits; "
            "see `warroom statuspage maintenance ls`)",
            EXIT_USAGE,
        )
    return f"{PATH}/{maintenance_id}"


def _message(message: str) -> str:
    if not message.strip():
        raise CliError("--message is required: what customers should read", EXIT_USAGE)
    return message


def _status(status: str) -> str:
    if status not in STATUSES:
        raise CliError(f"--status {status!r}: use one of {', '.join(STATUSES)}", EXIT_USAGE)
    return status


def _window(data: dict[str, Any]) -> str:
    return f"{local_time(data['scheduled_for'])} to {local_time(data['scheduled_until'])}"


def _summary(data: dict[str, Any]) -> str:
    components = ", ".join(data["components"])
    return (
        f"maintenance {data['id']} {data['status'].replace('_', ' ')}: {esc(data['title'])}, "
        f"{_window(data)} ({esc(components)}) -> {esc(data['url'])}"
    )


@maintenance_app.command("schedule")
def schedule(
    title: Annotated[str, typer.Argument(help="what customers see, e.g. 'Database upgrade'")],
    start: Annotated[str, typer.Option(help=f"when it starts, or 'now'; {ZONE_HELP}")],
    end: Annotated[str, typer.Option(help=f"when it ends; {ZONE_HELP}")],
    component: Annotated[list[str], typer.Option(help="component under maintenance (repeatable)")],
    message: Annotated[str, typer.Option(help="what customers read")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Announce a maintenance (subscribers get it now); the worker starts and completes it."""
    now = start.strip().lower() == "now"
    body = {
        "title": title,
        "message": _message(message),
        "components": component,
        "scheduled_for": None if now else _time(start, "--start"),
        "scheduled_until": _time(end, "--end"),
        "start_now": now,
    }
    data = Client.from_env().post(PATH, body)
    if as_json:
        print_json(data)
        return
    console.print(_summary(data))


@maintenance_app.command("ls")
def ls(
    status: Annotated[str | None, typer.Option(help=STATUS_FILTER_HELP)] = None,
    as_json: JsonOpt = False,
) -> None:
    """List maintenances, the latest scheduled first."""
    rows = Client.from_env().get(PATH, status=_status(status) if status else None)
    if as_json:
        print_json(rows)
        return
    table = Table(box=None, header_style="bold")
    for column in ("ID", "STATUS", "START", "END", "TITLE", "COMPONENTS"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["id"],
            row["status"],
            local_time(row["scheduled_for"]),
            local_time(row["scheduled_until"]),
            esc(row["title"]),
            esc(", ".join(row["components"])),
        )
    console.print(table)


@maintenance_app.command("show")
def show(maintenance_id: IdArg, as_json: JsonOpt = False) -> None:
    """Show one maintenance and its updates, newest first."""
    data = Client.from_env().get(_path(maintenance_id))
    if as_json:
        print_json(data)
        return
    console.print(_summary(data))
    for post in data["updates"]:
        status = post["status"].replace("_", " ").capitalize()
        console.print(f"  {local_time(post['created_at'])}  {status} - {esc(post['message'])}")


@maintenance_app.command("update")
def update(
    maintenance_id: IdArg,
    status: Annotated[
        str,
        typer.Option(
            help="scheduled, in_progress, verifying or completed "
            "(completed before it starts calls it off)"
        ),
    ],
    message: Annotated[str, typer.Option(help="what customers read")] = "",
    start: Annotated[
        str | None, typer.Option(help=f"move the start (only while scheduled); {ZONE_HELP}")
    ] = None,
    end: Annotated[str | None, typer.Option(help=f"move the end; {ZONE_HELP}")] = None,
    component: Annotated[
        list[str] | None,
        typer.Option(help="the components instead (repeatable; only while scheduled)"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Post an update: start, verify or complete it by hand, move its window or its components."""
    body = {
        "status": _status(status),
        "message": _message(message),
        "scheduled_for": _time(start, "--start") if start else None,
        "scheduled_until": _time(end, "--end") if end else None,
        "components": component or None,
    }
    data = Client.from_env().post(_path(maintenance_id) + "/updates", body)
    if as_json:
        print_json(data)
        return
    console.print(_summary(data))
    for change in data["updates"][0]["affected"]:
        new = change["new_status"].replace("_", " ")
        console.print(f"  {esc(change['name'])}: {new}")
