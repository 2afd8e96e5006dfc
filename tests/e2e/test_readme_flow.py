"""The README's terminal walkthrough, command for command, against `warroom serve`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.e2e.harness import Deployment, assert_ok

pytestmark = pytest.mark.e2e

IMPACT = "~30% of checkouts fail with 500"
THEORY = "DB connection pool exhausted"
NEXT = "restart order-service"


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _run_readme(warroom: Deployment) -> dict[str, str]:
    """Each README command in order; returns each one's stdout by step name."""
    steps = {
        "declare": ("declare", "Checkout failures", "--sev", "1", "--service", "checkout"),
        "assign": (
            "assign",
            "INC-3",
            "--commander",
            "alice",
            "--tech-lead",
            "bob",
            "--comms",
            "carol",
        ),
        "investigating": ("phase", "INC-3", "investigating"),
        "update": (
            "update",
            "INC-3",
            "--impact",
            IMPACT,
            "--theory",
            THEORY,
            "--next",
            NEXT,
            "--eta",
            "15m",
        ),
        "mitigating": ("phase", "INC-3", "mitigating"),
        "resolve": ("resolve", "INC-3"),
        "show": ("show", "INC-3", "--timeline"),
    }
    return {name: assert_ok(warroom.cli(*args)).out for name, args in steps.items()}


def test_readme_walkthrough(warroom: Deployment) -> None:
    """Each step's output, then the incident as people and as scripts see it."""
    out = _run_readme(warroom)

    # Each step says what it did; the demo's two past incidents make this INC-3.
    assert out["declare"].startswith("declared INC-3 SEV-1: Checkout failures")
    assert "INC-3 roles: commander=@alice, tech_lead=@bob, comms=@carol" in out["assign"]
    assert "INC-3 is now investigating" in out["investigating"]
    assert "INC-3 is now mitigating" in out["mitigating"]
    assert "INC-3 resolved" in out["resolve"]
    update = out["update"]
    assert update.startswith("[SEV-1] INC-3: Checkout failures\n")
    assert "Status: investigating" in update
    assert f"Impact: {IMPACT}" in update
    assert "Team: IC @alice (Alice Martin), Tech Lead @bob (Bob Okafor), Comms @carol" in update
    assert f"Current theory: {THEORY}" in update
    assert f"Next action: {NEXT} (ETA " in update

    # The human page: phase, roles, the fields the update set and the timeline.
    page = out["show"]
    assert "INC-3  SEV-1  RESOLVED  Checkout failures" in page
    assert "IC @alice   Tech Lead @bob   Comms @carol" in page
    for line in ("Services:      checkout", f"Impact:        {IMPACT}", f"Theory:        {THEORY}"):
        assert line in page
    for phase in ("Triage:", "Investigating:", "Mitigating:", "Resolved:"):
        assert phase in page
    assert "Timeline" in page
    for text in (
        "Declared SEV-1: Checkout failures",
        "Incident Commander: @alice",
        "Tech Lead: @bob",
        "Communications Lead: @carol",
        "Phase: triage → investigating",
        "Phase: investigating → mitigating",
        "Phase: mitigating → resolved",
        "[SEV-1] INC-3: Checkout failures …",
    ):
        assert text in page

    _check_json(warroom)


def _by_kind(timeline: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [entry for entry in timeline if entry["kind"] == kind]


def _check_json(warroom: Deployment) -> None:
    """`show INC-3 --timeline --json` after the walkthrough."""
    shown = assert_ok(warroom.cli("show", "INC-3", "--timeline", "--json"))
    data = shown.json()

    assert data["ref"] == "INC-3"
    assert data["title"] == "Checkout failures"
    assert data["severity"] == "SEV-1"
    assert data["phase"] == "resolved"
    assert data["services"] == ["checkout"]
    assert {role: (who or {}).get("handle") for role, who in data["roles"].items()} == {
        "commander": "alice",
        "tech_lead": "bob",
        "comms": "carol",
    }
    assert data["acknowledged_at"] is None
    assert (data["customer_impact"], data["current_theory"], data["next_action"]) == (
        IMPACT,
        THEORY,
        NEXT,
    )
    reached = [_at(data[f"{p}_at"]) for p in ("triage", "investigating", "mitigating", "resolved")]
    assert reached == sorted(reached)
    assert data["closed_at"] is None
    assert data["next_update_due_at"] is None  # resolved: no more updates due

    timeline = data["timeline"]
    assert all({"at", "actor", "kind", "text"} <= entry.keys() for entry in timeline)
    assert [_at(e["at"]) for e in timeline] == sorted(_at(e["at"]) for e in timeline)
    # Everything people did was alice; the rest is warroom's own (paging, the postmortem draft).
    assert {e["actor"] for e in timeline} - {None} == {"alice"}
    kinds = {e["kind"] for e in timeline if e["actor"] is None}
    assert {"page_started", "postmortem_drafted"} <= kinds
    assert timeline[0]["kind"] == "declared"
    assert timeline[0]["text"] == "Declared SEV-1: Checkout failures"
    roles = {e["data"]["role"]: e["data"]["after"] for e in _by_kind(timeline, "role_assigned")}
    assert roles == {"commander": "alice", "tech_lead": "bob", "comms": "carol"}
    moves = [(e["data"]["before"], e["data"]["after"]) for e in _by_kind(timeline, "phase_changed")]
    assert moves == [
        ("triage", "investigating"),
        ("investigating", "mitigating"),
        ("mitigating", "resolved"),
    ]
    [posted] = _by_kind(timeline, "update_posted")
    for text in (f"Impact: {IMPACT}", f"Current theory: {THEORY}", f"Next action: {NEXT}"):
        assert text in posted["text"]

    # --eta 15m: the update's next action is due a quarter of an hour after it was posted.
    [update] = warroom.api("GET", "/api/v1/incidents/INC-3/updates").json()
    assert _at(update["next_action_eta_at"]) - _at(update["posted_at"]) == timedelta(minutes=15)
    assert update["author"] == "alice"
    assert update["phase"] == "investigating"
