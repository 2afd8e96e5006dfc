"""Requests the server refuses: exit 1, the server's message on one stderr line, no traceback."""

from __future__ import annotations

import pytest

from tests.e2e.harness import SQLITE_ONLY, Deployment, assert_ok, assert_refused

pytestmark = pytest.mark.e2e

KNOWN_PHASES = "detection, triage, investigating, mitigating, resolved, closed, dismissed"
KNOWN_SEVERITIES = "known: 1 (SEV-1), 2 (SEV-2), 3 (SEV-3), 4 (SEV-4)"


def _declare(server: Deployment, title: str) -> str:
    ref: str = assert_ok(server.cli("declare", title, "--sev", "3", "--json")).json()["ref"]
    return ref


@SQLITE_ONLY
def test_forbidden_transitions_name_the_allowed_phases(shared_warroom: Deployment) -> None:
    server = shared_warroom
    ref = _declare(server, "Stale dashboards")
    assert_refused(
        server.cli("phase", ref, "triage"),
        1,
        "the incident is already triage; allowed next phases: "
        "investigating, mitigating, resolved, dismissed",
    )
    assert_ok(server.cli("resolve", ref))
    assert_refused(
        server.cli("phase", ref, "mitigating"),
        1,
        "cannot move from resolved to mitigating; allowed next phases: closed, investigating",
    )
    assert_ok(server.cli("phase", ref, "closed"))
    assert_refused(
        server.cli("resolve", ref), 1, "cannot move from closed to resolved; it is final"
    )
    assert_refused(
        server.cli("phase", ref, "bogus"), 1, f"unknown phase 'bogus'; known phases: {KNOWN_PHASES}"
    )
    assert_refused(server.cli("update", ref, "--theory", "late"), 1, f"{ref} is closed")
    assert server.api("GET", f"/api/v1/incidents/{ref}").json()["phase"] == "closed"


def test_unknown_names_are_refused_and_change_nothing(shared_warroom: Deployment) -> None:
    server = shared_warroom
    ref = _declare(server, "Slow image uploads")
    before = server.api("GET", f"/api/v1/incidents/{ref}", params={"timeline": "true"}).json()

    assert_refused(
        server.cli("assign", ref, "--commander", "alice", "--tech-lead", "nobody"),
        1,
        "unknown user 'nobody'",
    )
    assert_refused(server.cli("sev", ref, "9"), 1, f"unknown severity '9'; {KNOWN_SEVERITIES}")
    assert_refused(
        server.cli("declare", "Disk full", "--sev", "SEV-7"),
        1,
        f"unknown severity 'SEV-7'; {KNOWN_SEVERITIES}",
    )
    assert_refused(
        server.cli("declare", "Disk full", "--sev", "2", "--service", "no-such-service"),
        1,
        "unknown service 'no-such-service'",
    )
    assert_refused(server.cli("ack", "INC-4242"), 1, "no incident INC-4242")
    assert_refused(server.cli("show", "inc-4242", "--timeline"), 1, "no incident INC-4242")
    assert_refused(
        server.cli("note", ref, "from the future", "--at", "2999-01-01T00:00:00Z"),
        1,
        "at cannot be in the future",
    )

    # All-or-nothing: the valid commander of the refused assign was not applied either.
    after = server.api("GET", f"/api/v1/incidents/{ref}", params={"timeline": "true"}).json()
    assert after == before
    titles = [i["title"] for i in server.api("GET", "/api/v1/incidents").json()["items"]]
    assert "Disk full" not in titles


@SQLITE_ONLY
def test_second_ack_and_bad_token(shared_warroom: Deployment) -> None:
    server = shared_warroom
    ref = _declare(server, "Webhooks delayed")
    assert_ok(server.cli("ack", ref))
    assert_refused(server.cli("ack", ref), 1, f"{ref} was already acknowledged by @alice")
    assert_refused(server.cli("ls", token="wr_not-a-real-token"), 1, "the API token is not valid")


def test_huge_incident_number_is_just_unknown(shared_warroom: Deployment) -> None:
    # Twelve digits pass as a reference, more than PostgreSQL's 32-bit id holds.
    assert_refused(shared_warroom.cli("show", "INC-99999999999"), 1, "no incident INC-99999999999")


@SQLITE_ONLY
def test_refusal_messages_are_printed_verbatim(shared_warroom: Deployment) -> None:
    ref = _declare(shared_warroom, "Queue backlog")
    assert_refused(
        shared_warroom.cli("assign", ref, "--commander", "[/x]"), 1, "unknown user '[/x]'"
    )
    assert_refused(shared_warroom.cli("sev", ref, "[red]1"), 1, "unknown severity '[red]1'")
