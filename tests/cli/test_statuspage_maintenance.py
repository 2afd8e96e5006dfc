"""`warroom statuspage maintenance` against one real `warroom serve` (demo loaded) per module.

The server's organisation zone is Europe/Berlin and the CLI runs with TZ=UTC,
so a bare time typed on the command line (Berlin) and the time printed back
(UTC) differ by the Berlin offset: that is what proves where the zone comes
from. The server runs its worker in-process on the real clock, which is how a
maintenance started now gets completed at its end here. As in
test_statuspage_commands.py, the server runs on SQLite only: the HTTP suite
covers both databases, and the CLI does not depend on either.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.harness import Deployment, assert_ok, assert_refused, new_deployment

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("cli-statuspage-maintenance")]

ZONE = ZoneInfo("Europe/Berlin")
MAINTENANCE = ("statuspage", "maintenance")


@dataclass
class ZonedDeployment(Deployment):
    """A deployment whose organisation lives in Europe/Berlin."""

    def server_env(self, **extra: str) -> dict[str, str]:
        return super().server_env(WARROOM_TIME_ZONE=ZONE.key, **extra)


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ZonedDeployment]:
    root = tmp_path_factory.mktemp("maintenance-cli")
    with new_deployment(request.config, "sqlite", root) as plain:
        zoned = ZonedDeployment(
            root=plain.root, backend=plain.backend, database_url=plain.database_url, port=plain.port
        )
        try:
            zoned.prepare()
            zoned.start()
            yield zoned
        finally:
            zoned.stop()


def cli(server: Deployment, *args: str, token: str | None = None) -> Any:
    return server.cli(*MAINTENANCE, *args, token=token, TZ="UTC")


def as_json(server: Deployment, *args: str) -> Any:
    return assert_ok(cli(server, *args, "--json")).json()


def components(server: Deployment) -> dict[str, str]:
    response = server.api("GET", "/api/v1/statuspage/components")
    assert response.is_success, response.text
    return {c["name"]: c["status"] for c in response.json()}


def wait_for(what: str, check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def upcoming_on_page(server: Deployment, maintenance_id: str) -> bool:
    """Whether the public page lists it as upcoming (its cache refreshes within about 1 s)."""
    doc = httpx.get(f"{server.url}/status/api/v2/scheduled-maintenances/upcoming.json").json()
    return maintenance_id in [m["id"] for m in doc["scheduled_maintenances"]]


def night(days: int) -> datetime:
    """02:00 (naive) ``days`` from today: a time in the future, in whatever zone."""
    return (datetime.now(UTC) + timedelta(days=days)).replace(
        hour=2, minute=0, second=0, microsecond=0, tzinfo=None
    )


def test_help_says_whose_zone_a_bare_time_is_in(server: Deployment) -> None:
    shown = assert_ok(cli(server, "schedule", "--help")).out
    assert "organisation's time zone" in " ".join(shown.split())


def test_a_bare_time_is_read_in_the_organisation_zone_and_shown_back(
    server: Deployment,
) -> None:
    starts = night(10)
    args = ["schedule", "Storage migration", "--start", starts.isoformat(), "--end"]
    args += [(starts + timedelta(hours=2)).isoformat(), "--component", "Checkout"]
    args += ["--component", "Payments", "--message", "Orders may be slow for a few minutes."]
    outcome = assert_ok(cli(server, *args))
    in_utc = starts.replace(tzinfo=ZONE).astimezone(UTC)
    match = re.fullmatch(
        r"maintenance ([a-z0-9]{12}) scheduled: Storage migration, "
        rf"{in_utc:%Y-%m-%d %H:%M} UTC to {in_utc + timedelta(hours=2):%Y-%m-%d %H:%M} UTC "
        rf"\(Checkout, Payments\) -> {re.escape(server.url)}/status/incidents/([a-z0-9]{{12}})\n",
        outcome.out,
    )
    assert match, outcome
    assert match.group(1) == match.group(2)
    made = as_json(server, "show", match.group(1))
    assert datetime.fromisoformat(made["scheduled_for"]) == in_utc
    assert [u["status"] for u in made["updates"]] == ["scheduled"]
    assert components(server)["Checkout"] == "operational"
    assert wait_for("the page to list it", lambda: upcoming_on_page(server, match.group(1)))
    listed = assert_ok(cli(server, "ls", "--status", "scheduled")).out
    [row] = [line for line in listed.splitlines() if match.group(1) in line]
    assert row.split()[1] == "scheduled"
    assert "Storage migration" in row


def test_a_maintenance_run_by_hand(server: Deployment) -> None:
    starts = night(12)
    made = as_json(
        server,
        "schedule",
        "Network switch swap",
        "--start",
        starts.replace(tzinfo=ZONE).isoformat(),
        "--end",
        (starts + timedelta(hours=1)).replace(tzinfo=ZONE).isoformat(),
        "--component",
        "Checkout",
        "--message",
        "The API may drop connections briefly.",
    )
    update = ("update", made["id"], "--status", "scheduled", "--message", "API only, in fact.")
    rescoped = assert_ok(cli(server, *update, "--component", "Public API"))
    assert "(Public API) ->" in rescoped.out
    started = assert_ok(
        cli(server, "update", made["id"], "--status", "in_progress", "--message", "Starting now.")
    )
    assert started.out.startswith(f"maintenance {made['id']} in progress: Network switch swap")
    assert "  Public API: under maintenance\n" in started.out
    assert components(server)["Public API"] == "under_maintenance"
    verifying = as_json(
        server, "update", made["id"], "--status", "verifying", "--message", "Checking."
    )
    assert verifying["status"] == "verifying"
    done = assert_ok(
        cli(server, "update", made["id"], "--status", "completed", "--message", "All done.")
    )
    assert "  Public API: operational\n" in done.out
    assert components(server)["Public API"] == "operational"
    shown = assert_ok(cli(server, "show", made["id"])).out.splitlines()
    assert [line.split("  ")[2].split(" - ")[0] for line in shown[1:]] == [
        "Completed",
        "Verifying",
        "In progress",
        "Scheduled",
        "Scheduled",
    ]


def test_started_now_the_worker_completes_it_at_its_end(server: Deployment) -> None:
    ends = datetime.now(UTC) + timedelta(seconds=4)
    made = as_json(
        server,
        "schedule",
        "Cache flush",
        "--start",
        "now",
        "--end",
        ends.isoformat(),
        "--component",
        "Search",
        "--message",
        "Search may be slow for a moment.",
    )
    assert made["status"] == "in_progress"
    assert components(server)["Search"] == "under_maintenance"

    def completed() -> bool:
        return bool(as_json(server, "show", made["id"])["status"] == "completed")

    wait_for("the worker to complete it", completed)
    assert components(server)["Search"] == "operational"


def test_the_demo_announces_a_maintenance(server: Deployment) -> None:
    listed = as_json(server, "ls")
    [demo] = [m for m in listed if m["title"] == "Search index upgrade"]
    assert (demo["status"], demo["components"]) == ("scheduled", ["Search"])
    assert datetime.fromisoformat(demo["scheduled_for"]) > datetime.now(UTC)


FUTURE = night(20).isoformat()
LATER = night(21).isoformat()
PAST = night(-2).isoformat()


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("--start", "tomorrow", "--end", LATER, "--component", "Search"), 2, "--start"),
        (("--start", FUTURE, "--end", "soon", "--component", "Search"), 2, "--end"),
        (
            ("--start", FUTURE, "--end", LATER, "--component", "Search", "--message", " "),
            2,
            "--message",
        ),
        (("--start", PAST, "--end", LATER, "--component", "Search"), 1, "scheduled_for"),
        (("--start", LATER, "--end", FUTURE, "--component", "Search"), 1, "scheduled_until"),
        (("--start", FUTURE, "--end", LATER, "--component", "Nope"), 1, "Nope"),
        (("--start", FUTURE, "--end", LATER, "--component", "Shop"), 1, "Shop"),
    ],
)
def test_bad_schedules_are_refused_with_one_line(
    server: Deployment, args: tuple[str, ...], code: int, fragment: str
) -> None:
    before = as_json(server, "ls")
    with_message = ("--message", "M", *args) if "--message" not in args else args
    assert_refused(cli(server, "schedule", "Bad", *with_message), code, fragment)
    assert as_json(server, "ls") == before


def test_bad_updates_are_refused_with_one_line(server: Deployment) -> None:
    made = as_json(
        server,
        "schedule",
        "Later",
        "--start",
        FUTURE,
        "--end",
        LATER,
        "--component",
        "Search",
        "--message",
        "Later on.",
    )
    update = ("update", made["id"], "--message", "M")
    assert_refused(cli(server, *update, "--status", "done"), 2, "--status")
    assert_refused(
        cli(server, "update", "INC-1", "--status", "completed", "--message", "M"), 2, "id"
    )
    assert_refused(
        cli(server, "update", "a" * 12, "--status", "completed", "--message", "M"), 1, "a" * 12
    )
    assert_refused(cli(server, *update, "--status", "verifying"), 1, "in_progress")
    assert_ok(cli(server, *update, "--status", "completed"))
    assert_refused(cli(server, *update, "--status", "in_progress"), 1, "completed")


def test_a_viewer_can_list_but_not_schedule(server: Deployment) -> None:
    erin = server.issue_token("erin")
    assert_ok(cli(server, "ls", token=erin))
    args = ("schedule", "X", "--start", FUTURE, "--end", LATER, "--component", "Search")
    assert_refused(cli(server, *args, "--message", "M", token=erin), 1, "responder")
