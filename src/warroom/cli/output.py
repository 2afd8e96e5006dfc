"""How the CLI shows things: Rich for people, the API's JSON for scripts."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False)


def esc(value: object) -> str:
    """Server and user text, made safe to embed in Rich markup ('[/x]' stays literal)."""
    return escape(str(value))


def print_json(data: Any) -> None:
    """The API's JSON, unchanged, for scripts."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def local_time(value: str | None, *, with_date: bool = True) -> str:
    """An API timestamp shown in this terminal's time zone, labelled."""
    if not value:
        return "-"
    at = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone()
    pattern = "%Y-%m-%d %H:%M %Z" if with_date else "%H:%M:%S"
    return at.strftime(pattern)


def _person(role: dict[str, str] | None) -> str:
    return f"@{esc(role['handle'])}" if role else "[dim]unassigned[/dim]"


def incident_table(items: list[dict[str, Any]]) -> Table:
    table = Table(box=None, header_style="bold")
    for column in ("REF", "SEV", "PHASE", "TITLE", "IC", "DECLARED", "SERVICES"):
        table.add_column(column)
    for item in items:
        title = esc(item["title"]) + (" [yellow](drill)[/yellow]" if item["drill"] else "")
        table.add_row(
            esc(item["ref"]),
            esc(item["severity"]),
            esc(item["phase"]),
            title,
            _person(item["roles"]["commander"]),
            local_time(item["declared_at"]),
            esc(", ".join(item["services"])),
        )
    return table


def show_incident(item: dict[str, Any]) -> None:
    """A readable page about one incident."""
    drill = "  [yellow]DRILL[/yellow]" if item["drill"] else ""
    console.print(
        f"[bold]{esc(item['ref'])}[/bold]  {esc(item['severity'])}  {esc(item['phase'].upper())}  "
        f"{esc(item['title'])}{drill}"
    )
    roles = item["roles"]
    console.print(
        f"  IC {_person(roles['commander'])}   Tech Lead {_person(roles['tech_lead'])}"
        f"   Comms {_person(roles['comms'])}"
    )
    for warning in item["warnings"]:
        console.print(f"  [bold red]warning:[/bold red] {esc(warning)}")
    rows = [
        ("Services", esc(", ".join(item["services"])) or "-"),
        ("Impact", esc(item["customer_impact"]) or "-"),
        ("Theory", esc(item["current_theory"]) or "-"),
        ("Next action", esc(item["next_action"]) or "-"),
        ("Declared", local_time(item["declared_at"])),
        ("Acknowledged", _ack_line(item)),
        ("Next update", _update_line(item)),
        ("Next phases", ", ".join(item["allowed_next_phases"]) or "none (final)"),
    ]
    for phase in ("triage", "investigating", "mitigating", "resolved", "closed", "dismissed"):
        if item.get(f"{phase}_at"):
            rows.append((phase.capitalize(), local_time(item[f"{phase}_at"])))
    for label, value in rows:
        console.print(f"  [bold]{label + ':':<15}[/bold]{value}")  # values escaped above
    if item.get("timeline") is not None:
        console.print()
        console.print(timeline_table(item["timeline"]))


def _ack_line(item: dict[str, Any]) -> str:
    if item["acknowledged_at"]:
        by = f" by @{esc(item['acknowledged_by'])}" if item["acknowledged_by"] else ""
        return f"{local_time(item['acknowledged_at'])}{by}"
    due = item.get("ack_due_at")
    return f"[red]not yet[/red] (target {local_time(due)})" if due else "[red]not yet[/red]"


def _update_line(item: dict[str, Any]) -> str:
    status = str(item["update_status"])
    due = local_time(item["next_update_due_at"])
    if status.startswith("overdue"):
        return f"[bold red]OVERDUE[/bold red] ({status}, was due {due})"
    if item["next_update_due_at"]:
        return f"{status} ({due})"
    return status


def timeline_table(entries: list[dict[str, Any]]) -> Table:
    table = Table(box=None, header_style="bold", title="Timeline", title_justify="left")
    table.add_column("TIME")
    table.add_column("WHO")
    table.add_column("WHAT")
    table.add_column("", overflow="fold")
    for entry in entries:
        actor = f"@{esc(entry['actor'])}" if entry["actor"] else "warroom"
        # Multi-line texts (rendered updates) show their first line; --json has all.
        lines = entry["text"].splitlines() or [""]
        text = lines[0] + (" …" if len(lines) > 1 else "")
        table.add_row(local_time(entry["at"]), actor, esc(entry["kind"]), esc(text))
    return table
