"""Server-side commands: serve, db, demo (implemented in local.py, loaded lazily)."""

from __future__ import annotations

from typing import Annotated

import typer

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    from warroom.cli import local

    local.db_upgrade()


@db_app.command("current")
def db_current() -> None:
    """Show the database's schema revision and whether it is current."""
    from warroom.cli import local

    if not local.db_current():
        raise typer.Exit(1)


def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    workers: Annotated[int | None, typer.Option(help="server processes")] = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="do not run the paging worker in this process")
    ] = False,
    public: Annotated[
        bool, typer.Option("--public", help="serve only the status page and alert ingest")
    ] = False,
) -> None:
    """Serve the API, ingest, and (unless --no-worker) the worker that pages people."""
    from warroom.cli import local

    local.serve(host, port, workers, run_worker=not no_worker, public=public)


def worker_command() -> None:
    """Run the worker alone: escalations, notifications, reminders, retries."""
    from warroom.cli import local

    local.run_worker()


def demo_command(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="only into an empty database")
    ] = False,
) -> None:
    """Load the demo organisation and print how to log in."""
    from warroom.cli import local

    local.load_demo(if_empty)
