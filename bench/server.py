"""Run `warroom serve` as a child process: time its start, read its memory and CPU."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

POLL_SECONDS = 0.01
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """A running `warroom serve` and how long it took to answer /readyz."""

    process: subprocess.Popen[bytes]
    base_url: str
    ready_seconds: float
    log_path: Path


def warroom_command() -> str:
    """The `warroom` console script next to this Python, else the one on PATH."""
    beside = Path(sys.executable).parent / "warroom"
    found = str(beside) if beside.exists() else shutil.which("warroom")
    if not found:
        raise RuntimeError("no `warroom` command: run `make deps` (or pip install -e .)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(url: str, var_dir: Path, *, workers: int | None = None) -> Server:
    """Spawn `warroom serve` and wait until /readyz answers 200 (polling every 10 ms)."""
    port = free_port()
    env = os.environ | {
        "WARROOM_DATABASE_URL": url,
        "WARROOM_VAR_DIR": str(var_dir),
        "WARROOM_HOST": "127.0.0.1",
        "WARROOM_PORT": str(port),
        "WARROOM_BASE_URL": f"http://127.0.0.1:{port}",
    }
    if workers:
        env["WARROOM_WORKERS"] = str(workers)
    base_url = f"http://127.0.0.1:{port}"
    log_path = var_dir / f"serve-{port}.log"
    command = [warroom_command(), "serve"]
    with httpx.Client(base_url=base_url, timeout=1.0) as poller, log_path.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        server = Server(process, base_url, 0.0, log_path)
        try:
            server.ready_seconds = _wait_ready(server, poller, started)
        except BaseException:
            stop(server)
            raise
    return server


def _wait_ready(server: Server, poller: httpx.Client, started: float) -> float:
    while time.perf_counter() - started < START_TIMEOUT:
        if server.process.poll() is not None:
            raise RuntimeError(f"warroom serve exited early:\n{log_tail(server)}")
        try:
            if poller.get("/readyz").status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"warroom serve not ready after {START_TIMEOUT:.0f} s:\n{log_tail(server)}")


def stop(server: Server) -> None:
    """SIGTERM the server (a graceful uvicorn shutdown), SIGKILL its group if it hangs."""
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group this script started
            process.wait(STOP_TIMEOUT)


@contextmanager
def running(url: str, var_dir: Path, *, workers: int | None = None) -> Iterator[Server]:
    """A started server that is always stopped afterwards."""
    server = start(url, var_dir, workers=workers)
    try:
        yield server
    finally:
        stop(server)


def log_tail(server: Server, lines: int = 30) -> str:
    try:
        return "\n".join(server.log_path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn workers when WARROOM_WORKERS > 1)."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            pids.extend(process_tree(int(child)))
    return pids


def _status_kb(pid: int, field: str, file: str = "status") -> int:
    try:
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass(frozen=True)
class Memory:
    """Resident memory in MB, summed over the server's processes."""

    rss_mb: float
    peak_mb: float
    pss_mb: float  # shared pages split between the processes: the fair sum for workers
    processes: int


def memory(pid: int) -> Memory:
    """VmRSS now, VmHWM (the peak) and Pss of the server and its children."""
    pids = process_tree(pid)
    rss = sum(_status_kb(p, "VmRSS") for p in pids)
    peak = sum(_status_kb(p, "VmHWM") for p in pids)
    pss = sum(_status_kb(p, "Pss", "smaps_rollup") for p in pids)
    return Memory(rss_mb=rss / 1024, peak_mb=peak / 1024, pss_mb=pss / 1024, processes=len(pids))


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time used so far by the server and its children."""
    total = 0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / CLOCK_TICKS


def machine_cpu_seconds() -> float:
    """Busy CPU time of the whole machine so far (all CPUs, from /proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(f) for f in fields]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / CLOCK_TICKS
