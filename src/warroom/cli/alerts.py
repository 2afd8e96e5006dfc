"""Alert commands: integrations, the alert list, customer reports, change events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from warroom.cli.client import EXIT_USAGE, Client, CliError
from warroom.cli.output import console, errors, esc, local_time, print_json

integration_app = typer.Typer(
    help="Integrations: keyed entry points for alerts.", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="print the API's JSON")]
TYPES = ("alertmanager", "pagerduty", "grafana", "generic")


def _load_rules(path: Path | None) -> list[Any] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise CliError(f"--rules {path}: {error}", EXIT_USAGE) from None
    if not isinstance(data, list):
        raise CliError("--rules must hold a JSON list of rules", EXIT_USAGE)
    return data


@integration_app.command("create")
def integration_create(
    service: Annotated[str, typer.Argument(help="service slug")],
    type_: Annotated[str, typer.Option("--type", help="alertmanager, pagerduty, grafana, generic")],
    name: Annotated[str, typer.Option(help="what sends here, e.g. prod-alertmanager")] = "",
    rate_limit: Annotated[int, typer.Option(help="events per minute, 0 = unlimited")] = 0,
    rules: Annotated[Path | None, typer.Option(help="JSON file with routing rules")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an integration; prints its key once."""
    if type_ not in TYPES:
        raise CliError(f"--type must be one of {', '.join(TYPES)}", EXIT_USAGE)
    body = {
        "service": service,
        "type": type_,
        "name": name,
        "rate_limit_per_minute": rate_limit,
        "rules": _load_rules(rules) or [],
    }
    data = Client.from_env().post("/api/v1/integrations", body)
    if as_json:
        print_json({"key": data["key"], "id": data["id"], "endpoint": data["endpoint"]})
        return
    console.print(data["key"])
    errors.print(
        f"[dim]integration {data['id']}; send to {esc(data['endpoint'])} "
        "(the key is shown only now)[/dim]"
    )


@integration_app.command("ls")
def integration_ls(
    service: Annotated[str | None, typer.Option(help="service slug")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List integrations."""
    rows = Client.from_env().get("/api/v1/integrations", service=service)
    if as_json:
        print_json(rows)
        return
    table = Table(box=None, header_style="bold")
    for column in ("ID", "SERVICE", "TYPE", "NAME", "KEY", "STATE"):
        table.add_column(column)
    for row in rows:
        state = "revoked" if row["revoked_at"] else "active"
        table.add_row(
            str(row["id"]),
            esc(row["service"]),
            esc(row["type"]),
            esc(row["name"]),
            esc(row["key_prefix"]) + "…",
            state,
        )
    console.print(table)


@integration_app.command("rotate")
def integration_rotate(integration_id: int, as_json: JsonOpt = False) -> None:
    """Issue a new key; the old one keeps working for 24 hours."""
    data = Client.from_env().post(f"/api/v1/integrations/{integration_id}/rotate")
    if as_json:
        print_json({"key": data["key"], "id": data["id"], "endpoint": data["endpoint"]})
    else:
        console.print(data["key"])


@integration_app.command("revoke")
def integration_revoke(integration_id: int) -> None:
    """Revoke an integration's keys at once."""
    Client.from_env().request("DELETE", f"/api/v1/integrations/{integration_id}")
    console.print(f"integration {integration_id} revoked")


def alerts(
    open_only: Annotated[bool, typer.Option("--open", help="only open alerts")] = False,
    service: Annotated[str | None, typer.Option(help="service slug")] = None,
    incident: Annotated[str | None, typer.Option(help="incident ref")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List alerts, newest first."""
    page = Client.from_env().get(
        "/api/v1/alerts",
        open="true" if open_only else None,
        service=service,
        incident=incident,
        limit=limit,
    )
    if as_json:
        print_json(page["items"])
        return
    if not page["items"]:
        console.print("no alerts")
        return
    table = Table(box=None, header_style="bold")
    for column in ("ID", "STATUS", "SEV", "COUNT", "SERVICE", "INCIDENT", "LAST SEEN", "SUMMARY"):
        table.add_column(column)
    for item in page["items"]:
        table.add_row(
            str(item["id"]),
            esc(item["status"]),
            esc(item["severity"]),
            str(item["count"]),
            esc(item["service"]),
            esc(item["incident"] or "-"),
            local_time(item["last_seen_at"]),
            esc(item["summary"][:80]),
        )
    console.print(table)


def report_issue(
    text: Annotated[str, typer.Argument(help="what the customer reported")],
    service: Annotated[str | None, typer.Option(help="affected service slug")] = None,
    reporter: Annotated[str, typer.Option(help="who reported it")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Record a customer report; it joins an open incident or opens one in detection."""
    data = Client.from_env().post(
        "/api/v1/reports", {"text": text, "service": service, "reporter": reporter}
    )
    if as_json:
        print_json(data)
    else:
        verb = "added to" if data["joined"] else "opened"
        console.print(f"report {verb} {data['incident']}")


def changes(
    ref: Annotated[str, typer.Argument(help="incident reference")],
    hours: Annotated[int, typer.Option(min=1, max=168, help="look-back window")] = 6,
    as_json: JsonOpt = False,
) -> None:
    """Changes (deploys, config) on the incident's services before it began."""
    rows = Client.from_env().get(f"/api/v1/incidents/{ref}/changes", hours=hours)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print(f"no changes in the {hours} h before {esc(ref.upper())}")
    for row in rows:
        console.print(
            f"{local_time(row['occurred_at'])}  {esc(row['service'])}  {esc(row['summary'])}"
        )


def service_alert_settings(
    slug: Annotated[str, typer.Argument(help="service slug")],
    rules: Annotated[Path | None, typer.Option(help="JSON file with routing rules")] = None,
    auto_resolve: Annotated[
        bool | None,
        typer.Option(
            "--auto-resolve/--no-auto-resolve",
            help="may alerts that all resolve close a detection incident",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show or change a service's routing rules and self-resolution."""
    client = Client.from_env()
    path = f"/api/v1/services/{slug}/alert-settings"
    current = client.get(path)
    if rules is not None or auto_resolve is not None:
        body = {
            "rules": _load_rules(rules) if rules is not None else current["rules"],
            "auto_resolve": current["auto_resolve"] if auto_resolve is None else auto_resolve,
        }
        current = client.request("PUT", path, json_body=body)
    if as_json:
        print_json(current)
        return
    state = "on" if current["auto_resolve"] else "off"
    console.print(
        f"{esc(current['service'])}: self-resolution {state}, "
        f"{len(current['rules'])} routing rule(s)"
    )
    for index, rule in enumerate(current["rules"], 1):
        console.print(f"  {index}. {esc(json.dumps(rule))}")
