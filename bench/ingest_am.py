"""Debian's Prometheus Alertmanager as the yardstick, and a webhook sink for it.

Two configurations: ``accept`` routes every alert to a receiver with no
integrations (it accepts and sends nothing: the throughput shapes), ``webhook``
notifies a local do-nothing sink, one notification per alert (the memory and
idle CPU comparison).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import server as server_mod

AM = "/usr/bin/prometheus-alertmanager"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
METRICS_TIMEOUT = 60.0  # a busy Alertmanager answers /metrics slowly
SINK = Path(__file__).resolve().parent / "ingest_sink.py"

ACCEPT_CONFIG = """\
route:
  receiver: accept
receivers:
  - name: accept
"""

# Every alert its own group (its labels are all distinct by instance), so each
# one is notified, as a paging tool would.
WEBHOOK_CONFIG = """\
route:
  receiver: webhook
  group_by: [alertname, instance]
  group_wait: 1s
  group_interval: 10s
  repeat_interval: 4h
receivers:
  - name: webhook
    webhook_configs:
      - url: http://127.0.0.1:{port}/alerts
        send_resolved: true
"""


@dataclass
class Alertmanager:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path


def version() -> str:
    done = subprocess.run([AM, "--version"], capture_output=True, text=True, check=False)
    first = (done.stdout or done.stderr).splitlines()
    return first[0] if first else "unknown"


@contextmanager
def running(workdir: Path, config: str) -> Iterator[Alertmanager]:
    """A fresh Alertmanager (own storage, no cluster) that is always stopped afterwards."""
    port = server_mod.free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "alertmanager.yml"
    config_path.write_text(config)
    command = [
        AM,
        f"--config.file={config_path}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
        "--log.level=warn",
    ]
    log_path = workdir / "alertmanager.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    am = Alertmanager(process, f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_ready(am)
        yield am
    finally:
        _stop(process)


def _wait_ready(am: Alertmanager) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    with httpx.Client(base_url=am.base_url, timeout=1.0) as client:
        while time.monotonic() < deadline:
            if am.process.poll() is not None:
                raise RuntimeError(f"alertmanager exited early:\n{_tail(am.log_path)}")
            try:
                if client.get("/-/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    raise RuntimeError(f"alertmanager not ready after {START_TIMEOUT:.0f} s")


def _stop(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def alert_counts(am: Alertmanager) -> dict[str, int]:
    """Alerts held, by state, from Alertmanager's own metrics."""
    text = httpx.get(f"{am.base_url}/metrics", timeout=METRICS_TIMEOUT).text
    found = re.findall(r'^alertmanager_alerts\{state="(\w+)"\} (\S+)$', text, re.MULTILINE)
    return {state: int(float(value)) for state, value in found}


def notifications(am: Alertmanager) -> int:
    """Webhook notifications Alertmanager has sent (successful or not)."""
    text = httpx.get(f"{am.base_url}/metrics", timeout=METRICS_TIMEOUT).text
    pattern = r'^alertmanager_notifications_total\{integration="webhook"\} (\S+)$'
    match = re.search(pattern, text, re.MULTILINE)
    return int(float(match.group(1))) if match else 0


@dataclass
class Sink:
    process: subprocess.Popen[str]
    port: int


@contextmanager
def sink() -> Iterator[Sink]:
    """The do-nothing webhook sink (bench/ingest_sink.py) in its own process."""
    port = server_mod.free_port()
    process = subprocess.Popen(
        [sys.executable, str(SINK), str(port)],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("the webhook sink did not start")
        yield Sink(process, port)
    finally:
        _stop(process)
