"""warroom under test: a fresh database set up with the CLI, served, with bench integrations.

The database is migrated and loaded with the demo organisation by the `warroom`
command itself (`db upgrade`, `demo`); integrations are created through the API
with the demo admin's token. No escalation policy is set: ingest only.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import seed
from bench import server as server_mod

LOAD_SERVICE = "checkout"  # the storm's service
PROBE_SERVICE = "search"  # the latency probe's service: no background alerts there


@dataclass(frozen=True)
class Keys:
    """Integration keys: PagerDuty and Alertmanager on the load service, one for probes."""

    pagerduty: str
    alertmanager: str
    probe: str


@dataclass
class Warroom:
    """A served, set-up warroom."""

    server: server_mod.Server
    backend: str
    workers: int
    url: str
    token: str
    keys: Keys

    @property
    def pid(self) -> int:
        return self.server.process.pid

    def pids(self) -> list[int]:
        """The server's process (its workers are counted with it) and its database's."""
        return [self.pid, *database_pids(self.url)]

    def alive(self, during: str) -> None:
        code = self.server.process.poll()
        if code is not None:
            tail = server_mod.log_tail(self.server)
            raise RuntimeError(f"warroom serve exited with status {code} during {during}:\n{tail}")


def _cli(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [server_mod.warroom_command(), *args],
        env=os.environ | env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"warroom {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _env(url: str, var_dir: Path) -> dict[str, str]:
    return {
        "WARROOM_DATABASE_URL": url,
        "WARROOM_VAR_DIR": str(var_dir),
        "WARROOM_CONFIG_DIR": str(var_dir / "cli"),  # never the user's own credentials
    }


def _cli_output(args: list[str], env: dict[str, str]) -> str:
    try:
        return _cli(args, env).strip()
    except RuntimeError as error:
        return str(error).strip()


def prepare(url: str, var_dir: Path) -> str:
    """Migrate, load the demo organisation; returns the demo admin's API token."""
    env = _env(url, var_dir)
    _cli(["db", "upgrade"], env)
    _cli(["demo"], env)
    credentials = json.loads((var_dir / "demo-credentials.json").read_text())
    return str(credentials["token"])


def create_keys(base_url: str, token: str) -> Keys:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30.0) as client:

        def create(service: str, type_: str, name: str) -> str:
            body = {"service": service, "type": type_, "name": name}
            answer = client.post("/api/v1/integrations", json=body)
            answer.raise_for_status()
            return str(answer.json()["key"])

        return Keys(
            pagerduty=create(LOAD_SERVICE, "pagerduty", "bench-pagerduty"),
            alertmanager=create(LOAD_SERVICE, "alertmanager", "bench-alertmanager"),
            probe=create(PROBE_SERVICE, "pagerduty", "bench-probe"),
        )


@contextmanager
def serving(backend: str, workdir: Path, workers: int, pg_name: str) -> Iterator[Warroom]:
    """A fresh database (dropped afterwards) and `warroom serve` on it (stopped afterwards)."""
    workdir.mkdir(parents=True, exist_ok=True)
    with seed.fresh_database(backend, workdir, seed.PG_SERVER, pg_name) as url:
        var_dir = workdir / "var"
        var_dir.mkdir(exist_ok=True)
        token = prepare(url, var_dir)
        with ExitStack() as stack:
            try:
                srv = stack.enter_context(server_mod.running(url, var_dir, workers=workers))
            except RuntimeError as error:  # say whether the schema was the reason
                current = _cli_output(["db", "current"], _env(url, var_dir))
                raise RuntimeError(f"{error}\n`warroom db current`: {current}") from error
            keys = create_keys(srv.base_url, token)
            wr = Warroom(srv, backend, workers, url, token, keys)
            try:
                yield wr
            except Exception as error:
                wr.alive(f"a step that failed with {type(error).__name__}")  # the log, if it died
                raise


def open_alerts(url: str) -> int:
    """Alerts not resolved, counted in the database itself."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            query = text("SELECT count(*) FROM alert WHERE status <> 'resolved'")
            return int(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


def database_pids(url: str) -> list[int]:
    """PostgreSQL backends serving this database (none for SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return []
    marker = f" {parsed.database} ".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.startswith(b"postgres: ") and marker in cmdline:
            pids.append(int(entry.name))
    return pids
