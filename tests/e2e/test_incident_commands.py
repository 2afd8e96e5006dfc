"""ack, sev, note and ls against a live server; --json prints exactly the API's JSON."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.e2e.harness import SQLITE_ONLY, Deployment, assert_ok

pytestmark = pytest.mark.e2e

IST = timezone(timedelta(hours=5, minutes=30))
IST_TZ = "IST-5:30"  # POSIX TZ for UTC+05:30, no tz database needed


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _refs(page: dict[str, Any]) -> list[str]:
    return [item["ref"] for item in page["items"]]


def _steady(data: Any) -> Any:
    """``data`` without update_status ("due in 14m" ticks over between two calls)."""
    if isinstance(data, dict):
        return {k: _steady(v) for k, v in data.items() if k != "update_status"}
    if isinstance(data, list):
        return [_steady(v) for v in data]
    return data


def test_ls_ack_sev_and_notes(warroom: Deployment) -> None:
    declared = assert_ok(warroom.cli("declare", "Checkout failures", "--sev", "1"))
    assert declared.out.startswith("declared INC-3 SEV-1")

    # Newest first; the demo's two incidents are resolved, so only INC-3 is open.
    listing = assert_ok(warroom.cli("ls")).out
    rows = [line.split() for line in listing.splitlines() if line.strip().startswith("INC-")]
    assert [row[0] for row in rows] == ["INC-3", "INC-2", "INC-1"]
    assert rows[0][1:3] == ["SEV-1", "triage"]
    opened = assert_ok(warroom.cli("ls", "--open")).out
    assert "INC-3" in opened
    assert "INC-2" not in opened
    assert "INC-1" not in opened
    sev1 = assert_ok(warroom.cli("ls", "--sev", "1", "--json")).json()
    assert _refs(sev1) == ["INC-3"]
    api_page = warroom.api("GET", "/api/v1/incidents", params={"severity": "1"}).json()
    assert _steady(sev1) == _steady(api_page)

    acked = assert_ok(warroom.cli("ack", "INC-3"))
    assert acked.out.strip() == "INC-3 acknowledged by @alice"
    changed = assert_ok(warroom.cli("sev", "INC-3", "2"))
    assert changed.out.strip() == "INC-3 is now SEV-2"
    assert _refs(assert_ok(warroom.cli("ls", "--sev", "1", "--json")).json()) == []
    sev2 = assert_ok(warroom.cli("ls", "--sev", "SEV-2", "--json")).json()
    assert _refs(sev2) == ["INC-3", "INC-1"]

    noted = assert_ok(warroom.cli("note", "INC-3", "Rolled back deploy 4711"))
    assert noted.out.startswith("noted on INC-3 (entry ")
    declared_at = _at(sev2["items"][0]["declared_at"])
    first_errors = (declared_at - timedelta(minutes=10)).replace(microsecond=0)
    assert_ok(
        warroom.cli("note", "INC-3", "First 500s in the logs", "--at", first_errors.isoformat())
    )
    # A time without a zone is the terminal's local time (here UTC+05:30).
    paged = (declared_at - timedelta(minutes=5)).astimezone(IST).replace(microsecond=0)
    naive = paged.replace(tzinfo=None).isoformat()
    assert_ok(warroom.cli("note", "INC-3", "Payments on-call paged", "--at", naive, TZ=IST_TZ))

    data = assert_ok(warroom.cli("show", "INC-3", "--timeline", "--json")).json()
    assert data["severity"] == "SEV-2"
    assert data["acknowledged_by"] == "alice"
    assert _at(data["acknowledged_at"]) >= declared_at
    timeline = data["timeline"]
    # Backdated notes take their place in event order, before the declaration.
    assert [(e["kind"], e["text"]) for e in timeline[:3]] == [
        ("note", "First 500s in the logs"),
        ("note", "Payments on-call paged"),
        ("declared", "Declared SEV-1: Checkout failures"),
    ]
    assert _at(timeline[0]["at"]) == first_errors
    assert _at(timeline[1]["at"]) == paged
    assert all(_at(e["recorded_at"]) >= declared_at for e in timeline[:2])
    texts = [e["text"] for e in timeline]
    assert "Acknowledged by @alice" in texts
    assert "Severity: SEV-1 → SEV-2" in texts
    assert texts[-1] == "Rolled back deploy 4711"

    assert_ok(warroom.cli("resolve", "INC-3"))
    assert assert_ok(warroom.cli("ls", "--open")).out.strip() == "no incidents"


def test_json_output_is_the_api_json(shared_warroom: Deployment) -> None:
    server = shared_warroom
    created = assert_ok(server.cli("declare", "Search slow", "--sev", "3", "--json")).json()
    ref = created["ref"]
    path = f"/api/v1/incidents/{ref}"
    assert _steady(created) == _steady(server.api("GET", path).json())

    steps = [
        ("ack", ref),
        ("assign", ref, "--commander", "bob", "--comms", "carol"),
        ("phase", ref, "investigating", "--note", "looking at the indexer"),
        ("sev", ref, "2", "--reason", "more users affected"),
    ]
    for step in steps:
        printed = assert_ok(server.cli(*step, "--json")).json()
        assert _steady(printed) == _steady(server.api("GET", path).json()), step

    note = assert_ok(server.cli("note", ref, "Indexer restarted", "--json")).json()
    timeline = server.api("GET", f"{path}/timeline").json()
    assert note == timeline[-1]
    update = assert_ok(server.cli("update", ref, "--theory", "stuck queue", "--json")).json()
    assert update == server.api("GET", f"{path}/updates").json()[-1]

    # Once resolved nothing ticks any more: the JSON is identical, byte for byte.
    resolved = assert_ok(server.cli("resolve", ref, "--json")).json()
    assert resolved == server.api("GET", path).json()
    assert resolved["phase"] == "resolved"
    shown = assert_ok(server.cli("show", ref, "--timeline", "--json")).json()
    assert shown == server.api("GET", path, params={"timeline": "true"}).json()
    listed = assert_ok(server.cli("ls", "--sev", "2", "--json")).json()
    assert _steady(listed) == _steady(
        server.api("GET", "/api/v1/incidents", params={"severity": "2"}).json()
    )
    assert ref in _refs(listed)


@SQLITE_ONLY
def test_ls_pages_with_cursor(shared_warroom: Deployment) -> None:
    everything = _refs(shared_warroom.api("GET", "/api/v1/incidents").json())
    assert len(everything) >= 2
    first = assert_ok(shared_warroom.cli("ls", "--limit", "1")).out
    assert everything[0] in first
    assert everything[1] not in first
    hint = [line for line in first.splitlines() if line.startswith("more: warroom ls --cursor ")]
    assert len(hint) == 1
    cursor = hint[0].split()[-1]
    page = assert_ok(shared_warroom.cli("ls", "--limit", "1", "--cursor", cursor, "--json")).json()
    assert _refs(page) == everything[1:2]


def test_declare_options_filters_and_role_warning(shared_warroom: Deployment) -> None:
    server = shared_warroom
    drill = assert_ok(
        server.cli(
            "declare",
            "Game day: search down",
            "--sev",
            "1",
            "--service",
            "search",
            "--commander",
            "bob",
            "--impact",
            "Search returns nothing",
            "--drill",
            "--json",
        )
    ).json()
    ref = drill["ref"]
    assert drill["drill"] is True
    assert drill["services"] == ["search"]
    assert drill["roles"]["commander"]["handle"] == "bob"
    assert drill["customer_impact"] == "Search returns nothing"

    drills = assert_ok(server.cli("ls", "--drill", "--json")).json()
    assert ref in _refs(drills)
    assert all(item["drill"] for item in drills["items"])
    assert ref not in _refs(assert_ok(server.cli("ls", "--no-drill", "--json")).json())
    filtered = server.cli("ls", "--phase", "triage", "--service", "search", "--json")
    assert _refs(assert_ok(filtered).json()) == [ref]
    listing = assert_ok(server.cli("ls")).out
    [row] = [re.split(r"\s{2,}", ln.strip()) for ln in listing.splitlines() if ref + " " in ln]
    assert row[:5] == [ref, "SEV-1", "triage", "Game day: search down (drill)", "@bob"]

    # IC and Tech Lead in one person on a SEV-1: accepted, with a warning.
    doubled = assert_ok(server.cli("assign", ref, "--tech-lead", "bob"))
    assert "warning: the Incident Commander is also the Tech Lead" in doubled.out
    page = assert_ok(server.cli("show", ref)).out
    assert "DRILL" in page
    assert "warning: the Incident Commander is also the Tech Lead" in page


@pytest.mark.parametrize("backend", ["sqlite"])
def test_bracketed_text_is_printed_verbatim(warroom: Deployment) -> None:
    # A server of its own: once stored, such a title breaks every human `ls`.
    title = "Errors on [/cart] for [bold]EU[/bold] shards"
    declared = warroom.cli("declare", title, "--sev", "2")
    titles = [i["title"] for i in warroom.api("GET", "/api/v1/incidents").json()["items"]]
    assert titles.count(title) == 1  # the server took it either way
    assert_ok(declared)
    assert title in declared.out
    assert title in assert_ok(warroom.cli("ls")).out
