"""Commands that work on the database directly (server side).

Imported lazily by the thin command functions in server.py and users.py, so
that client commands do not pay for SQLAlchemy and Alembic at start.
"""

from __future__ import annotations

import json
import logging
import os
import sys

from pydantic import ValidationError

from warroom.cli import context, demo
from warroom.cli.client import EXIT_USAGE, CliError, credentials_path, save_credentials
from warroom.cli.output import console, errors, print_json
from warroom.clock import SystemClock
from warroom.db import migrate
from warroom.db.engine import make_engine
from warroom.db.uow import unit_of_work
from warroom.errors import WarroomError
from warroom.users import service as user_service
from warroom.users.schemas import UserCreate


def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    config = context.settings()
    engine = make_engine(config.resolved_database_url)
    migrate.upgrade(engine)
    console.print(f"database at {migrate.current_revision(engine)} (current)")


def db_current() -> bool:
    """Print the schema revision; True when it is current."""
    config = context.settings()
    engine = make_engine(config.resolved_database_url)
    current, head = migrate.current_revision(engine), migrate.head_revision()
    state = "current" if current == head else f"behind: code needs {head}"
    console.print(f"database at {current or 'none'} ({state})")
    return current == head


def serve(
    host: str | None, port: int | None, workers: int | None, *, run_worker: bool, public: bool
) -> None:
    """Run the HTTP server until stopped."""
    # The app factory reads its settings from the environment, in each process.
    if not run_worker:
        os.environ["WARROOM_RUN_WORKER"] = "false"
    if public:
        os.environ["WARROOM_PUBLIC"] = "true"
    config = context.settings()
    context.database(config)  # refuse to start on a database that is not migrated
    bind_host, bind_port = host or config.host, port or config.port
    console.print(f"warroom serving {config.base_url} (listening on {bind_host}:{bind_port})")
    options = {
        "host": bind_host,
        "port": bind_port,
        "workers": workers or config.workers,
        "log_level": config.log_level,
        "access_log": config.log_level == "debug",
        "proxy_headers": True,
        # One system call per response instead of two (web/protocol.py).
        "http": "warroom.web.protocol:HttpProtocol",
        "server_header": False,
    }
    sys.stdout.flush()
    sys.stderr.flush()
    # The CLI's imports stay out of the serving processes (web/supervise.py).
    command = [sys.executable, "-m", "warroom.web.supervise", json.dumps(options)]
    os.execv(sys.executable, command)  # noqa: S606 (our own interpreter, no shell involved)


def run_worker() -> None:
    """Run the worker in the foreground until stopped."""
    from warroom.worker import main as worker_main

    config = context.settings()
    context.database(config)  # refuse to start on a database that is not migrated
    logging.basicConfig(
        level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(message)s"
    )
    console.print("warroom worker running (Ctrl-C to stop)")
    worker_main.run(config)


def load_demo(if_empty: bool) -> None:
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


def _validation_message(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'input'}: "
        f"{str(e['msg']).removeprefix('Value error, ')}"
        for e in error.errors()
    )


def create_user(
    *,
    handle: str,
    name: str,
    email: str,
    role: str,
    time_zone: str,
    password: str | None,
    as_json: bool,
) -> None:
    """Create a user on the database."""
    try:
        user_in = UserCreate(
            handle=handle,
            name=name,
            email=email,
            role=role,
            time_zone=time_zone,
            password=password,
        )
    except ValidationError as error:
        raise CliError(_validation_message(error), EXIT_USAGE) from None
    sessions = context.database(context.settings())
    with unit_of_work(sessions) as session:
        try:
            user = user_service.create(session=session, now=SystemClock().now(), user_in=user_in)
        except WarroomError as error:
            raise CliError(error.message) from None
        result = {
            "handle": user.handle,
            "name": user.name,
            "email": user.email,
            "role": user.role,
            "time_zone": user.time_zone,
        }
    if as_json:
        print_json(result)
    else:
        console.print(f"created {result['role']} @{result['handle']}")


def create_token(*, handle: str, name: str, as_json: bool) -> None:
    """Issue an API token on the database; printed once, stored hashed."""
    sessions = context.database(context.settings())
    with unit_of_work(sessions) as session:
        try:
            user = user_service.get_by_handle_or_raise(session=session, handle=handle)
        except WarroomError as error:
            raise CliError(error.message) from None
        token = user_service.create_token(
            session=session, now=SystemClock().now(), user=user, name=name
        )
    if as_json:
        print_json({"token": token})
    else:
        console.print(token, soft_wrap=True)
        # The hint goes to stderr so that TOKEN=$(warroom token create ...) gets the token only.
        errors.print(f"[dim]token for @{handle}; shown only now, store it safely[/dim]")
