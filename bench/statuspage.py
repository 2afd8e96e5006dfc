"""Status page benchmark: `warroom serve --public` against nginx serving the exported copy.

In one run, on a fresh SQLite database in a temporary directory:
1. `warroom db upgrade`, `warroom demo`, then more components in groups (15 in
   all), 90 days of status history and a few resolved incidents
   (bench/statuspage_setup.py); `warroom serve --public` with WARROOM_WORKERS
   serves the page, a second `warroom serve --no-worker` takes the status post.
2. `warroom statuspage export` writes the static copy, a .gz is made beside
   each file, and Debian's nginx serves it from a config generated in the
   temporary directory (bench/statuspage_nginx.py), run as a child process.
3. Debian's wrk (-t2 -c64 -d10s unless told) loads /status/ and
   /status/api/v2/summary.json on nginx then warroom, in three variants:
   plain; `Accept-Encoding: gzip`; conditional (gzip and `If-None-Match` with
   the ETag a first request got: 304 expected). Each run follows a 1 s warm-up;
   a single request first checks the status and encoding the variant expects,
   and wrk's Lua summary counts answers above 399 and socket errors. Before
   each run the load average is printed (warned above 1.5) and the machine's
   CPU over half a second with nothing loaded here: up to --quiet-wait s are
   spent waiting for other work to stop; each run also reports the CPU used by
   neither the server nor wrk meanwhile.
4. During one more warroom run (/status/ gzip), a status post is made through
   the API and summary.json is polled on fresh connections until it shows it.
5. A table: requests/s, p99, bytes per response and server CPU for each,
   warroom/nginx beside the 0.5 target, the servers' memory, post-to-visible.

Exit status 0 whatever the figures; 2 if nginx or wrk is missing and cannot be
installed (not root), 1 if a step failed.

    .venv/bin/python bench/statuspage.py
    .venv/bin/python bench/statuspage.py --seconds 5 --workers 1 --json-out sp.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import tempfile
import time
import traceback
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NoReturn

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import server as server_mod
from bench import statuspage_nginx as nginx_mod
from bench import statuspage_probe as probe_mod
from bench import statuspage_report as report
from bench import statuspage_setup as setup
from bench import statuspage_wrk as wrk
from bench.statuspage_report import Cell, Results

PATHS = ("/status/", "/status/api/v2/summary.json")
VARIANTS = ("plain", "gzip", "conditional")
PROBE_PATH = "/status/api/v2/summary.json"
LOAD_WARNING = 1.5
QUIET_BUSY = 15.0  # % of a core the machine may use while nothing here is loaded
OTHER_CPU_WARNING = 20.0  # % of a core used by neither the server nor wrk


@dataclass(frozen=True)
class Plan:
    threads: int
    connections: int
    seconds: float
    warmup: float
    workers: int
    components: int
    statuses: bool
    quiet_wait: float


@dataclass(frozen=True)
class Target:
    """A server under load: its name, URL and the pid whose process tree is it."""

    name: str
    base_url: str
    pid: int


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--connections", type=int, default=64, help="wrk -c")
    parser.add_argument("--seconds", type=float, default=10.0, help="wrk -d, each run")
    parser.add_argument("--warmup", type=float, default=1.0, help="s of unmeasured load first")
    parser.add_argument("--workers", type=int, default=2, help="WARROOM_WORKERS of the page")
    parser.add_argument("--components", type=int, default=15, help="on the page (4 to 15)")
    parser.add_argument(
        "--statuses", action="store_true", help="count every status code (slows wrk down)"
    )
    parser.add_argument(
        "--quiet-wait", type=float, default=30.0, help="s to wait for other work before a run"
    )
    parser.add_argument("--json-out", type=Path, default=None)
    return parser.parse_args(argv)


def plan_of(args: argparse.Namespace) -> Plan:
    return Plan(
        threads=args.threads,
        connections=args.connections,
        seconds=args.seconds,
        warmup=args.warmup,
        workers=args.workers,
        components=args.components,
        statuses=args.statuses,
        quiet_wait=args.quiet_wait,
    )


def say(message: str) -> None:
    print(message, flush=True)


def busy(seconds: float = 0.5) -> float:
    """CPU the whole machine used over ``seconds``, in % of one core."""
    before = server_mod.machine_cpu_seconds()
    time.sleep(seconds)
    return (server_mod.machine_cpu_seconds() - before) / seconds * 100


def before_run(label: str, plan: Plan) -> tuple[float, float]:
    """Print the load average (warn above 1.5); wait up to --quiet-wait s for an idle machine.

    The 1-minute load average still counts the previous run's own load, so the
    machine's busy CPU over half a second, with every server here idle, says
    better whether something else is running now.
    """
    load = os.getloadavg()[0]
    deadline = time.monotonic() + plan.quiet_wait
    used = busy()
    while used > QUIET_BUSY and time.monotonic() < deadline:
        used = busy()
    notes = [f"load average {load:.2f}", f"machine busy {used:.0f}% of a core while idle here"]
    if load > LOAD_WARNING:
        notes.append(f"! load average above {LOAD_WARNING}")
    if used > QUIET_BUSY:
        notes.append(f"! other work running (waited {plan.quiet_wait:.0f} s for it to stop)")
    say(f"[{label}] " + "; ".join(notes))
    return load, used


def headers_of(target: Target, path: str, variant: str) -> dict[str, str]:
    """The request headers of a variant; the conditional one asks for the ETag first."""
    if variant == "plain":
        return {}
    gzip = {"Accept-Encoding": "gzip"}
    if variant == "gzip":
        return gzip
    etag = probe_mod.get(target.base_url, path, gzip).etag
    return gzip | {"If-None-Match": etag}


def measured(target: Target, path: str, headers: dict[str, str], plan: Plan) -> wrk.WrkResult:
    """A warm-up run (not kept), then the measured run with the CPU it took."""
    url = target.base_url + path
    shape = wrk.Shape(plan.threads, plan.connections, plan.seconds, plan.statuses)
    if plan.warmup > 0:
        wrk.run(url, headers, shape, plan.warmup)
    server0 = server_mod.cpu_seconds(target.pid)
    machine0, wrk0 = server_mod.machine_cpu_seconds(), wrk.children_cpu()
    result = wrk.run(url, headers, shape, plan.seconds)
    return _with_cpu(result, target, server0, machine0, wrk0)


def _with_cpu(
    result: wrk.WrkResult, target: Target, server0: float, machine0: float, wrk0: float
) -> wrk.WrkResult:
    seconds = result.seconds or 1.0
    server = server_mod.cpu_seconds(target.pid) - server0
    machine = server_mod.machine_cpu_seconds() - machine0
    used_by_wrk = wrk.children_cpu() - wrk0
    result.server_cpu_pct = server / seconds * 100
    result.wrk_cpu_pct = used_by_wrk / seconds * 100
    result.other_cpu_pct = (machine - server - used_by_wrk) / seconds * 100
    return result


def measure(target: Target, path: str, variant: str, plan: Plan) -> Cell:
    label = f"{target.name} {path} {variant}"
    headers = headers_of(target, path, variant)
    check = probe_mod.get(target.base_url, path, headers)
    load, used = before_run(label, plan)
    result = measured(target, path, headers, plan)
    cell = Cell(target.name, path, variant, headers, check, result, load, used)
    other = (
        f"; other CPU {result.other_cpu_pct:.0f}% of a core (noise)"
        if result.other_cpu_pct > OTHER_CPU_WARNING
        else ""
    )
    say(
        f"[{label}] {result.rps:,.0f} req/s, p99 {result.p99_ms:.1f} ms, "
        f"{result.bytes_per_response:,.0f} B/response, server CPU {result.server_cpu_pct:.0f}%, "
        f"wrk {result.wrk_cpu_pct:.0f}%{other}" + "".join(f"; ! {p}" for p in cell.problems)
    )
    return cell


def matrix(targets: list[Target], plan: Plan, results: Results) -> None:
    """Every path and variant, nginx then warroom back to back (one failing cell is noted)."""
    for path in PATHS:
        for variant in VARIANTS:
            for target in targets:
                try:
                    results.cells.append(measure(target, path, variant, plan))
                except Exception as error:
                    results.errors.append(f"{target.name} {path} {variant}: {_failed(error)}")


def probe_during_load(warroom: Target, console: str, token: str, plan: Plan) -> Results:
    """One more /status/ gzip run on warroom with a status post a third of the way in."""
    found = Results()
    before_run("warroom /status/ gzip, with a status post", plan)
    shape = wrk.Shape(plan.threads, plan.connections, plan.seconds, plan.statuses)
    gzip = {"Accept-Encoding": "gzip"}
    server0 = server_mod.cpu_seconds(warroom.pid)
    machine0, wrk0 = server_mod.machine_cpu_seconds(), wrk.children_cpu()
    process = wrk.start(warroom.base_url + "/status/", gzip, shape, plan.seconds)
    try:
        time.sleep(plan.seconds / 3)
        found.probe = probe_mod.watch(console, token, warroom.base_url, PROBE_PATH)
    except BaseException:
        wrk.kill(process)
        raise
    result = wrk.finish(process)
    found.probe_run = _with_cpu(result, warroom, server0, machine0, wrk0)
    return found


def _memory(pid: int) -> dict[str, float]:
    return {k: float(v) for k, v in asdict(server_mod.memory(pid)).items()}


def _page_facts(results: Results, page: setup.Page, exported: str, gz_files: int) -> None:
    results.page = {
        "components": page.components,
        "past_incidents": page.incidents,
        "export": exported,
        "precompressed_files": gz_files,
    }
    say(f"page: {page.components} components, {page.incidents} past incidents; {exported}")


def _sizes(results: Results) -> None:
    """Body sizes as served (plain and gzip), from each cell's checking request."""
    bodies: dict[str, dict[str, int]] = {}
    for cell in results.cells:
        if cell.variant in ("plain", "gzip"):
            bodies.setdefault(f"{cell.server} {cell.path}", {})[cell.variant] = (
                cell.check.body_bytes
            )
    results.page["body_bytes"] = bodies


