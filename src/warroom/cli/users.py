"""People commands: user and token create (on the database), login, teams, services."""

from __future__ import annotations

from typing import Annotated

import typer

from warroom.cli.client import Client, checked_url, save_credentials
from warroom.cli.output import console, esc, print_json

user_app = typer.Typer(help="Users (works on the database directly).", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (works on the database directly).", no_args_is_help=True)
team_app = typer.Typer(help="Teams.", no_args_is_help=True)
service_app = typer.Typer(help="Services.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]


@user_app.command("create")
def user_create(
    handle: Annotated[str, typer.Argument(help="short unique name, e.g. alice")],
    name: Annotated[str, typer.Option(help="full name")],
    email: Annotated[str, typer.Option(help="email address")],
    role: Annotated[str, typer.Option(help="admin, responder or viewer")] = "responder",
    time_zone: Annotated[str, typer.Option("--tz", help="IANA time zone")] = "UTC",
    password: Annotated[bool, typer.Option("--password", help="prompt for a password")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a user."""
    from warroom.cli import local

    secret = (
        typer.prompt("password", hide_input=True, confirmation_prompt=True) if password else None
    )
    local.create_user(
        handle=handle,
        name=name,
        email=email,
        role=role,
        time_zone=time_zone,
        password=secret,
        as_json=as_json,
    )


@token_app.command("create")
def token_create(
    handle: Annotated[str, typer.Argument(help="whose token")],
    name: Annotated[str, typer.Option(help="what the token is for")] = "cli",
    as_json: JsonOpt = False,
) -> None:
    """Issue an API token; it is printed once and stored only hashed."""
    from warroom.cli import local

    local.create_token(handle=handle, name=name, as_json=as_json)


def login(
    url: Annotated[str | None, typer.Option(help="server URL (default WARROOM_URL)")] = None,
    token: Annotated[str | None, typer.Option(help="an API token; else handle + password")] = None,
    handle: Annotated[str | None, typer.Option(help="your handle (with password login)")] = None,
) -> None:
    """Save credentials for later commands, checking them against the server."""
    client = Client.from_env()
    client.url = checked_url(url) if url else client.url
    if token is None:
        who = handle or typer.prompt("handle")
        secret = typer.prompt("password", hide_input=True)
        issued = client.request(
            "POST", "/api/v1/auth/token", auth=False, json_body={"handle": who, "password": secret}
        )
        token = str(issued["token"])
    client.token = token
    me = client.get("/api/v1/me")
    path = save_credentials(client.url, token)
    console.print(
        f"logged in to {esc(client.url)} as @{esc(me['handle'])} ({esc(me['role'])}); "
        f"saved in {esc(path)}"
    )


@team_app.command("create")
def team_create(
    slug: Annotated[str, typer.Argument(help="short unique name, e.g. payments")],
    name: Annotated[str, typer.Option(help="display name")],
    member: Annotated[list[str] | None, typer.Option(help="member handle (repeatable)")] = None,
    time_zone: Annotated[str, typer.Option("--tz", help="IANA time zone")] = "UTC",
    as_json: JsonOpt = False,
) -> None:
    """Create a team (admins)."""
    body = {"slug": slug, "name": name, "members": member or [], "time_zone": time_zone}
    data = Client.from_env().post("/api/v1/teams", body)
    if as_json:
        print_json(data)
    else:
        console.print(f"created team {data['slug']}")


@team_app.command("ls")
def team_ls(as_json: JsonOpt = False) -> None:
    """List teams and their members."""
    data = Client.from_env().get("/api/v1/teams")
    if as_json:
        print_json(data)
        return
    for team in data:
        members = " ".join(f"@{m['handle']}" for m in team["members"])
        console.print(
            f"[bold]{esc(team['slug'])}[/bold] {esc(team['name'])}: {esc(members or '-')}"
        )


@service_app.command("create")
def service_create(
    slug: Annotated[str, typer.Argument(help="short unique name, e.g. checkout")],
    name: Annotated[str, typer.Option(help="display name")],
    team: Annotated[str | None, typer.Option(help="owning team slug")] = None,
    description: Annotated[str, typer.Option(help="what it does")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Create a service (admins)."""
    body = {"slug": slug, "name": name, "team": team, "description": description}
    data = Client.from_env().post("/api/v1/services", body)
    if as_json:
        print_json(data)
    else:
        console.print(f"created service {data['slug']}")


@service_app.command("ls")
def service_ls(as_json: JsonOpt = False) -> None:
    """List services."""
    data = Client.from_env().get("/api/v1/services")
    if as_json:
        print_json(data)
        return
    for service in data:
        console.print(
            f"[bold]{esc(service['slug'])}[/bold] {esc(service['name'])} "
            f"(team {esc(service['team'] or '-')})"
        )
