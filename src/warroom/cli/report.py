"""`warroom report`: the program's figures over a period."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from warroom.cli.client import EXIT_USAGE, Client, CliError
from warroom.cli.output import console, esc, local_time, print_json

GROUPINGS = ("severity", "service", "team", "all")


def _minutes(stat: dict[str, Any]) -> str:
    if not stat["count"]:
        return "-"
    return f"{stat['median']:.0f} / {stat['p90']:.0f} / {stat['mean']:.0f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def report(
    since: Annotated[str, typer.Option(help="30d, 12w, 48h or a date")] = "30d",
    by: Annotated[str, typer.Option(help="severity, service, team or all")] = "severity",
    as_json: Annotated[bool, typer.Option("--json", help="print the API's JSON")] = False,
) -> None:
    """MTTD, MTTA, MTTM, MTTR and compliance by group (drills excluded)."""
    if by not in GROUPINGS:
        raise CliError(f"--by must be one of {', '.join(GROUPINGS)}", EXIT_USAGE)
    data = Client.from_env().get("/api/v1/report", since=since, by=by)
    if as_json:
        print_json(data)
        return
    console.print(
        f"incidents declared {local_time(data['since'])} to {local_time(data['until'])} "
        "[dim](minutes: median / p90 / mean)[/dim]"
    )
    table = Table(box=None, header_style="bold")
    for column in (
        by.upper(),
        "N",
        "MTTD",
        "MTTA",
        "MTTM",
        "MTTR",
        "ACK OK",
        "UPDATES OK",
        "PM ON TIME",
    ):
        table.add_column(column)
    rows = data["groups"] + [data["overall"]]
    for group in rows:
        table.add_row(
            esc(group["key"]),
            str(group["incidents"]),
            _minutes(group["mttd_minutes"]),
            _minutes(group["mtta_minutes"]),
            _minutes(group["mttm_minutes"]),
            _minutes(group["mttr_minutes"]),
            _percent(group["ack_compliance"]),
            _percent(group["update_compliance"]),
            _percent(group["postmortems_on_time"]),
        )
    console.print(table)
    windows = data["overall"]["phase_windows_met"]
    console.print(
        "phase windows met: " + ", ".join(f"{k} {_percent(v)}" for k, v in windows.items())
    )
    items = data["action_items"]
    closed = f"{items['closed_on_time']}/{items['due']}"
    console.print(f"action items closed on time: {closed} ({_percent(items['ratio'])})")
    counts = {k: v for k, v in data["anti_pattern_counts"].items() if v}
    if counts:
        listed = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items())
        console.print(f"[yellow]anti-patterns: {esc(listed)}[/yellow]; latest:")
        for finding in data["anti_patterns"][:20]:
            console.print(f"  {esc(finding['incident'])}: {esc(finding['detail'])}")