@dataclass(frozen=True)
class Stage:
    """Everything serving: nginx, the public warroom, the console that takes posts."""

    nginx: Target
    warroom: Target
    console: Target
    token: str  # the demo admin's, for the console's API


def serve_all(stack: ExitStack, tmp: Path, plan: Plan, results: Results) -> Stage:
    """Database and page, both warroom servers, the export and nginx."""
    var_dir = tmp / "var"
    var_dir.mkdir()
    url = f"sqlite:///{tmp / 'statuspage.db'}"
    say(f"setting up the page on {url} ...")
    page = setup.prepare(url, var_dir, plan.components)
    public = stack.enter_context(setup.serving(url, var_dir, ["--public"], plan.workers))
    console = stack.enter_context(setup.serving(url, var_dir, ["--no-worker"], 1))
    say(f"warroom serve --public (workers={plan.workers}) ready in {public.ready_seconds:.1f} s")
    port = server_mod.free_port()
    root = tmp / "www"
    exported = setup.export(url, var_dir, root / "status", f"http://127.0.0.1:{port}/status")
    _page_facts(results, page, exported, nginx_mod.precompress(root))
    nginx = stack.enter_context(nginx_mod.running(tmp / "nginx", root, port))
    return Stage(
        Target("nginx", nginx.base_url, nginx.pid),
        Target("warroom", public.base_url, public.process.pid),
        Target("console", console.base_url, console.process.pid),
        page.token,
    )


