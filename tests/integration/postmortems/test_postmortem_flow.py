"""Postmortems: drafted on resolve from the real timeline, edited as Markdown, published."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories import make_service, make_user
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.errors import Conflict, Invalid
from warroom.incidents import service as incident_service
from warroom.incidents.rules import Phase
from warroom.incidents.schemas import IncidentCreate
from warroom.postmortems import actions, markdown, service
from warroom.postmortems.rules import ActionStatus, Status
from warroom.users import service as user_service

BERLIN = ZoneInfo("Europe/Berlin")


def _resolved_incident(sessions: SessionFactory, clock: FixedClock, severity: int = 1) -> str:
    with unit_of_work(sessions) as session:
        now = clock.now()
        alice = make_user(session, now, "alice")
        make_user(session, now, "bob")
        make_service(session, now, "checkout")
        incident = incident_service.declare(
            session=session,
            now=now,
            actor=alice,
            incident_in=IncidentCreate(
                title="Checkout failures", severity=severity, services=["checkout"]
            ),
        )
        incident_service.acknowledge(
            session=session, now=now + timedelta(minutes=2), actor=alice, incident=incident
        )
        incident_service.change_phase(
            session=session,
            now=now + timedelta(minutes=10),
            actor=alice,
            incident=incident,
            phase=Phase.MITIGATING,
        )
        later = now + timedelta(minutes=47)
        incident_service.change_phase(
            session=session, now=later, actor=alice, incident=incident, phase=Phase.RESOLVED
        )
        service.ensure_draft(session=session, now=later, incident=incident)
        return f"INC-{incident.id}"


def test_resolving_a_sev1_drafts_a_postmortem_from_its_timeline(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    ref = _resolved_incident(sessions, clock)
    with unit_of_work(sessions, write=False) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref)
        postmortem = service.get_for(session=session, incident=incident)
        assert postmortem is not None
        assert incident.postmortem_status == "draft"
        text = markdown.render(service.document(session, incident, postmortem), BERLIN)
    lines = text.splitlines()
    assert lines[0] == "# Incident Postmortem: Checkout failures (2026-11-27)"
    for heading in ("## Summary", "## Timeline", "## Root Cause", "## Impact", "## Action Items"):
        assert heading in lines
    timeline = lines[lines.index("## Timeline") + 2 : lines.index("## Root Cause") - 1]
    # T0 is 10:00 UTC: 11:00 in Berlin, the organisation's zone.
    assert timeline[0].startswith("11:00 - Declared SEV-1")
    assert any(line.startswith("11:02 - Acknowledged") for line in timeline)
    assert any(line.startswith("11:47 - Phase: mitigating → resolved") for line in timeline)
    assert "- Duration: 47 min" in lines
    assert postmortem.due_at is not None
    assert postmortem.due_at.date() == date(2026, 12, 4)


def test_a_sev3_needs_no_postmortem_and_closes_freely(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    ref = _resolved_incident(sessions, clock, severity=3)
    with unit_of_work(sessions) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref)
        assert service.get_for(session=session, incident=incident) is None
        incident_service.change_phase(
            session=session,
            now=clock.now() + timedelta(hours=1),
            actor=None,
            incident=incident,
            phase=Phase.CLOSED,
        )
        assert incident.phase == "closed"


def test_closing_waits_for_the_published_postmortem(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    ref = _resolved_incident(sessions, clock)
    later = clock.now() + timedelta(days=1)
    with unit_of_work(sessions) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref)
        postmortem = service.get_for(session=session, incident=incident)
        assert postmortem is not None
        with pytest.raises(Conflict, match="postmortem published before closing"):
            incident_service.change_phase(
                session=session, now=later, actor=None, incident=incident, phase=Phase.CLOSED
            )
        bob = user_service.get_by_handle(session=session, handle="bob")
        assert bob is not None
        service.move(
            session=session,
            now=later,
            postmortem=postmortem,
            incident=incident,
            actor=bob,
            target=Status.IN_REVIEW,
        )
        with pytest.raises(Invalid, match="root cause"):
            service.move(
                session=session,
                now=later,
                postmortem=postmortem,
                incident=incident,
                actor=bob,
                target=Status.PUBLISHED,
            )
        service.update_fields(
            session=session,
            now=later,
            postmortem=postmortem,
            changes={"root_cause": "Pool too small."},
        )
        service.move(
            session=session,
            now=later,
            postmortem=postmortem,
            incident=incident,
            actor=bob,
            target=Status.PUBLISHED,
        )
        incident_service.change_phase(
            session=session, now=later, actor=None, incident=incident, phase=Phase.CLOSED
        )
        assert incident.phase == "closed"
        with pytest.raises(Conflict, match="published"):
            service.update_fields(
                session=session, now=later, postmortem=postmortem, changes={"summary": "x"}
            )


def test_markdown_edits_round_trip_with_action_items(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    ref = _resolved_incident(sessions, clock)
    later = clock.now() + timedelta(hours=2)
    with unit_of_work(sessions) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref)
        postmortem = service.get_for(session=session, incident=incident)
        assert postmortem is not None
        bob = user_service.get_by_handle(session=session, handle="bob")
        assert bob is not None
        text = markdown.render(service.document(session, incident, postmortem), BERLIN)
        text = text.replace(
            "## Root Cause\n\n_To be written._", "## Root Cause\n\nThe pool held 10 connections."
        )
        text = text.replace(
            "## Action Items\n\n_None yet._",
            "## Action Items\n\n- [ ] Fix: Raise the pool size (P0, @bob, by 12/04)",
        )
        text = text.replace("## Impact\n\n", "## Impact\n\n- Failed requests: 12,400\n")
        service.apply_markdown(
            session=session,
            now=later,
            postmortem=postmortem,
            incident=incident,
            actor=bob,
            text=text,
            zone=BERLIN,
        )
        assert postmortem.root_cause == "The pool held 10 connections."
        assert postmortem.impact["failed_requests"] == 12400
        [item] = actions.for_incident(session=session, incident=incident)
        assert (item.category, item.priority, item.owner.handle, item.due_on) == (
            "fix",
            "P0",
            "bob",
            date(2026, 12, 4),
        )
        again = markdown.render(service.document(session, incident, postmortem), BERLIN)
        assert "- [ ] Fix: Raise the pool size (P0, @bob, by 12/04)" in again
        # Ticking the box marks it done; the same text again changes nothing else.
        service.apply_markdown(
            session=session,
            now=later,
            postmortem=postmortem,
            incident=incident,
            actor=bob,
            text=again.replace("- [ ] Fix", "- [x] Fix"),
            zone=BERLIN,
        )
        assert item.status == ActionStatus.DONE.value
        assert len(actions.for_incident(session=session, incident=incident)) == 1


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace("## Root Cause", "## Root Causes"),
            "unknown section '## Root Causes'",
        ),
        (lambda t: t.replace("## Impact\n", ""), "missing section"),
        (lambda t: t.replace("11:00 - Declared", "25:00 - Declared"), "Timeline, line"),
        (
            lambda t: t.replace("## Impact\n\n", "## Impact\n\n- Failed requests: lots\n"),
            "Impact, line",
        ),
        (
            lambda t: t.replace(
                "## Action Items\n\n_None yet._",
                "## Action Items\n\n- [ ] Fix: no owner (P0, by 12/04)",
            ),
            "Action Items, line",
        ),
    ],
)
def test_markdown_errors_name_the_section(
    sessions: SessionFactory, clock: FixedClock, edit: Callable[[str], str], message: str
) -> None:
    ref = _resolved_incident(sessions, clock)
    with unit_of_work(sessions) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref)
        postmortem = service.get_for(session=session, incident=incident)
        assert postmortem is not None
        text = edit(markdown.render(service.document(session, incident, postmortem), BERLIN))
        with pytest.raises(Invalid, match=message):
            markdown.parse(text, zone=BERLIN, day=date(2026, 11, 27))


def test_action_items_need_an_owner_and_a_reason_to_skip(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    ref = _resolved_incident(sessions, clock)
    with unit_of_work(sessions) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref)
        with pytest.raises(Invalid, match="nobody"):
            actions.add(
                session=session,
                now=clock.now(),
                incident=incident,
                actor=None,
                title="x",
                category="fix",
                priority="P0",
                owner="nobody",
                due_on=date(2026, 12, 1),
            )
        item = actions.add(
            session=session,
            now=clock.now(),
            incident=incident,
            actor=None,
            title="Add alert",
            category="detect",
            priority="P1",
            owner="bob",
            due_on=date(2026, 12, 1),
        )
        bob = item.owner
        with pytest.raises(Invalid, match="say why"):
            actions.close(
                session=session, now=clock.now(), item=item, actor=bob, status=ActionStatus.WONT_DO
            )
        overdue = actions.list_items(session=session, today=date(2026, 12, 2), overdue=True)
        assert [i.id for i in overdue] == [item.id]
