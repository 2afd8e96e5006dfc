"""Debian's wrk against one URL with fixed headers (-H), summarised by bench/statuspage_lua/.

wrk sends its one prebuilt request (no Lua request() callback, so wrk stays as
fast as it can be); summary.lua's done() prints requests, bytes, errors and
latency percentiles as one ``WRKJSON`` line. statuses.lua also counts every
status code (``STATUSJSON``), at a cost in wrk's own speed.
"""

from __future__ import annotations

import json
import math
import resource
import shutil
import signal
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

LUA_DIR = Path(__file__).resolve().parent / "statuspage_lua"
WRK = "/usr/bin/wrk"
STOP_TIMEOUT = 15.0


@dataclass(frozen=True)
class Shape:
    """How wrk loads: threads, connections, seconds."""

    threads: int = 2
    connections: int = 64
    seconds: float = 10.0
    statuses: bool = False  # count every status code (slower wrk)


@dataclass
class WrkResult:
    """One wrk run, with the CPU the server, wrk and everything else used meanwhile."""

    requests: int
    seconds: float
    bytes: int
    non_2xx_3xx: int  # wrk's errors.status: answers with a status above 399
    socket_errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int] = field(default_factory=dict)
    server_cpu_pct: float = math.nan  # of one core
    wrk_cpu_pct: float = math.nan
    other_cpu_pct: float = math.nan  # neither server nor wrk: noise on the machine

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def bytes_per_response(self) -> float:
        """Headers and body as read by wrk, on average."""
        return self.bytes / self.requests if self.requests else 0.0

    @property
    def failures(self) -> int:
        return self.non_2xx_3xx + self.socket_errors

    def as_dict(self) -> dict[str, Any]:
        extra = {"rps": self.rps, "bytes_per_response": self.bytes_per_response}
        return asdict(self) | extra


def wrk_command() -> str | None:
    return WRK if Path(WRK).exists() else shutil.which("wrk")


def command(url: str, headers: dict[str, str], shape: Shape, seconds: float) -> list[str]:
    wrk = wrk_command()
    if wrk is None:
        raise RuntimeError("no wrk: apt-get install wrk")
    script = "statuses.lua" if shape.statuses else "summary.lua"
    args = [wrk, f"-t{shape.threads}", f"-c{shape.connections}", f"-d{max(1, round(seconds))}s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    return [*args, "--timeout", "10s", "--latency", "-s", str(LUA_DIR / script), url]


def start(url: str, headers: dict[str, str], shape: Shape, seconds: float) -> subprocess.Popen[str]:
    """wrk in the background; :func:`finish` waits for its report."""
    return subprocess.Popen(
        command(url, headers, shape, seconds),
        cwd=LUA_DIR,  # so that `require "summary"` finds summary.lua
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen[str], *, interrupt: bool = False) -> WrkResult:
    if interrupt and process.poll() is None:
        process.send_signal(signal.SIGINT)  # wrk stops and still reports
    try:
        output, _ = process.communicate(timeout=STOP_TIMEOUT if interrupt else None)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return parse(output)


def kill(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
    process.communicate()


def run(url: str, headers: dict[str, str], shape: Shape, seconds: float) -> WrkResult:
    return finish(start(url, headers, shape, seconds))


def _marked(output: str, mark: str) -> dict[str, Any] | None:
    line = next((x for x in output.splitlines() if x.startswith(mark)), None)
    return None if line is None else dict(json.loads(line[len(mark) :]))


def parse(output: str) -> WrkResult:
    raw = _marked(output, "WRKJSON ")
    if raw is None:
        raise RuntimeError(f"wrk printed no summary:\n{output[-2000:]}")
    return WrkResult(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        bytes=raw["bytes"],
        non_2xx_3xx=raw["status"],
        socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        statuses={k: int(v) for k, v in (_marked(output, "STATUSJSON ") or {}).items()},
    )


def children_cpu() -> float:
    """CPU seconds of this process's waited-for children (wrk, once it has ended)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def version() -> str:
    wrk = wrk_command()
    if wrk is None:
        return "missing"
    done = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    return (done.stdout + done.stderr).strip().splitlines()[0] if done.stdout + done.stderr else ""
