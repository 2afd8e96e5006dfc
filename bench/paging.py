"""Paging benchmark: alert to email, timer lateness and idle CPU, on SQLite and PostgreSQL.

(a) Alert to email. `warroom serve` (with its in-process worker) on a fresh
    database set up through the service layer: @pager has an email contact,
    service 'paged' has a one-level policy paging @pager, service 'quiet' none.
    PagerDuty v2 integrations are made through the API. A separate process
    (bench/paging_load.py) sends RATE alerts/s to 'quiet' (they join its one
    open incident and page nobody) while probes POST a trigger to 'paged' and
    wait for the page email at a real SMTP server (aiosmtpd); each probe then
    resolves its incident so the next one opens a new incident and page.
    Printed: POST-to-email-accepted p50/p99/max (target p99 <= 1 s).
(b) Timers. See bench/paging_timers.py: TIMERS escalation steps pending, one
    `warroom worker`; its CPU while idle over IDLE s from /proc (target < 5% of
    a core), then firing lateness p50/p99 as the steps fall due over WINDOW s
    (target p99 <= 1 s), and the firing rate reached.

Prints figures only; the exit status is 0 unless a step could not run.

    .venv/bin/python bench/paging.py                 # both backends
    .venv/bin/python bench/paging.py --quick --backend sqlite
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench import paging_setup as setup
from bench import paging_timers
from bench import server as server_mod

BACKENDS = ("sqlite", "postgresql")
LOAD_SCRIPT = Path(__file__).resolve().parent / "paging_load.py"
EMAIL_TIMEOUT = 15.0  # seconds a probe waits for its email before counting as lost


@dataclass
class LatencyResult:
    backend: str
    latencies_ms: list[float] = field(default_factory=list)
    post_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    background: dict[str, Any] = field(default_factory=dict)
    server_cpu_percent: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "probes": len(self.latencies_ms),
            "p50_ms": round(setup.percentile(self.latencies_ms, 50), 1),
            "p99_ms": round(setup.percentile(self.latencies_ms, 99), 1),
            "max_ms": round(max(self.latencies_ms, default=float("nan")), 1),
            "post_p50_ms": round(setup.percentile(self.post_ms, 50), 1),
            "failures": self.failures,
            "background": self.background,
            "server_cpu_percent_of_a_core": round(self.server_cpu_percent, 1),
            "latencies_ms": [round(v, 1) for v in self.latencies_ms],
        }


def _trigger(key: str, n: int) -> dict[str, Any]:
    return {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": f"probe-{n}",
        "payload": {"summary": f"Probe {n}: checkout down", "source": "bench", "severity": "error"},
    }


def _probe(client: httpx.Client, box: setup.Mailbox, key: str, n: int, out: LatencyResult) -> None:
    """POST one trigger, wait for its page email, then resolve the incident it opened."""
    started = time.time()
    answer = client.post("/v2/enqueue", json=_trigger(key, n))
    posted = time.time()
    if answer.status_code != 202:
        out.failures.append(f"probe {n}: POST answered {answer.status_code}")
        return
    found = box.wait_for(f"Probe {n}:", EMAIL_TIMEOUT)
    if found is None:
        out.failures.append(f"probe {n}: no email after {EMAIL_TIMEOUT:.0f} s")
        return
    subject, arrived = found
    out.latencies_ms.append((arrived - started) * 1000)
    out.post_ms.append((posted - started) * 1000)
    ref = next(word.rstrip(":") for word in subject.split() if word.startswith("INC-"))
    client.post(f"/api/v1/incidents/{ref}/resolve").raise_for_status()


def latency(backend: str, workdir: Path, *, probes: int, every: float, rate: int) -> LatencyResult:
    out = LatencyResult(backend)
    with setup.database(backend, workdir) as sessions:
        token = setup.organise(sessions, contact=True, timeout=timedelta(hours=1))
        url = setup.url_of(sessions)
        sessions.engine.dispose()
        with setup.smtp_server() as (smtp_url, box):
            env = setup.environ(url, workdir / "var", smtp_url=smtp_url)
            with setup.serving(env, workdir) as (served, base):
                paged = setup.create_integration(base, token, "paged", "bench-probe")
                quiet = setup.create_integration(base, token, "quiet", "bench-background")
                seconds = probes * every + 30
                load_log = workdir / "load.log"
                command = [sys.executable, str(LOAD_SCRIPT), base, quiet, str(rate), str(seconds)]
                with setup.child(command, setup.environ(url, workdir / "var"), load_log) as load:
                    time.sleep(2.0)  # the background reaches its rate
                    cpu0, t0 = server_mod.cpu_seconds(served.pid), time.monotonic()
                    headers = {"Authorization": f"Bearer {token}"}
                    with httpx.Client(base_url=base, headers=headers, timeout=15.0) as client:
                        next_at = time.monotonic()
                        for n in range(probes):
                            _probe(client, box, paged, n, out)
                            next_at += every
                            time.sleep(max(0.0, next_at - time.monotonic()))
                    busy = server_mod.cpu_seconds(served.pid) - cpu0
                    out.server_cpu_percent = 100 * busy / (time.monotonic() - t0)
                    load.process.send_signal(signal.SIGINT)
                    load.process.wait(30)
                lines = load_log.read_text().strip().splitlines()
                out.background = json.loads(lines[-1]) if lines else {}
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer probes and timers")
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    parser.add_argument("--probes", type=int, default=None, help="alert-to-email probes")
    parser.add_argument("--probe-every", type=float, default=0.5, help="seconds between probes")
    parser.add_argument("--rate", type=int, default=200, help="background alerts/s")
    parser.add_argument("--timers", type=int, default=None, help="pending escalation steps")
    parser.add_argument("--window", type=float, default=None, help="seconds they fall due over")
    parser.add_argument("--idle", type=float, default=None, help="seconds of idle CPU sampling")
    parser.add_argument("--json-out", type=Path, default=None)
    return parser.parse_args(argv)


def _print_latency(result: LatencyResult) -> None:
    d = result.as_dict()
    bg = d["background"]
    print(
        f"  (a) alert POST -> email accepted, {d['probes']} probes: p50 {d['p50_ms']:.0f} ms, "
        f"p99 {d['p99_ms']:.0f} ms, max {d['max_ms']:.0f} ms (target p99 <= 1000 ms); "
        f"POST alone p50 {d['post_p50_ms']:.0f} ms"
    )
    print(
        f"      background: sent {bg.get('sent_rate', 0)} alerts/s, answered "
        f"{bg.get('rate', 0)}/s until drained ({bg.get('statuses')}, "
        f"errors {bg.get('errors')}); server CPU {d['server_cpu_percent_of_a_core']:.0f}% "
        "of a core"
    )
    for failure in d["failures"][:5]:
        print(f"      ! {failure}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    probes = args.probes or (20 if args.quick else 100)
    timers = args.timers or (2000 if args.quick else 10_000)
    window = args.window or (20.0 if args.quick else 60.0)
    idle = args.idle or (5.0 if args.quick else 10.0)
    print(
        f"paging bench: {probes} probes under {args.rate} alerts/s; {timers} timers due over "
        f"{window:.0f} s, idle CPU over {idle:.0f} s"
    )
    results: dict[str, Any] = {}
    status = 0
    with tempfile.TemporaryDirectory(prefix="warroom-paging-") as tmp:
        for backend in backends:
            print(f"{backend}:", flush=True)
            try:
                lat = latency(
                    backend,
                    Path(tmp) / f"{backend}-latency",
                    probes=probes,
                    every=args.probe_every,
                    rate=args.rate,
                )
                _print_latency(lat)
                results[f"{backend}_latency"] = lat.as_dict()
            except Exception:
                traceback.print_exc()
                status = 1
            try:
                tim = paging_timers.run(
                    backend,
                    Path(tmp) / f"{backend}-timers",
                    timers=timers,
                    window=window,
                    idle=idle,
                )
                paging_timers.print_result(tim)
                results[f"{backend}_timers"] = tim.as_dict()
            except Exception:
                traceback.print_exc()
                status = 1
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
