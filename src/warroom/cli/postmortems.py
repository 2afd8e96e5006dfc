"""Postmortem and action item commands."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.table import Table

from warroom.cli.client import EXIT_USAGE, Client, CliError
from warroom.cli.output import console, esc, print_json

action_app = typer.Typer(help="Postmortem action items.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="print the API's JSON")]
VERBS = ("edit", "review", "publish", "draft", "lint", "create")
FORMATS = ("md", "html", "json")


def postmortem(
    first: Annotated[
        str, typer.Argument(help="REF, or one of: edit, review, publish, draft, lint, create")
    ],
    ref: Annotated[str | None, typer.Argument(help="REF when the first word is a verb")] = None,
    format_: Annotated[str, typer.Option("--format", help="md, html or json")] = "md",
    file: Annotated[
        Path | None, typer.Option("--file", help="edit: read the Markdown from this file")
    ] = None,
) -> None:
    """Show a postmortem (`postmortem INC-3 --format md`), or edit, review, publish, lint it."""
    if first.lower() not in VERBS:
        if ref is not None:
            raise CliError(
                f"unknown postmortem command {first!r}: use {', '.join(VERBS)}", EXIT_USAGE
            )
        _show(first, format_)
        return
    if ref is None:
        raise CliError(f"`warroom postmortem {first}` needs an incident, e.g. INC-3", EXIT_USAGE)
    verb = first.lower()
    path = f"/api/v1/incidents/{quote(ref)}/postmortem"
    client = Client.from_env()
    if verb == "edit":
        _edit(client, path, file)
    elif verb == "lint":
        _lint(client, path)
    elif verb == "create":
        client.post(path)
        console.print(f"postmortem drafted for {esc(ref)}")
    else:
        data = client.post(f"{path}/{'review' if verb == 'review' else verb}")
        console.print(
            f"{esc(data['incident'])} postmortem: {esc(data['status'].replace('_', ' '))}"
        )


def _show(ref: str, format_: str) -> None:
    if format_ not in FORMATS:
        raise CliError(f"--format must be one of {', '.join(FORMATS)}", EXIT_USAGE)
    client = Client.from_env()
    data = client.get(f"/api/v1/incidents/{quote(ref)}/postmortem")
    if format_ == "json":
        print_json(data)
    elif format_ == "md":
        sys.stdout.write(data["markdown"])
    else:
        page = client.text(f"/api/v1/incidents/{quote(ref)}/postmortem", format="html")
        sys.stdout.write(page)


def _edit(client: Client, path: str, file: Path | None) -> None:
    if file is not None:
        try:
            text = file.read_text()
        except OSError as error:
            raise CliError(f"--file {file}: {error.strerror}", EXIT_USAGE) from None
    else:
        text = _in_editor(client.get(path)["markdown"])
    data = client.request("PUT", f"{path}/markdown", json_body={"markdown": text})
    console.print(
        f"{esc(data['incident'])} postmortem saved ({len(data['action_items'])} action items)"
    )


def _in_editor(markdown: str) -> str:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.NamedTemporaryFile("w+", suffix=".md", delete=False) as handle:
        handle.write(markdown)
        name = handle.name
    try:
        if subprocess.call([*shlex.split(editor), name]) != 0:  # noqa: S603 (the user's editor)
            raise CliError(f"the editor ({editor}) failed; nothing saved", EXIT_USAGE)
        return Path(name).read_text()
    finally:
        os.unlink(name)


def _lint(client: Client, path: str) -> None:
    findings = client.get(f"{path}/lint")
    if not findings:
        console.print("[green]no blaming language found[/green]")
        return
    for finding in findings:
        where, quoted = esc(finding["section"]), esc(finding["text"])
        console.print(f'[bold]{where}[/bold]: "{quoted}" - {esc(finding["message"])}')
        console.print(f"  suggestion: {esc(finding['suggestion'])}")
    raise typer.Exit(1)


def _action_row(table: Table, row: dict[str, Any]) -> None:
    due = row["due"] + (" [red](overdue)[/red]" if row["overdue"] else "")
    table.add_row(
        str(row["id"]),
        esc(row["incident"]),
        f"{row['category'].capitalize()}: {esc(row['title'])}",
        row["priority"],
        f"@{esc(row['owner'])}",
        due,
        esc(row["status"].replace("_", " ")),
    )


@action_app.command("add")
def action_add(
    ref: Annotated[str, typer.Argument(help="incident, e.g. INC-3")],
    title: Annotated[str, typer.Argument()],
    category: Annotated[str, typer.Option(help="fix, detect, prevent or process")],
    priority: Annotated[str, typer.Option(help="P0, P1 or P2")],
    owner: Annotated[str, typer.Option(help="who owns it")],
    due: Annotated[str, typer.Option(help="due date, YYYY-MM-DD")],
    tracker: Annotated[str, typer.Option(help="issue tracker URL")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Add an action item (owner and due date are required)."""
    try:
        due_on = date.fromisoformat(due)
    except ValueError:
        raise CliError(f"--due {due!r}: use YYYY-MM-DD", EXIT_USAGE) from None
    body = {
        "title": title,
        "category": category.lower(),
        "priority": priority.upper(),
        "owner": owner.lstrip("@"),
        "due": due_on.isoformat(),
        "tracker_url": tracker,
    }
    data = Client.from_env().post(f"/api/v1/incidents/{quote(ref)}/actions", body)
    if as_json:
        print_json(data)
        return
    console.print(f"action item {data['id']} on {esc(data['incident'])}: {esc(data['title'])}")


@action_app.command("ls")
def action_ls(
    overdue: Annotated[bool, typer.Option("--overdue", help="only open items past due")] = False,
    owner: Annotated[str | None, typer.Option(help="only this owner's")] = None,
    status: Annotated[str | None, typer.Option(help="open, done or wont_do")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List action items."""
    rows = Client.from_env().get(
        "/api/v1/actions", overdue=str(overdue).lower(), owner=owner, status=status
    )
    if as_json:
        print_json(rows)
        return
    table = Table(box=None, header_style="bold")
    for column in ("ID", "INCIDENT", "ITEM", "PRI", "OWNER", "DUE", "STATUS"):
        table.add_column(column)
    for row in rows:
        _action_row(table, row)
    console.print(table)
    if overdue and rows:
        raise typer.Exit(1)


@action_app.command("done")
def action_done(item_id: Annotated[int, typer.Argument()]) -> None:
    """Mark an action item done."""
    data = Client.from_env().post(f"/api/v1/actions/{item_id}/close", {"status": "done"})
    console.print(f"action item {data['id']} done")


@action_app.command("wont-do")
def action_wont_do(
    item_id: Annotated[int, typer.Argument()],
    reason: Annotated[str, typer.Option(help="why it won't be done")],
) -> None:
    """Close an action item as won't do, with the reason."""
    data = Client.from_env().post(
        f"/api/v1/actions/{item_id}/close", {"status": "wont_do", "reason": reason}
    )
    console.print(f"action item {data['id']} closed: won't do")