def run_all(plan: Plan, results: Results) -> None:
    with tempfile.TemporaryDirectory(prefix="warroom-statuspage-") as name, ExitStack() as stack:
        stage = serve_all(stack, Path(name), plan, results)
        matrix([stage.nginx, stage.warroom], plan, results)
        _sizes(results)
        try:
            found = probe_during_load(stage.warroom, stage.console.base_url, stage.token, plan)
            results.probe, results.probe_run = found.probe, found.probe_run
        except Exception as error:
            results.errors.append(f"status post during load: {_failed(error)}")
        results.memory = {
            n: _memory(t.pid) for n, t in (("nginx", stage.nginx), ("warroom", stage.warroom))
        }


def _failed(error: Exception) -> str:
    """Print the whole traceback now; keep one line for the report."""
    say(traceback.format_exc())
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def _interruptible() -> None:
    """SIGTERM and SIGINT unwind, stopping every process started on the way."""

    def handler(_signum: int, _frame: Any) -> NoReturn:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def machine_facts(plan: Plan) -> dict[str, Any]:
    return {
        "cpus": len(os.sched_getaffinity(0)),
        "load_average_at_start": os.getloadavg()[0],
        "nginx": nginx_mod.version(),
        "wrk": wrk.version(),
        "python": platform.python_version(),
        "workers": plan.workers,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = plan_of(args)
    _interruptible()
    try:
        nginx_mod.ensure("nginx", nginx_mod.NGINX)
        nginx_mod.ensure("wrk", wrk.WRK)
    except nginx_mod.NotInstalled as missing:
        say(f"cannot run: {missing}")
        return 2
    results = Results(plan=asdict(plan), machine=machine_facts(plan))
    say(f"status page bench: {results.machine}; plan {plan}")
    started, status = time.perf_counter(), 0
    try:
        run_all(plan, results)
    except KeyboardInterrupt:
        say("interrupted: every process started was stopped")
        status = 130
    except Exception as error:
        results.errors.append(_failed(error))
    say("\n".join([*report.table_lines(results), *report.other_lines(results)]))
    say(f"\ntotal {time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.2f}")
    if args.json_out:
        args.json_out.write_text(json.dumps(results.as_dict(), indent=2, default=str) + "\n")
    return status or (1 if results.errors else 0)


if __name__ == "__main__":
    sys.exit(main())
