"""Status page commands: components, posts, and the static export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from warroom.cli.client import EXIT_USAGE, Client, CliError
from warroom.cli.output import console, esc, local_time, print_json
from warroom.cli.statuspage_maintenance import maintenance_app

statuspage_app = typer.Typer(help="The public status page.", no_args_is_help=True)
component_app = typer.Typer(help="Status page components.", no_args_is_help=True)
statuspage_app.add_typer(component_app, name="component")
statuspage_app.add_typer(maintenance_app, name="maintenance")
subscriber_app = typer.Typer(help="Status mail subscribers (admins).", no_args_is_help=True)
statuspage_app.add_typer(subscriber_app, name="subscriber")
JsonOpt = Annotated[bool, typer.Option("--json", help="print the API's JSON")]
STATUSES = (
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
)


@component_app.command("add")
def component_add(
    name: Annotated[str, typer.Argument(help="what customers see, e.g. API")],
    group: Annotated[str | None, typer.Option(help="group it under this name")] = None,
    service: Annotated[str | None, typer.Option(help="internal service it stands for")] = None,
    description: Annotated[str, typer.Option()] = "",
) -> None:
    """Add a component to the status page."""
    body = {"name": name, "group": group, "service": service, "description": description}
    data = Client.from_env().post("/api/v1/statuspage/components", body)
    console.print(f"component {esc(data['name'])} ({data['id']}): {data['status']}")


@component_app.command("ls")
def component_ls(as_json: JsonOpt = False) -> None:
    """List the status page's components."""
    rows = Client.from_env().get("/api/v1/statuspage/components")
    if as_json:
        print_json(rows)
        return
    table = Table(box=None, header_style="bold")
    for column in ("NAME", "GROUP", "SERVICE", "STATUS"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            esc(row["name"]), esc(row["group"] or "-"), esc(row["service"] or "-"), row["status"]
        )
    console.print(table)


@subscriber_app.command("ls")
def subscriber_ls(
    state: Annotated[
        str | None, typer.Option(help="pending, confirmed or suppressed (hard bounces)")
    ] = None,
    after: Annotated[int, typer.Option(min=0, help="only ids above this (to page on)")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    as_json: JsonOpt = False,
) -> None:
    """List who gets status mail, by id."""
    params: dict[str, Any] = {"after": after, "limit": limit}
    if state:
        params["state"] = state
    rows = Client.from_env().get("/api/v1/statuspage/subscribers", **params)
    if as_json:
        print_json(rows)
        return
    table = Table(box=None, header_style="bold")
    for column in ("ID", "EMAIL", "STATE", "COMPONENTS", "BOUNCES", "SINCE"):
        table.add_column(column)
    for row in rows:
        chosen = "all" if row["components"] is None else ", ".join(row["components"]) or "-"
        table.add_row(
            str(row["id"]),
            esc(row["email"]),
            row["state"],
            esc(chosen),
            str(row["bounces"]),
            local_time(row["created_at"]),
        )
    console.print(table)
    if len(rows) == limit:
        console.print(f"more: warroom statuspage subscriber ls --after {rows[-1]['id']}")


@subscriber_app.command("rm")
def subscriber_rm(subscriber_id: Annotated[int, typer.Argument(min=1)]) -> None:
    """Remove an address from the list; mail queued for it is not sent."""
    gone = Client.from_env().request("DELETE", f"/api/v1/statuspage/subscribers/{subscriber_id}")
    console.print(f"removed subscriber {gone['id']} ({esc(gone['email'])})")


def _components(values: list[str] | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in values or []:
        name, _, status = value.rpartition("=")
        if not name or status not in STATUSES:
            raise CliError(
                f"--component {value!r}: use NAME=STATUS with STATUS one of {', '.join(STATUSES)}",
                EXIT_USAGE,
            )
        found[name] = status
    return found


@statuspage_app.command("post")
def post(
    ref: Annotated[
        str | None,
        typer.Argument(help="internal incident (INC-3) or a status page incident's id"),
    ] = None,
    status: Annotated[
        str, typer.Option(help="investigating, identified, monitoring, resolved, postmortem")
    ] = "investigating",
    message: Annotated[str, typer.Option(help="what customers read")] = "",
    component: Annotated[list[str] | None, typer.Option(help="NAME=STATUS, repeatable")] = None,
    title: Annotated[
        str | None, typer.Option(help="public title (default: built from components)")
    ] = None,
    new: Annotated[
        bool, typer.Option("--new", help="a standalone post, not tied to an incident")
    ] = False,
    next_update: Annotated[
        int | None, typer.Option("--next", help="minutes until the next update")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Post an update to the public status page."""
    if (ref is None) == (not new):
        raise CliError("give an incident (e.g. INC-3) or --new, not both", EXIT_USAGE)
    if not message.strip():
        raise CliError("--message is required: what customers should read", EXIT_USAGE)
    body = {
        "incident": ref,
        "new": new,
        "status": status,
        "message": message,
        "components": _components(component),
        "title": title,
        "next_update_minutes": next_update,
    }
    data = Client.from_env().post("/api/v1/statuspage/posts", body)
    if as_json:
        print_json(data)
        return
    due = f"; next update by {local_time(data['next_update_at'])}" if data["next_update_at"] else ""
    console.print(f"posted {esc(data['status'])}: {esc(data['title'])} -> {esc(data['url'])}{due}")
    if new:  # its id is the only handle a standalone incident has
        console.print(f"follow up with: warroom statuspage post {data['status_incident']} ...")


@statuspage_app.command("export")
def export(
    directory: Annotated[Path, typer.Argument(help="where to write the files")],
    base_url: Annotated[str, typer.Option(help="where the files will be served from")] = "",
    watch: Annotated[
        bool, typer.Option("--watch", help="keep running; export again on every change")
    ] = False,
    interval: Annotated[
        float, typer.Option(min=0.1, max=3600, help="with --watch: seconds between checks")
    ] = 1.0,
) -> None:
    """Write the status page (HTML, JSON, feeds) as static files, straight from the database."""
    from warroom.cli import status_export

    if watch:
        status_export.watch(directory, base_url, interval)
    else:
        status_export.export_once(directory, base_url)
