"""Drive load with Debian's wrk and the Lua scripts in bench/ingest_lua/.

Every script ends with common.lua's ``done()``, which prints one ``WRKJSON {...}``
line: requests, duration, socket errors, non-2xx answers and latency percentiles.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

LUA_DIR = Path(__file__).resolve().parent / "ingest_lua"
WRK = "/usr/bin/wrk"
MARK = "WRKJSON "
STOP_TIMEOUT = 15.0


@dataclass(frozen=True)
class Load:
    """What to send: a Lua script, its environment and how many alerts each request carries."""

    script: str
    env: dict[str, str]
    alerts_per_request: int = 1
    connections: int = 32


@dataclass(frozen=True)
class WrkResult:
    """One wrk run, as its Lua ``done()`` reported it."""

    requests: int
    seconds: float
    alerts_per_request: int
    non_2xx: int  # wrk's "Non-2xx or 3xx responses" (status > 399)
    socket_errors: int  # connect, read, write and timeout errors together
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_pct: float = math.nan  # of one core, the server's processes (set by the caller)
    machine_cpu_pct: float = math.nan  # of one core, everything (wrk, the database, others)
    wrk_cpu_pct: float = math.nan  # of one core, wrk itself

    @property
    def other_cpu_pct(self) -> float:
        """CPU used by neither the server nor wrk: other work on the machine (noise)."""
        return self.machine_cpu_pct - self.server_cpu_pct - self.wrk_cpu_pct

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def alerts_per_s(self) -> float:
        return self.rps * self.alerts_per_request

    @property
    def failures(self) -> int:
        return self.non_2xx + self.socket_errors

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"rps": self.rps, "alerts_per_s": self.alerts_per_s}


def wrk_command() -> str:
    found = WRK if Path(WRK).exists() else shutil.which("wrk")
    if not found:
        raise RuntimeError("no wrk: apt-get install wrk")
    return found


def _command(url: str, load: Load, seconds: float) -> list[str]:
    return [
        wrk_command(),
        "-t1",  # one wrk thread: more would compete with the server for the 2 cores
        f"-c{load.connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA_DIR / load.script),
        url,
    ]


def start(url: str, load: Load, seconds: float) -> subprocess.Popen[str]:
    """Start wrk in the background (stop it early with :func:`stop`)."""
    return subprocess.Popen(
        _command(url, load, seconds),
        cwd=LUA_DIR,  # so that `require "common"` finds common.lua
        env=os.environ | load.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen[str], load: Load, *, interrupt: bool = False) -> WrkResult:
    """Wait for wrk (after SIGINT if ``interrupt``: wrk then stops and reports)."""
    if interrupt and process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=STOP_TIMEOUT if interrupt else None)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return parse(output, load.alerts_per_request)


def kill(process: subprocess.Popen[str]) -> None:
    """Stop wrk without waiting for its report (cleanup after an error)."""
    if process.poll() is None:
        process.kill()
    process.communicate()


def run(url: str, load: Load, seconds: float) -> WrkResult:
    """Run wrk for ``seconds`` and return what it measured."""
    return finish(start(url, load, seconds), load)


def parse(output: str, alerts_per_request: int) -> WrkResult:
    line = next((x for x in output.splitlines() if x.startswith(MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{output[-2000:]}")
    raw = json.loads(line[len(MARK) :])
    return WrkResult(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        alerts_per_request=alerts_per_request,
        non_2xx=raw["status"],
        socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
    )
