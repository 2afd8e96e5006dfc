"""The blameless wording check over a postmortem: findings name their section."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.http.api import People
from tests.http.postmortems import API, add_action, ok, put_markdown, resolved_incident
from warroom.clock import FixedClock

BLAMING_CAUSE = "Bob failed to run the migration before the deploy. It was human error."
NEUTRAL_CAUSE = "The migration step was not automated; nothing prompted for it."


def lint(client: TestClient, people: People, ref: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = ok(
        client.get(f"{API}/incidents/{ref}/postmortem/lint", headers=people.viewer)
    )
    return result


def test_a_fresh_draft_has_nothing_to_flag(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    assert lint(client, people, ref) == []


def test_blaming_wording_is_flagged_by_section(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    shown = ok(client.get(f"{API}/incidents/{ref}/postmortem", headers=people.viewer))
    timeline = [
        *shown["timeline"],
        {"at": "2026-11-27T10:20:00Z", "text": "Carol should have known the cache was cold"},
    ]
    patch = {"root_cause": BLAMING_CAUSE, "timeline": timeline, "lessons": "Keep runbooks current."}
    ok(client.patch(f"{API}/incidents/{ref}/postmortem", json=patch, headers=people.responder))
    findings = lint(client, people, ref)
    assert [(f["section"], f["rule"], f["text"]) for f in findings] == [
        ("Root Cause", "failed-to", "Bob failed to"),
        ("Root Cause", "human-error", "human error"),
        ("Timeline", "should-have-known", "Carol should have known"),
    ]
    for finding in findings:
        assert finding["message"]
        assert finding["suggestion"]
    cause = [f for f in findings if f["section"] == "Root Cause"]
    assert [BLAMING_CAUSE[f["start"] : f["end"]] for f in cause] == ["Bob failed to", "human error"]


def test_summary_lessons_impact_notes_and_action_items_are_checked_too(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    patch = {
        "summary": "Rita was careless with the config.",
        "lessons": "Rita was careless with the config.",
        "contributing_factors": "Rita was careless with the config.",
        "impact": {"notes": "Rita was careless with the config."},
    }
    ok(client.patch(f"{API}/incidents/{ref}/postmortem", json=patch, headers=people.responder))
    add_action(client, people.responder, ref, title="Make sure bob stops being careless")
    sections = [(f["section"], f["rule"]) for f in lint(client, people, ref)]
    assert sections == [
        ("Summary", "careless"),
        ("Contributing Factors", "careless"),
        ("Lessons", "careless"),
        ("Impact", "careless"),
        ("Action Items", "careless"),
    ]


def test_neutral_wording_is_not_flagged(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    text = client.get(f"{API}/incidents/{ref}/postmortem?format=md", headers=people.viewer).text
    text = text.replace("_To be written._", NEUTRAL_CAUSE).replace(
        "10:47 - Phase",
        "10:30 - The health check failed to detect the saturated pool\n10:47 - Phase",
    )
    ok(put_markdown(client, people.responder, ref, text))
    assert lint(client, people, ref) == []
    # Rewording a flagged cause clears it.
    url = f"{API}/incidents/{ref}/postmortem"
    ok(client.patch(url, json={"root_cause": BLAMING_CAUSE}, headers=people.responder))
    assert len(lint(client, people, ref)) == 2
    ok(client.patch(url, json={"root_cause": NEUTRAL_CAUSE}, headers=people.responder))
    assert lint(client, people, ref) == []


def test_lint_needs_a_postmortem_and_a_login(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock, severity=3)
    url = f"{API}/incidents/{ref}/postmortem/lint"
    assert client.get(url, headers=people.viewer).status_code == 404
    ok(client.post(f"{API}/incidents/{ref}/postmortem", headers=people.responder), 201)
    assert client.get(url).status_code == 401
    assert lint(client, people, ref) == []
