"""Real processes for the alert-ingestion suite: `warroom serve` and Debian's Alertmanager.

A Warroom is one isolated installation: var/ and config directories under a
temporary directory, its own database (a SQLite file, or a PostgreSQL database
named after the xdist worker and this process) and its own port on 127.0.0.1.
Every command runs with an environment built from scratch: no WARROOM_*
variable of the caller leaks in. Every wait is bounded; every process a test
starts is stopped by the fixture that started it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml

from tests.conftest import IN_CI

T = TypeVar("T")
WARROOM = (sys.executable, "-m", "warroom")
ALERTMANAGER = "prometheus-alertmanager"
CLI_TIMEOUT = 60.0  # seconds one `warroom` command may take
START_TIMEOUT = 60.0  # seconds a server may take to say it is ready
STOP_TIMEOUT = 15.0  # seconds between SIGTERM and SIGKILL
WAIT_TIMEOUT = 30.0  # seconds to wait for an expected state
HTTP_TIMEOUT = 30.0
DROPPED = frozenset({"FORCE_COLOR", "NO_COLOR", "COLUMNS", "LINES", "XDG_CONFIG_HOME"})
# Alertmanager's route tree below: root "{}" and a matcher-less child "{}".
ROUTE_KEY = "{}/{}"


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_environ(extra: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment without WARROOM_* settings, plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("WARROOM_") and key not in DROPPED
    }
    env.update({"PYTHONUTF8": "1", "COLUMNS": "200", **extra})
    return env


def wait_for(what: str, fetch: Callable[[], T], done: Callable[[T], bool]) -> T:
    """Fetch until ``done`` holds (at most WAIT_TIMEOUT seconds); returns that value."""
    deadline = time.monotonic() + WAIT_TIMEOUT
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            shown = json.dumps(value, default=str)[:3000]
            raise AssertionError(f"no {what} after {WAIT_TIMEOUT}s; last seen: {shown}")
        time.sleep(0.2)


def stop(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, then SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


def spawn(args: list[str], env: Mapping[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(
            args,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_ready(process: subprocess.Popen[bytes], url: str) -> bool:
    """True once ``url`` answers 200; False if the process exits first."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop(process)
    raise AssertionError(f"{url} not ready after {START_TIMEOUT}s")


