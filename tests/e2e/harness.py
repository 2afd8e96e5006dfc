"""Real processes for the CLI and end-to-end suites: `warroom` commands and a live server.

A Deployment is one isolated installation: its own var/ and config directories
under a temporary directory, its own database (a SQLite file, or a PostgreSQL
database named after the xdist worker and this process) and its own port on
127.0.0.1. Commands run as subprocesses with an environment built from
scratch for them: no WARROOM_* variable of the caller leaks in, so neither the
developer's server nor their ~/.config/warroom is ever touched.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_PROBLEM, PG_URL, fresh_pg_database

WARROOM = (sys.executable, "-m", "warroom")
BACKENDS = ("sqlite", "postgresql")
CLI_TIMEOUT = 60.0  # seconds one command may take before it counts as hung
START_TIMEOUT = 60.0  # seconds `warroom serve` may take to answer /readyz
STOP_TIMEOUT = 15.0  # seconds between SIGTERM and SIGKILL at teardown
# Inherited variables that change how output looks or where the CLI looks for config.
DROPPED = frozenset(
    {"FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "LINES"}
)
_databases = itertools.count(1)
# For tests whose behaviour does not depend on the database backend.
SQLITE_ONLY = pytest.mark.parametrize("shared_warroom", ["sqlite"], indirect=True)


def base_environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without WARROOM_* settings, plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("WARROOM_") and key not in DROPPED and key != "XDG_CONFIG_HOME"
    }
    env["COLUMNS"] = "200"  # wide enough that Rich does not wrap table cells
    env["PYTHONUTF8"] = "1"
    env.update(extra or {})
    return env


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Outcome:
    """What one `warroom` command did."""

    args: tuple[str, ...]
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def __str__(self) -> str:
        return (
            f"warroom {' '.join(self.args)} -> exit {self.code}\n"
            f"--- stdout ---\n{self.out}--- stderr ---\n{self.err}"
        )


def run(
    args: tuple[str, ...],
    env: Mapping[str, str],
    *,
    cwd: Path,
    input: str | None = None,
    timeout: float = CLI_TIMEOUT,
) -> Outcome:
    """Run `warroom ARGS` to completion (killed after ``timeout``).

    A new session means no controlling terminal, so password prompts read the
    given ``input`` instead of the developer's terminal.
    """
    done = subprocess.run(
        [*WARROOM, *args],
        env=dict(env),
        cwd=cwd,
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        start_new_session=True,
        check=False,
    )
    return Outcome(args, done.returncode, done.stdout, done.stderr)


def assert_ok(outcome: Outcome) -> Outcome:
    assert outcome.code == 0, outcome
    assert "Traceback" not in outcome.err, outcome
    return outcome


def assert_refused(outcome: Outcome, code: int, *fragments: str) -> str:
    """Exit ``code`` with one `error:` line on stderr naming ``fragments``; returns it."""
    assert outcome.code == code, outcome
    assert "Traceback" not in outcome.err, outcome
    assert outcome.out == "", outcome
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1, outcome
    assert lines[0].startswith("error: "), outcome
    for fragment in fragments:
        assert fragment in lines[0], outcome
    return lines[0]


def drop_pg_database(name: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dataclass
class Deployment:
    """One isolated warroom installation, possibly serving."""

    root: Path
    backend: str
    database_url: str
    port: int
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def var_dir(self) -> Path:
        return self.root / "var"

    @property
    def config_dir(self) -> Path:
        return self.root / "cfg"

    def server_env(self, **extra: str) -> dict[str, str]:
        return base_environ(
            {
                "WARROOM_VAR_DIR": str(self.var_dir),
                "WARROOM_DATABASE_URL": self.database_url,
                "WARROOM_PORT": str(self.port),
                "WARROOM_BASE_URL": self.url,
                "WARROOM_CONFIG_DIR": str(self.config_dir),
                **extra,
            }
        )

    def warroom(self, *args: str, input: str | None = None, **env: str) -> Outcome:
        """A server-side command (db, demo, user, token, serve) on this installation."""
        return run(args, self.server_env(**env), cwd=self.root, input=input)

    def cli(
        self,
        *args: str,
        token: str | None = None,
        anonymous: bool = False,
        url: str | None = None,
        no_url: bool = False,
        config_dir: Path | None = None,
        input: str | None = None,
        **env: str,
    ) -> Outcome:
        """A client command against this server, as the demo admin unless told otherwise.

        ``anonymous`` leaves WARROOM_TOKEN unset and ``no_url`` WARROOM_URL; the
        config directory is an empty one unless ``config_dir`` is given.
        """
        client_env = {
            "WARROOM_CONFIG_DIR": str(config_dir or self.root / "client-cfg"),
            **env,
        }
        if not no_url:
            client_env["WARROOM_URL"] = url or self.url
        if not anonymous:
            client_env["WARROOM_TOKEN"] = token or self.admin_token
        return run(args, base_environ(client_env), cwd=self.root, input=input)

    def demo_credentials(self) -> dict[str, str]:
        data: dict[str, str] = json.loads((self.var_dir / "demo-credentials.json").read_text())
        return data

    @property
    def admin_token(self) -> str:
        return self.demo_credentials()["token"]

    def issue_token(self, handle: str) -> str:
        """A new API token for ``handle``, made on the database directly."""
        outcome = assert_ok(self.warroom("token", "create", handle, "--json"))
        token: str = outcome.json()["token"]
        return token

    def api(self, method: str, path: str, *, token: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.admin_token}"}
        return httpx.request(method, self.url + path, headers=headers, timeout=15.0, **kw)

    def prepare(self) -> None:
        """What `make run` does before serving: migrate, then load the demo if empty."""
        assert_ok(self.warroom("db", "upgrade"))
        assert_ok(self.warroom("demo", "--if-empty"))

    def start(self) -> None:
        """`warroom serve` in the background, waiting until /readyz says ready."""
        assert self.process is None, "already serving"
        for attempt in range(3):
            self.log = self.root / f"serve-{attempt}.log"
            with self.log.open("wb") as sink:
                self.process = subprocess.Popen(
                    [*WARROOM, "serve"],
                    env=self.server_env(),
                    cwd=self.root,
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            if self._wait_ready():
                return
            output = self.log.read_text(errors="replace")
            self.stop()
            if "address already in use" not in output.lower():
                raise AssertionError(f"warroom serve exited before it was ready:\n{output}")
            self.port = free_port()  # another process took the port meanwhile
        raise AssertionError("warroom serve found no free port in 3 attempts")

    def _wait_ready(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if httpx.get(self.url + "/readyz", timeout=2.0).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        output = self.log.read_text(errors="replace") if self.log else ""
        self.stop()
        raise AssertionError(f"warroom serve not ready after {START_TIMEOUT}s:\n{output}")

    def stop(self) -> int | None:
        """Stop the server (SIGTERM, then SIGKILL); returns its exit status."""
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        return process.returncode


def skip_unless_backend(backend: str) -> None:
    if backend == "postgresql" and PG_PROBLEM:
        pytest.skip(f"PostgreSQL unreachable: {PG_PROBLEM}")


def _worker(config: pytest.Config) -> str:
    return str(getattr(config, "workerinput", {}).get("workerid", "main"))


@contextmanager
def new_deployment(config: pytest.Config, backend: str, root: Path) -> Iterator[Deployment]:
    """A Deployment with an empty database; its server and database go at the end."""
    skip_unless_backend(backend)
    pg_name = None
    if backend == "postgresql":
        # Worker and pid: concurrent pytest sessions also get distinct databases.
        pg_name = f"warroom_e2e_{_worker(config)}_{os.getpid()}_{next(_databases)}"
        url = fresh_pg_database(pg_name)
    else:
        url = f"sqlite:///{root / 'warroom.db'}"
    deployment = Deployment(root=root, backend=backend, database_url=url, port=free_port())
    try:
        yield deployment
    finally:
        deployment.stop()
        if pg_name:
            drop_pg_database(pg_name)
