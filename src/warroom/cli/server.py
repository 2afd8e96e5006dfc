"""Server-side commands: serve, db, demo."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from warroom.cli import context, demo
from warroom.cli.client import CliError, credentials_path, save_credentials
from warroom.cli.output import console
from warroom.clock import SystemClock
from warroom.db import migrate
from warroom.db.engine import make_engine
from warroom.db.uow import unit_of_work
from warroom.users import service as user_service

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    config = context.settings()
    engine = make_engine(config.resolved_database_url)
    migrate.upgrade(engine)
    console.print(f"database at {migrate.current_revision(engine)} (current)")


@db_app.command("current")
def db_current() -> None:
    """Show the database's schema revision and whether it is current."""
    config = context.settings()
    engine = make_engine(config.resolved_database_url)
    current, head = migrate.current_revision(engine), migrate.head_revision()
    state = "current" if current == head else f"behind: code needs {head}"
    console.print(f"database at {current or 'none'} ({state})")
    if current != head:
        raise typer.Exit(1)


def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    workers: Annotated[int | None, typer.Option(help="server processes")] = None,
) -> None:
    """Serve the API (and, in later versions, the web console and status page)."""
    config = context.settings()
    context.database(config)  # refuse to start on a database that is not migrated
    bind_host, bind_port = host or config.host, port or config.port
    console.print(f"warroom serving {config.base_url} (listening on {bind_host}:{bind_port})")
    uvicorn.run(
        "warroom.web.asgi:app_factory",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=workers or config.workers,
        log_level=config.log_level,
        access_log=config.log_level == "debug",
        proxy_headers=True,
    )


def demo_command(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="only into an empty database")
    ] = False,
) -> None:
    """Load the demo organisation and print how to log in."""
    config = context.settings()
    sessions = context.database(config)
    now = SystemClock().now()
    with unit_of_work(sessions) as session:
        if not demo.is_empty(session):
            if not if_empty:
                raise CliError("the database is not empty; the demo loads only into a new one")
            session.rollback()
            _print_login(config.base_url, demo.read_credentials(config.var_dir))
            return
        admin, password = demo.load(session, now)
        token = user_service.create_token(session=session, now=now, user=admin, name="demo")
        handle = admin.handle
    credentials = {"handle": handle, "password": password, "token": token}
    demo.save_credentials(config.var_dir, credentials)
    if not credentials_path().exists():
        save_credentials(config.base_url, token)
    _print_login(config.base_url, credentials)


def _print_login(base_url: str, credentials: dict[str, str] | None) -> None:
    console.print(f"\n[bold]warroom[/bold] demo organisation at {base_url}")
    console.print(f"  API:      {base_url}/api/v1   (docs {base_url}/docs)")
    console.print(f"  OpenAPI:  {base_url}/openapi.json")
    console.print(f"  Health:   {base_url}/healthz  {base_url}/readyz  {base_url}/metrics")
    if credentials is None:
        console.print(
            "  (demo credentials not found under var/; create a token with "
            "`warroom token create HANDLE`)"
        )
        return
    console.print(f"  Admin:    @{credentials['handle']}  password {credentials['password']}")
    console.print(f"  Token:    {credentials['token']}")
    console.print("  In another terminal:")
    console.print('    export PATH="$PWD/.venv/bin:$PATH"')
    console.print(f"    export WARROOM_URL={base_url} WARROOM_TOKEN={credentials['token']}")
    console.print("    warroom ls\n")