@dataclass
class Warroom:
    """One isolated warroom installation, possibly serving."""

    root: Path
    backend: str
    database_url: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def var_dir(self) -> Path:
        return self.root / "var"

    def server_env(self) -> dict[str, str]:
        return clean_environ(
            {
                "WARROOM_VAR_DIR": str(self.var_dir),
                "WARROOM_DATABASE_URL": self.database_url,
                "WARROOM_PORT": str(self.port),
                "WARROOM_BASE_URL": self.url,
                "WARROOM_CONFIG_DIR": str(self.root / "cfg"),
            }
        )

    def client_env(self) -> dict[str, str]:
        return clean_environ(
            {
                "WARROOM_URL": self.url,
                "WARROOM_TOKEN": self.admin_token,
                "WARROOM_CONFIG_DIR": str(self.root / "client-cfg"),
            }
        )

    def _start(self, args: tuple[str, ...], env: Mapping[str, str]) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*WARROOM, *args],
            env=dict(env),
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            start_new_session=True,
        )

    @staticmethod
    def _finish(args: tuple[str, ...], process: subprocess.Popen[str]) -> str:
        try:
            out, err = process.communicate(timeout=CLI_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        shown = f"warroom {' '.join(args)} -> {process.returncode}\n{out}\n{err}"
        assert process.returncode == 0, shown
        assert "Traceback" not in err, shown
        return out

    def _run(self, args: tuple[str, ...], env: Mapping[str, str]) -> str:
        return self._finish(args, self._start(args, env))

    def command(self, *args: str) -> str:
        """A server-side command (db, demo) on this installation."""
        return self._run(args, self.server_env())

    def cli(self, *args: str) -> str:
        """A client command against this server as the demo admin."""
        return self._run(args, self.client_env())

    @property
    def admin_token(self) -> str:
        data = json.loads((self.var_dir / "demo-credentials.json").read_text())
        return str(data["token"])

    def prepare_and_start(self) -> None:
        """Migrate, load the demo, then serve until /readyz answers (new port if taken)."""
        self.command("db", "upgrade")
        self.command("demo", "--if-empty")
        for attempt in range(3):
            log = self.root / f"serve-{attempt}.log"
            self.process = spawn([*WARROOM, "serve"], self.server_env(), self.root, log)
            if wait_ready(self.process, self.url + "/readyz"):
                return
            output = log.read_text(errors="replace")
            self.stop()
            if "address already in use" not in output.lower():
                raise AssertionError(f"warroom serve exited before it was ready:\n{output}")
            self.port = free_port()
        raise AssertionError("warroom serve found no free port in 3 attempts")

    def stop(self) -> None:
        process, self.process = self.process, None
        stop(process)

    def api(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        return httpx.request(method, self.url + path, headers=headers, timeout=HTTP_TIMEOUT, **kw)

    def post(self, path: str, content: bytes, **headers: str) -> httpx.Response:
        """An unauthenticated ingest request with a raw body."""
        sent = {"Content-Type": "application/json", **headers}
        return httpx.post(self.url + path, content=content, headers=sent, timeout=HTTP_TIMEOUT)

    def cli_concurrently(self, *commands: tuple[str, ...]) -> list[str]:
        """Several client commands at once (each is a slow Python start); their outputs."""
        started = [(args, self._start(args, self.client_env())) for args in commands]
        outputs, failures = [], []
        for args, process in started:  # reap every process before reporting a failure
            try:
                outputs.append(self._finish(args, process))
            except AssertionError as failure:
                failures.append(failure)
        if failures:
            raise failures[0]
        return outputs

    def create_integrations(self, *types: str) -> list[dict[str, Any]]:
        """`warroom integration create checkout --type T --json` for each of ``types``."""
        commands = [("integration", "create", "checkout", "--type", t, "--json") for t in types]
        return [json.loads(out) for out in self.cli_concurrently(*commands)]

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert (all pages), newest first, from the API."""
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 200}
        while True:
            response = self.api("GET", "/api/v1/alerts", params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            items += page["items"]
            if not page["next_cursor"]:
                return items
            params["cursor"] = page["next_cursor"]

    def cli_alerts(self) -> list[dict[str, Any]]:
        """`warroom alerts --json`."""
        data: list[dict[str, Any]] = json.loads(self.cli("alerts", "--json", "--limit", "200"))
        return data

    def incident(self, ref: str, *, timeline: bool = False) -> dict[str, Any]:
        params = {"timeline": "true"} if timeline else {}
        response = self.api("GET", f"/api/v1/incidents/{ref}", params=params)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def incident_refs(self) -> set[str]:
        response = self.api("GET", "/api/v1/incidents", params={"limit": 100})
        assert response.status_code == 200, response.text
        return {item["ref"] for item in response.json()["items"]}


def alertmanager_binary() -> str:
    """Debian's Alertmanager: missing fails under CI=true and skips elsewhere."""
    found = shutil.which(ALERTMANAGER) or (
        f"/usr/bin/{ALERTMANAGER}" if Path(f"/usr/bin/{ALERTMANAGER}").exists() else None
    )
    if found is None:
        reason = (
            f"{ALERTMANAGER} is not installed (Debian package prometheus-alertmanager; "
            "`make system-deps` installs it)"
        )
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    return found


def alertmanager_config(warroom_url: str, webhook_key: str, pagerduty_key: str) -> str:
    """Group by alertname, flush fast, never repeat; every group to both receivers."""
    config = {
        "route": {
            "receiver": "warroom-webhook",
            "group_by": ["alertname"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "24h",
            "routes": [
                {"receiver": "warroom-webhook", "continue": True},
                {"receiver": "warroom-pagerduty"},
            ],
        },
        "receivers": [
            {
                "name": "warroom-webhook",
                "webhook_configs": [
                    {
                        "url": f"{warroom_url}/integrations/alertmanager/{webhook_key}",
                        "send_resolved": True,
                    }
                ],
            },
            {
                "name": "warroom-pagerduty",
                "pagerduty_configs": [
                    {
                        "routing_key": pagerduty_key,
                        "url": f"{warroom_url}/v2/enqueue",
                        "send_resolved": True,
                    }
                ],
            },
        ],
    }
    return yaml.safe_dump(config, sort_keys=False)


@dataclass
class Alertmanager:
    """Debian's Alertmanager on 127.0.0.1, gossip off, state in a temporary directory."""

    binary: str
    root: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, config: str) -> None:
        (self.root / "am.yml").write_text(config)
        (self.root / "am-data").mkdir(exist_ok=True)
        for attempt in range(3):
            log = self.root / f"alertmanager-{attempt}.log"
            args = [
                self.binary,
                f"--config.file={self.root / 'am.yml'}",
                f"--storage.path={self.root / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
                f"--web.external-url={self.url}",
            ]
            self.process = spawn(args, clean_environ({}), self.root, log)
            if wait_ready(self.process, self.url + "/-/ready"):
                return
            output = log.read_text(errors="replace")
            self.stop()
            if "address already in use" not in output.lower():
                raise AssertionError(f"alertmanager exited before it was ready:\n{output}")
            self.port = free_port()
        raise AssertionError("alertmanager found no free port in 3 attempts")

    def stop(self) -> None:
        process, self.process = self.process, None
        stop(process)

    def push(self, alerts: list[dict[str, Any]]) -> None:
        """POST /api/v2/alerts, as Prometheus does."""
        response = httpx.post(self.url + "/api/v2/alerts", json=alerts, timeout=HTTP_TIMEOUT)
        assert response.status_code == 200, response.text

    def fingerprints(self) -> dict[tuple[str, str], str]:
        """Alertmanager's own fingerprint of each active alert, by (alertname, instance)."""
        response = httpx.get(self.url + "/api/v2/alerts", timeout=HTTP_TIMEOUT)
        assert response.status_code == 200, response.text
        return {
            (a["labels"]["alertname"], a["labels"]["instance"]): a["fingerprint"]
            for a in response.json()
        }
