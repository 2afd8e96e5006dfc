"""Editing postmortems (Markdown and JSON), review and publication, and closing the incident."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.http.api import People, declare, error_fields
from tests.http.postmortems import (
    API,
    add_action,
    close_incident,
    line_number,
    markdown_of,
    move,
    ok,
    postmortem,
    put_markdown,
    resolved_incident,
    section,
)
from warroom.clock import FixedClock

NEW_ACTION = "- [ ] Prevent: Load-test the pool before releases (P1, @carol, by 12/11)"
PUBLISHED = "the postmortem is published; it is the record and no longer changes"


def _stable(shown: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in shown.items() if k != "updated_at"}


def _written(text: str) -> str:
    """``text`` with a root cause, impact figures, an action item and lessons written in."""
    text = text.replace(
        "## Root Cause\n\n_To be written._",
        "## Root Cause\n\nThe pool held 50 connections.\nThe provider slowed down to 3 s.",
    )
    text = text.replace(
        "- Minutes degraded: 47",
        "- Minutes degraded: 45\n- Failed requests: 12,400\n- Revenue estimate: $5,000.50\n"
        "- Notes: EU customers only",
    )
    text = text.replace("## Action Items\n\n_None yet._", f"## Action Items\n\n{NEW_ACTION}")
    text = text.replace(
        "10:10 - Phase: triage → mitigating",
        "10:05 - Rolled back release 4.2\n10:10 - Phase: triage → mitigating",
    )
    return text + "\n## Contributing Factors\n\nNo load test.\n\n## Lessons\n\nWatch the pool.\n"


def test_unchanged_markdown_round_trips(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    written = _written(markdown_of(client, people.viewer, ref))
    ok(put_markdown(client, people.responder, ref, written))
    add_action(client, people.responder, ref)
    saved = postmortem(client, people.viewer, ref)
    before = saved["markdown"]
    clock.advance(timedelta(hours=1))
    again = ok(put_markdown(client, people.responder, ref, before))
    assert again["markdown"] == before
    assert _stable(again) == _stable(saved)
    assert again["updated_at"] != saved["updated_at"]
    assert len(again["action_items"]) == 2


def test_markdown_edits_are_saved(client: TestClient, people: People, clock: FixedClock) -> None:
    ref = resolved_incident(client, people, clock)
    clock.advance(timedelta(hours=2))
    saved = ok(
        put_markdown(
            client, people.responder, ref, _written(markdown_of(client, people.viewer, ref))
        )
    )
    assert saved["root_cause"] == "The pool held 50 connections.\nThe provider slowed down to 3 s."
    assert saved["impact"] == {
        "minutes_degraded": 45,
        "failed_requests": 12400,
        "revenue_estimate": 5000.5,
        "notes": "EU customers only",
    }
    assert saved["contributing_factors"] == "No load test."
    assert saved["lessons"] == "Watch the pool."
    assert ("2026-11-27T10:05:00+00:00", "Rolled back release 4.2") in [
        (item["at"], item["text"]) for item in saved["timeline"]
    ]
    [item] = saved["action_items"]
    assert {k: item[k] for k in ("title", "category", "priority", "owner", "due", "status")} == {
        "title": "Load-test the pool before releases",
        "category": "prevent",
        "priority": "P1",
        "owner": "carol",
        "due": "2026-12-11",
        "status": "open",
    }
    text = markdown_of(client, people.viewer, ref)
    assert section(text, "Action Items") == [NEW_ACTION]
    assert section(text, "Impact") == [
        "- Duration: 47 min",  # the incident's, not an editable figure
        "- Failed requests: 12400",
        "- Revenue estimate: 5000.5",
        "- Minutes degraded: 45",
        "- Notes: EU customers only",
    ]
    assert [line for line in text.splitlines() if line.startswith("## ")][-2:] == [
        "## Contributing Factors",
        "## Lessons",
    ]
    # Ticking the box closes the item; nothing is added twice.
    ticked = ok(
        put_markdown(client, people.responder, ref, text.replace("- [ ] Prevent", "- [x] Prevent"))
    )
    assert [(i["id"], i["status"]) for i in ticked["action_items"]] == [(item["id"], "done")]
    listed = ok(client.get(f"{API}/actions", params={"status": "done"}, headers=people.viewer))
    assert [i["id"] for i in listed] == [item["id"]]
    kinds = [
        e["kind"] for e in ok(client.get(f"{API}/incidents/{ref}/timeline", headers=people.viewer))
    ]
    assert kinds.count("action_added") == 1
    assert kinds.count("action_closed") == 1


def _replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return edit


def _action(line: str) -> Callable[[str], str]:
    """A valid new item, then ``line``: the valid one must not be saved either."""
    return _replace("## Action Items\n\n_None yet._", f"## Action Items\n\n{NEW_ACTION}\n{line}")


@pytest.mark.parametrize(
    ("edit", "bad_line", "field", "detail"),
    [
        (
            _replace("10:02 - Acknowledged", "10:2x - Acknowledged"),
            "10:2x - Acknowledged by @bob",
            "Timeline",
            "Timeline, line {n}: expected 'HH:MM - text', got '10:2x - Acknowledged by @bob'",
        ),
        (
            _replace("10:47 - Phase", "24:00 - Phase"),
            "24:00 - Phase: mitigating → resolved",
            "Timeline",
            "Timeline, line {n}: expected 'HH:MM - text'",
        ),
        (
            _replace("10:00 - Declared", "10:00 Declared"),
            "10:00 Declared SEV-1: Checkout down",
            "Timeline",
            "Timeline, line {n}: expected 'HH:MM - text'",
        ),
        (
            _replace("- Minutes degraded: 47", "- Minutes degraded: 47\n- Customers lost: 12"),
            "- Customers lost: 12",
            "Impact",
            "Impact, line {n}: unknown figure 'Customers lost' (use Failed requests,",
        ),
        (
            _replace("- Minutes degraded: 47", "- Minutes degraded: lots"),
            "- Minutes degraded: lots",
            "Impact",
            "Impact, line {n}: 'lots' is not a number",
        ),
        (
            _replace("- Minutes degraded: 47", "- Minutes degraded: -5"),
            "- Minutes degraded: -5",
            "Impact",
            "Impact, line {n}: figures cannot be negative",
        ),
        (
            _action("- [ ] Fix: nobody owns this (P0, by 12/04)"),
            "- [ ] Fix: nobody owns this (P0, by 12/04)",
            "Action Items",
            "Action Items, line {n}: expected '- [ ] Fix: text (P0, @owner, by MM/DD)'",
        ),
        (
            _action("- [ ] Fix: no date (P0, @bob)"),
            "- [ ] Fix: no date (P0, @bob)",
            "Action Items",
            "Action Items, line {n}: expected",
        ),
        (
            _action("- [ ] Fixx: typo (P0, @bob, by 12/04)"),
            "- [ ] Fixx: typo (P0, @bob, by 12/04)",
            "Action Items",
            "Action Items, line {n}: ",
        ),
        (
            _action("- [ ] Fix: too urgent (P7, @bob, by 12/04)"),
            "- [ ] Fix: too urgent (P7, @bob, by 12/04)",
            "Action Items",
            "Action Items, line {n}: ",
        ),
        (
            _action("- [ ] Fix: no such day (P0, @bob, by 02/30)"),
            "- [ ] Fix: no such day (P0, @bob, by 02/30)",
            "Action Items",
            "Action Items, line {n}: day is out of range for month",
        ),
        (
            _replace("## Root Cause", "## Root Causes"),
            "## Root Causes",
            "Root Causes",
            "line {n}: unknown section '## Root Causes'",
        ),
    ],
)
def test_markdown_errors_name_the_section_and_line(
    client: TestClient,
    people: People,
    clock: FixedClock,
    edit: Callable[[str], str],
    bad_line: str,
    field: str,
    detail: str,
) -> None:
    ref = resolved_incident(client, people, clock)
    before = postmortem(client, people.viewer, ref)
    text = edit(before["markdown"])
    response = put_markdown(client, people.responder, ref, text)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(detail.format(n=line_number(text, bad_line)))
    assert error_fields(response.json()) == [field]
    assert postmortem(client, people.viewer, ref) == before  # nothing saved, no item added
    assert ok(client.get(f"{API}/actions", headers=people.viewer)) == []


@pytest.mark.parametrize(
    ("heading", "field"),
    [("## Summary", "Summary"), ("## Impact", "Impact"), ("## Action Items", "Action Items")],
)
def test_every_section_is_required(
    client: TestClient, people: People, clock: FixedClock, heading: str, field: str
) -> None:
    ref = resolved_incident(client, people, clock)
    text = markdown_of(client, people.viewer, ref).replace(f"{heading}\n", "")
    response = put_markdown(client, people.responder, ref, text)
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == f"missing section(s): {heading}"
    assert error_fields(response.json()) == [field]


def test_an_unknown_owner_in_markdown_names_the_line(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    bad = "- [ ] Fix: Raise the pool (P0, @nobody, by 12/04)"
    text = markdown_of(client, people.viewer, ref).replace("_None yet._", bad)
    response = put_markdown(client, people.responder, ref, text)
    assert response.status_code == 422, response.text
    assert "nobody" in response.json()["detail"]
    assert response.json()["detail"].startswith(f"Action Items, line {line_number(text, bad)}: ")
    assert error_fields(response.json()) == ["Action Items"]
    assert ok(client.get(f"{API}/actions", headers=people.viewer)) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "markdown"),
        ({"markdown": 7}, "markdown"),
        ({"markdown": "# x", "extra": 1}, "extra"),
        ({"markdown": "a\x00b"}, "markdown"),
        ({"markdown": "x" * 200_001}, "markdown"),
    ],
)
def test_bad_markdown_bodies_are_refused(
    client: TestClient, people: People, clock: FixedClock, body: dict[str, Any], field: str
) -> None:
    ref = resolved_incident(client, people, clock)
    url = f"{API}/incidents/{ref}/postmortem/markdown"
    response = client.put(url, json=body, headers=people.responder)
    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == [field]


def test_json_fields_are_patched(client: TestClient, people: People, clock: FixedClock) -> None:
    ref = resolved_incident(client, people, clock)
    clock.advance(timedelta(minutes=30))
    patch = {
        "summary": "Checkout failed for 47 minutes.",
        "root_cause": "The pool held 50 connections.",
        "impact": {"failed_transactions": 310, "revenue_estimate": 9100.25, "notes": "EU"},
        # Given out of order and with an offset: kept in time order, in UTC.
        "timeline": [
            {"at": "2026-11-27T11:10:00+01:00", "text": "Pool raised to 150"},
            {"at": "2026-11-27T10:00:00Z", "text": "Errors reported by customers"},
        ],
    }
    url = f"{API}/incidents/{ref}/postmortem"
    shown = ok(client.patch(url, json=patch, headers=people.responder))
    assert shown["summary"] == patch["summary"]
    assert shown["root_cause"] == patch["root_cause"]
    assert shown["impact"] == {
        "failed_transactions": 310,
        "revenue_estimate": 9100.25,
        "notes": "EU",
    }
    assert shown["timeline"] == [
        {"at": "2026-11-27T10:00:00+00:00", "text": "Errors reported by customers"},
        {"at": "2026-11-27T10:10:00+00:00", "text": "Pool raised to 150"},
    ]
    assert shown["updated_at"] == "2026-11-27T11:17:00Z"
    text = shown["markdown"]
    assert section(text, "Summary") == ["Checkout failed for 47 minutes."]
    assert section(text, "Timeline") == [
        "10:00 - Errors reported by customers",
        "10:10 - Pool raised to 150",
    ]
    assert section(text, "Impact")[0] == "- Duration: 47 min"
    assert section(text, "Impact")[2:] == ["- Revenue estimate: 9100.25", "- Notes: EU"]
    # Fields left out stay as they were.
    again = ok(client.patch(url, json={"lessons": "Load-test."}, headers=people.responder))
    assert (again["root_cause"], again["lessons"]) == (patch["root_cause"], "Load-test.")
    assert again["timeline"] == shown["timeline"]


def test_patched_counts_read_as_whole_numbers(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    patch = {"impact": {"failed_transactions": 310}}
    url = f"{API}/incidents/{ref}/postmortem"
    shown = ok(client.patch(url, json=patch, headers=people.responder))
    assert section(shown["markdown"], "Impact")[1] == "- Failed transactions: 310"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"impact": {"failed_requests": -1}}, "impact.failed_requests"),
        ({"impact": {"failed_requests": "many"}}, "impact.failed_requests"),
        ({"impact": {"customers": 3}}, "impact.customers"),
        ({"timeline": [{"at": "2026-11-27T10:00:00", "text": "naive"}]}, "timeline.0.at"),
        ({"timeline": [{"at": "2026-11-27T10:00:00Z", "text": "  "}]}, "timeline.0.text"),
        ({"root_cause": "x" * 50_001}, "root_cause"),
        ({"summary": "nul\x00"}, "summary"),
        ({"status": "published"}, "status"),
    ],
)
def test_bad_patches_are_refused(
    client: TestClient, people: People, clock: FixedClock, body: dict[str, Any], field: str
) -> None:
    ref = resolved_incident(client, people, clock)
    before = postmortem(client, people.viewer, ref)
    response = client.patch(
        f"{API}/incidents/{ref}/postmortem", json=body, headers=people.responder
    )
    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == [field]
    assert postmortem(client, people.viewer, ref) == before


def test_review_and_publish_move_forward_only(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    skipped = move(client, people.responder, ref, "publish")
    assert skipped.status_code == 409, skipped.text
    assert skipped.json()["detail"] == (
        "a postmortem in draft cannot move to published (allowed: in_review)"
    )
    assert error_fields(skipped.json()) == ["status"]
    assert ok(move(client, people.bob, ref, "review"))["status"] == "in_review"
    twice = move(client, people.bob, ref, "review")
    assert twice.status_code == 409, twice.text
    assert twice.json()["detail"] == (
        "a postmortem in in_review cannot move to in_review (allowed: draft, published)"
    )
    # Review may send it back for changes, then on again.
    assert ok(move(client, people.carol, ref, "draft"))["status"] == "draft"
    assert ok(move(client, people.bob, ref, "review"))["status"] == "in_review"
    no_cause = move(client, people.bob, ref, "publish")
    assert no_cause.status_code == 422, no_cause.text
    assert no_cause.json()["detail"] == "write the root cause before publishing"
    assert error_fields(no_cause.json()) == ["root_cause"]
    url = f"{API}/incidents/{ref}/postmortem"
    ok(client.patch(url, json={"root_cause": "   \n "}, headers=people.responder))
    assert move(client, people.bob, ref, "publish").status_code == 422
    ok(client.patch(url, json={"root_cause": "The pool was too small."}, headers=people.responder))
    clock.advance(timedelta(days=1))
    published = ok(move(client, people.bob, ref, "publish"))
    assert published["status"] == "published"
    assert published["published_at"] == "2026-11-28T10:47:00Z"
    entries = ok(client.get(f"{API}/incidents/{ref}/timeline", headers=people.viewer))
    moves = [(e["actor"], e["text"]) for e in entries if e["kind"].startswith("postmortem_")]
    assert moves == [
        (None, "Postmortem drafted from the timeline; due 2026-12-04"),
        ("bob", "Postmortem sent for review"),
        ("carol", "Postmortem sent back to draft"),
        ("bob", "Postmortem sent for review"),
        ("bob", "Postmortem published"),
    ]


def test_a_published_postmortem_is_the_record(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    url = f"{API}/incidents/{ref}/postmortem"
    ok(client.patch(url, json={"root_cause": "The pool was too small."}, headers=people.responder))
    ok(move(client, people.responder, ref, "review"))
    ok(move(client, people.responder, ref, "publish"))
    record = postmortem(client, people.viewer, ref)
    refused = {
        "patch": client.patch(url, json={"root_cause": "Other."}, headers=people.responder),
        "markdown": put_markdown(client, people.responder, ref, record["markdown"]),
    }
    for name, response in refused.items():
        assert response.status_code == 409, (name, response.text)
        assert response.json()["detail"] == PUBLISHED
        assert error_fields(response.json()) == ["status"]
    for verb in ("draft", "review", "publish"):
        response = move(client, people.responder, ref, verb)
        assert response.status_code == 409, (verb, response.text)
        assert response.json()["detail"].startswith("a postmortem in published cannot move to ")
        assert response.json()["detail"].endswith("(allowed: none)")
    assert postmortem(client, people.viewer, ref) == record
    # Action items stay trackable after publication.
    add_action(client, people.responder, ref)
    assert len(postmortem(client, people.viewer, ref)["action_items"]) == 1


def test_the_incident_closes_only_after_its_postmortem_is_published(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    for state, label in (("draft", "draft"), ("review", "in review")):
        if state == "review":
            ok(move(client, people.responder, ref, "review"))
        refused = close_incident(client, people.responder, ref)
        assert refused.status_code == 409, refused.text
        assert refused.json()["detail"] == (
            f"{ref} needs its postmortem published before closing "
            f"(it is {label}); see `warroom postmortem {ref}`"
        )
        assert error_fields(refused.json()) == ["phase"]
        assert (
            ok(client.get(f"{API}/incidents/{ref}", headers=people.viewer))["phase"] == "resolved"
        )
    url = f"{API}/incidents/{ref}/postmortem"
    ok(client.patch(url, json={"root_cause": "The pool was too small."}, headers=people.responder))
    ok(move(client, people.responder, ref, "publish"))
    closed = ok(close_incident(client, people.responder, ref))
    assert closed["phase"] == "closed"


def test_a_reopened_incident_keeps_its_postmortem(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    url = f"{API}/incidents/{ref}/postmortem"
    ok(client.patch(url, json={"root_cause": "The pool was too small."}, headers=people.responder))
    reopen = {"phase": "investigating"}
    ok(client.post(f"{API}/incidents/{ref}/phase", json=reopen, headers=people.responder))
    clock.advance(timedelta(minutes=30))
    ok(client.post(f"{API}/incidents/{ref}/resolve", headers=people.responder))
    shown = postmortem(client, people.viewer, ref)
    assert shown["root_cause"] == "The pool was too small."
    assert shown["duration_minutes"] == 77
    assert close_incident(client, people.responder, ref).status_code == 409


def test_raising_a_resolved_incident_to_sev1_requires_a_postmortem(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock, severity=3)
    raised = {"severity": 1, "reason": "data loss found afterwards"}
    ok(client.post(f"{API}/incidents/{ref}/severity", json=raised, headers=people.responder))
    refused = close_incident(client, people.responder, ref)
    assert refused.status_code == 409, refused.text
    assert "needs its postmortem published" in refused.json()["detail"]


def test_an_entry_from_the_day_before_survives_a_round_trip(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    shown = postmortem(client, people.viewer, ref)
    timeline = [
        {"at": "2026-11-26T21:00:00+00:00", "text": "Release 4.2 shipped"},
        *shown["timeline"],
    ]
    url = f"{API}/incidents/{ref}/postmortem"
    patched = ok(client.patch(url, json={"timeline": timeline}, headers=people.responder))
    saved = ok(put_markdown(client, people.responder, ref, patched["markdown"]))
    assert saved["timeline"][0] == {
        "at": "2026-11-26T21:00:00+00:00",
        "text": "Release 4.2 shipped",
    }
    assert saved["timeline"] == patched["timeline"]


def test_an_italic_root_cause_is_kept(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    text = markdown_of(client, people.viewer, ref).replace(
        "_To be written._", "_Connection pool exhaustion under provider latency._"
    )
    saved = ok(put_markdown(client, people.responder, ref, text))
    assert saved["root_cause"] == "_Connection pool exhaustion under provider latency._"


def test_an_action_title_cannot_break_the_markdown(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    body = {
        "title": "Raise the pool\nand alert on it",
        "category": "fix",
        "priority": "P0",
        "owner": "bob",
        "due": "2026-12-04",
    }
    added = client.post(f"{API}/incidents/{ref}/actions", json=body, headers=people.responder)
    if added.status_code == 422:
        return  # refusing the line break is a fix too
    assert added.status_code == 201, added.text
    text = markdown_of(client, people.viewer, ref)
    response = put_markdown(client, people.responder, ref, text)
    assert response.status_code == 200, response.text


def test_a_leap_day_due_date_survives_a_round_trip(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    clock.advance(timedelta(days=340))  # Tuesday 2027-11-02
    ref = resolved_incident(client, people, clock)
    add_action(client, people.responder, ref, due="2028-02-29")
    text = markdown_of(client, people.viewer, ref)
    assert "(P0, @bob, by 02/29)" in text
    response = put_markdown(client, people.responder, ref, text)
    assert response.status_code == 200, response.text


def test_closing_a_sev2_also_waits(client: TestClient, people: People, clock: FixedClock) -> None:
    ref = declare(client, people.responder, title="Search slow", severity=2)["ref"]
    clock.advance(timedelta(minutes=20))
    ok(client.post(f"{API}/incidents/{ref}/resolve", headers=people.responder))
    assert postmortem(client, people.viewer, ref)["status"] == "draft"
    assert close_incident(client, people.responder, ref).status_code == 409


def test_a_closed_incident_expects_no_more_updates(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    url = f"{API}/incidents/{ref}/postmortem"
    ok(client.patch(url, json={"root_cause": "The pool was too small."}, headers=people.responder))
    ok(move(client, people.responder, ref, "review"))
    ok(move(client, people.responder, ref, "publish"))
    closed = ok(close_incident(client, people.responder, ref))
    assert closed["phase"] == "closed"
    assert closed["next_update_due_at"] is None
    assert closed["update_status"] == "no scheduled updates"
