"""Drafts: a resolved SEV-1 gets a postmortem from its own timeline, in three formats.

The Markdown layout is process.md §5: a title line with the incident's title
and date, then Summary, Timeline (``HH:MM - text`` in the organisation's time
zone), Root Cause, Impact (a list) and Action Items
(``- [ ] Fix: text (P0, @owner, by MM/DD)``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from tests.http.api import People, declare
from tests.http.postmortems import (
    API,
    HEADINGS,
    add_action,
    close_action,
    close_incident,
    markdown_of,
    ok,
    postmortem,
    put_markdown,
    resolved_incident,
    section,
)
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.incidents import service as incident_service
from warroom.postmortems.models import Postmortem
from warroom.settings import Settings
from warroom.web.app import create_app

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def berlin(tmp_path: Path, sessions: SessionFactory, clock: FixedClock) -> Iterator[TestClient]:
    """The API of an organisation whose time zone is Europe/Berlin (UTC+1 in November)."""
    settings = Settings(var_dir=tmp_path, secret_key="x" * 40, time_zone="Europe/Berlin")
    with TestClient(create_app(settings, sessions=sessions, clock=clock)) as test_client:
        yield test_client


def test_resolving_a_sev1_drafts_the_process_layout_from_the_real_timeline(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    text = markdown_of(client, people.viewer, ref)
    lines = text.splitlines()
    assert lines[0] == "# Incident Postmortem: Checkout down (2026-11-27)"
    assert [line for line in lines if line.startswith("#")] == [lines[0], *HEADINGS]
    assert section(text, "Summary")[0] == f"SEV-1 incident {ref}: Checkout down."
    assert "Duration: 47 min" in section(text, "Summary")[1]
    # The key entries of the incident's own timeline, in order; the note is left out
    # and a multi-line update shows its first line.
    assert section(text, "Timeline") == [
        "10:00 - Declared SEV-1: Checkout down",
        "10:02 - Acknowledged by @bob",
        "10:02 - Incident Commander: @rita",
        "10:02 - Tech Lead: @bob",
        f"10:10 - [SEV-1] {ref}: Checkout down",
        "10:10 - Phase: triage → mitigating",
        "10:47 - Phase: mitigating → resolved",
    ]
    real = ok(client.get(f"{API}/incidents/{ref}/timeline", headers=people.viewer))
    stamped = {(entry["at"][11:16], entry["text"].splitlines()[0]) for entry in real}
    for line in section(text, "Timeline"):
        at, _, what = line.partition(" - ")
        assert (at, what) in stamped
    assert section(text, "Root Cause") == ["_To be written._"]
    assert section(text, "Impact") == ["- Duration: 47 min", "- Minutes degraded: 47"]
    assert section(text, "Action Items") == ["_None yet._"]
    assert text.endswith("_None yet._\n")


def test_the_draft_is_recorded_and_due_five_business_days_after_resolution(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)  # Friday 2026-11-27
    shown = postmortem(client, people.viewer, ref)
    assert shown["status"] == "draft"
    assert shown["due_at"] == "2026-12-04T17:00:00Z"  # the next Friday
    assert shown["overdue"] is False
    assert shown["duration_minutes"] == 47
    assert shown["impact"] == {"minutes_degraded": 47}
    assert shown["markdown"] == markdown_of(client, people.viewer, ref)
    assert shown["timeline"][0]["text"] == "Declared SEV-1: Checkout down"
    real = ok(client.get(f"{API}/incidents/{ref}/timeline", headers=people.viewer))
    drafted = [entry for entry in real if entry["kind"] == "postmortem_drafted"]
    assert [entry["text"] for entry in drafted] == [
        "Postmortem drafted from the timeline; due 2026-12-04"
    ]
    incident = ok(client.get(f"{API}/incidents/{ref}", headers=people.viewer))
    assert incident["phase"] == "resolved"
    clock.advance(timedelta(days=8))
    assert postmortem(client, people.viewer, ref)["overdue"] is True


def test_action_items_are_listed_as_checkboxes(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    add_action(client, people.responder, ref)
    done = add_action(
        client,
        people.responder,
        ref,
        title="Alert on pool saturation",
        category="detect",
        priority="P1",
        owner="carol",
        due="2027-01-08",
    )
    ok(close_action(client, people.responder, done["id"]))
    assert section(markdown_of(client, people.viewer, ref), "Action Items") == [
        "- [ ] Fix: Raise the connection pool size (P0, @bob, by 12/04)",
        "- [x] Detect: Alert on pool saturation (P1, @carol, by 01/08)",
    ]


def test_the_timeline_is_in_the_organisations_time_zone(
    berlin: TestClient, people: People, clock: FixedClock
) -> None:
    clock.advance(timedelta(hours=12, minutes=30))  # 22:30 UTC, 23:30 in Berlin
    ref = declare(berlin, people.responder, title="Search down", services=["search"])["ref"]
    clock.advance(timedelta(minutes=45))  # 00:15 on Saturday in Berlin
    ok(berlin.post(f"{API}/incidents/{ref}/resolve", headers=people.responder))
    text = markdown_of(berlin, people.viewer, ref)
    assert text.splitlines()[0] == "# Incident Postmortem: Search down (2026-11-27)"
    assert section(text, "Timeline") == [
        "23:30 - Declared SEV-1: Search down",
        "### 2026-11-28",
        "00:15 - Phase: triage → resolved",
    ]
    # An edited line is read back in Berlin time too: 23:40 there is 22:40 UTC.
    edited = text.replace("### 2026-11-28", "23:40 - Rolled back release 4.2\n### 2026-11-28")
    saved = ok(put_markdown(berlin, people.responder, ref, edited))
    assert [(item["at"], item["text"]) for item in saved["timeline"]] == [
        ("2026-11-27T22:30:00+00:00", "Declared SEV-1: Search down"),
        ("2026-11-27T22:40:00+00:00", "Rolled back release 4.2"),
        ("2026-11-27T23:15:00+00:00", "Phase: triage → resolved"),
    ]
    assert saved["markdown"] == edited


def test_the_title_date_is_the_organisations_date(
    berlin: TestClient, people: People, clock: FixedClock
) -> None:
    clock.advance(timedelta(hours=13, minutes=30))  # 23:30 UTC: already Saturday in Berlin
    ref = declare(berlin, people.responder, title="Search down", services=["search"])["ref"]
    clock.advance(timedelta(minutes=20))
    ok(berlin.post(f"{API}/incidents/{ref}/resolve", headers=people.responder))
    text = markdown_of(berlin, people.viewer, ref)
    assert section(text, "Timeline")[0] == "00:30 - Declared SEV-1: Search down"
    assert text.splitlines()[0] == "# Incident Postmortem: Search down (2026-11-28)"


def test_a_sev3_gets_no_postmortem_unless_one_is_asked_for(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock, title="Admin panel slow", severity=3)
    for fmt in ("json", "md", "html"):
        missing = client.get(
            f"{API}/incidents/{ref}/postmortem?format={fmt}", headers=people.viewer
        )
        assert missing.status_code == 404, missing.text
        assert missing.json()["detail"] == (
            f"{ref} has no postmortem yet: one is drafted when an incident whose severity "
            "requires it is resolved, or create one with POST"
        )
    assert (
        client.get(f"{API}/incidents/{ref}/postmortem/lint", headers=people.viewer).status_code
        == 404
    )
    forbidden = client.post(f"{API}/incidents/{ref}/postmortem", headers=people.viewer)
    assert forbidden.status_code == 403, forbidden.text
    made = ok(client.post(f"{API}/incidents/{ref}/postmortem", headers=people.responder), 201)
    assert made["status"] == "draft"
    assert made["markdown"].startswith("# Incident Postmortem: Admin panel slow (2026-11-27)\n")
    assert section(made["markdown"], "Timeline")[0] == "10:00 - Declared SEV-3: Admin panel slow"
    # Asking again returns the same postmortem, edits and all.
    patched = {"root_cause": "A slow query."}
    ok(client.patch(f"{API}/incidents/{ref}/postmortem", json=patched, headers=people.responder))
    again = ok(client.post(f"{API}/incidents/{ref}/postmortem", headers=people.responder), 201)
    assert again["root_cause"] == "A slow query."
    # Optional for a SEV-3: the incident closes with its postmortem still a draft.
    assert ok(close_incident(client, people.responder, ref))["phase"] == "closed"


def test_unknown_incidents_have_no_postmortem(client: TestClient, people: People) -> None:
    for method, path in (
        ("GET", "postmortem"),
        ("POST", "postmortem"),
        ("GET", "postmortem/lint"),
        ("POST", "postmortem/review"),
    ):
        response = client.request(
            method, f"{API}/incidents/INC-999/{path}", headers=people.responder
        )
        assert response.status_code == 404, (method, path, response.text)


def test_an_open_incident_has_no_postmortem_yet(client: TestClient, people: People) -> None:
    ref = declare(client, people.responder)["ref"]
    response = client.get(f"{API}/incidents/{ref}/postmortem", headers=people.viewer)
    assert response.status_code == 404, response.text
    assert "has no postmortem yet" in response.json()["detail"]


def test_html_is_autoescaped(client: TestClient, people: People, clock: FixedClock) -> None:
    ref = resolved_incident(client, people, clock, title="<script>alert(1)</script> & co")
    hostile = '<img src=x onerror="alert(2)">'
    patch = {"root_cause": hostile, "lessons": "</article><b>bold</b>"}
    ok(client.patch(f"{API}/incidents/{ref}/postmortem", json=patch, headers=people.responder))
    add_action(client, people.responder, ref, title="<i>Fix</i> it")
    response = client.get(f"{API}/incidents/{ref}/postmortem?format=html", headers=people.viewer)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    for raw in ("<script>", hostile, "<img", "<b>bold</b>", "<i>Fix</i>"):
        assert raw not in page
    assert "<h1>Incident Postmortem: &lt;script&gt;alert(1)&lt;/script&gt; &amp; co</h1>" in page
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in page
    assert "&lt;i&gt;Fix&lt;/i&gt; it (P0, @bob, by 12/04)" in page
    for heading in ("Summary", "Timeline", "Root Cause", "Impact", "Action Items", "Lessons"):
        assert f"<h2>{heading}</h2>" in page
    # Markdown and JSON carry the text as written: escaping is the renderer's job.
    assert section(markdown_of(client, people.viewer, ref), "Root Cause") == [hostile]


def test_a_viewer_reads_but_cannot_draft_or_edit(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = resolved_incident(client, people, clock)
    text = markdown_of(client, people.viewer, ref)
    base = f"{API}/incidents/{ref}/postmortem"
    refused = [
        client.patch(base, json={"root_cause": "x"}, headers=people.viewer),
        put_markdown(client, people.viewer, ref, text),
        client.post(f"{base}/review", headers=people.viewer),
        client.post(f"{base}/publish", headers=people.viewer),
        client.post(f"{base}/draft", headers=people.viewer),
    ]
    assert [r.status_code for r in refused] == [403] * 5
    assert client.get(base).status_code == 401
    assert markdown_of(client, people.viewer, ref) == text


def test_a_draft_is_made_on_first_read_when_resolution_did_not(
    client: TestClient, people: People, clock: FixedClock, sessions: SessionFactory
) -> None:
    """Incidents resolved before drafting existed (status set, no row) get theirs on GET."""
    ref = resolved_incident(client, people, clock)
    with unit_of_work(sessions) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref)
        session.execute(delete(Postmortem).where(Postmortem.incident_id == incident.id))
    clock.advance(timedelta(hours=1))
    shown = postmortem(client, people.viewer, ref)
    assert shown["status"] == "draft"
    assert section(shown["markdown"], "Timeline")[0] == "10:00 - Declared SEV-1: Checkout down"
    assert datetime.fromisoformat(shown["updated_at"]) == clock.now()
