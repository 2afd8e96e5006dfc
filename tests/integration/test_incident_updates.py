"""Internal updates (process.md §4): rendered, scheduled, late ones recorded."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_incident, make_user, postmortem_published
from warroom.clock import FixedClock
from warroom.db.uow import unit_of_work
from warroom.errors import Invalid
from warroom.incidents import messages, updates
from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident, InternalUpdate
from warroom.incidents.rules import Phase
from warroom.incidents.schemas import RolesAssign, UpdateCreate
from warroom.users.models import User

MIN = timedelta(minutes=1)


def _post(
    session: Session, clock: FixedClock, actor: User, incident: Incident, **fields: Any
) -> InternalUpdate:
    return updates.post_update(
        session=session,
        now=clock.now(),
        actor=actor,
        incident=incident,
        update_in=UpdateCreate(**fields),
    )


def _phase(
    session: Session, clock: FixedClock, actor: User, incident: Incident, phase: Phase
) -> None:
    if phase is Phase.CLOSED:
        postmortem_published(incident)
    incident_service.change_phase(
        session=session, now=clock.now(), actor=actor, incident=incident, phase=phase
    )


@pytest.fixture
def staffed(sessions, clock):
    """A SEV-1 with all three roles filled; yields (session, alice, incident)."""
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        for handle in ("bob", "carol"):
            make_user(session, clock.now(), handle)
        incident = make_incident(session, clock.now(), alice, title="Checkout down", severity=1)
        incident_service.assign_roles(
            session=session,
            now=clock.now(),
            actor=alice,
            incident=incident,
            roles_in=RolesAssign(commander="alice", tech_lead="bob", comms="carol"),
        )
        yield session, alice, incident


def test_update_body_carries_every_field_of_the_process(staffed, clock):
    session, alice, incident = staffed
    clock.advance(20 * MIN)  # 10:20 UTC
    update = _post(
        session,
        clock,
        alice,
        incident,
        impact="30% of checkouts fail",
        theory="DB pool exhausted",
        next_action="restart order-service",
        eta="10m",
    )
    body = update.body
    assert body.startswith(f"[SEV-1] INC-{incident.id}: Checkout down\n")
    assert "Status: triage for 20m since declared" in body
    assert "Impact: 30% of checkouts fail" in body
    assert "IC @alice (Alice), Tech Lead @bob (Bob), Comms @carol (Carol)" in body
    assert "Current theory: DB pool exhausted" in body
    assert "Next action: restart order-service (ETA 10:30 UTC)" in body
    assert "Next update: in 15m (10:35 UTC)" in body
    assert update.next_action_eta_at == clock.now() + 10 * MIN


def test_update_fields_are_copied_to_the_incident_and_the_row(staffed, clock):
    session, alice, incident = staffed
    clock.advance(5 * MIN)
    update = _post(session, clock, alice, incident, impact="EU only", theory="bad deploy")
    assert incident.customer_impact == "EU only"
    assert incident.current_theory == "bad deploy"
    assert incident.next_action == ""
    assert (update.impact, update.theory, update.next_action) == ("EU only", "bad deploy", "")
    assert update.phase == "triage"
    assert update.severity_level == 1
    assert update.author_id == alice.id
    assert update.posted_at == clock.now()
    changed = {
        e.data["field"]
        for e in incident_service.timeline(session=session, incident=incident)
        if e.kind == "field_changed"
    }
    assert changed == {"customer_impact", "current_theory"}
    # An omitted field keeps its value on the next update.
    clock.advance(5 * MIN)
    second = _post(session, clock, alice, incident, next_action="roll back")
    assert (second.impact, second.theory, second.next_action) == (
        "EU only",
        "bad deploy",
        "roll back",
    )
    assert [u.id for u in updates.list_updates(session=session, incident=incident)] == [
        update.id,
        second.id,
    ]


def test_next_update_is_scheduled_one_cadence_after_posting(staffed, clock):
    session, alice, incident = staffed
    clock.advance(7 * MIN)
    update = _post(session, clock, alice, incident, theory="x")
    assert incident.next_update_due_at == clock.now() + 15 * MIN
    assert update.next_update_due_at == clock.now() + 15 * MIN
    entry = incident_service.timeline(session=session, incident=incident)[-1]
    assert entry.kind == "update_posted"
    assert entry.text == update.body
    assert entry.data == {
        "update_id": update.id,
        "late": False,
        "next_update_due_at": (clock.now() + 15 * MIN).isoformat(),
    }


def test_update_posted_after_it_was_due_is_flagged_late(staffed, clock):
    session, alice, incident = staffed
    clock.advance(15 * MIN)  # exactly on time
    _post(session, clock, alice, incident)
    on_time = incident_service.timeline(session=session, incident=incident)[-1]
    assert on_time.data["late"] is False
    clock.advance(16 * MIN)  # one minute late
    _post(session, clock, alice, incident)
    late = incident_service.timeline(session=session, incident=incident)[-1]
    assert late.data["late"] is True
    assert incident.next_update_due_at == clock.now() + 15 * MIN


def test_updates_by_the_due_time_in_force_are_counted_on_the_incident(staffed, clock):
    session, alice, incident = staffed
    clock.advance(15 * MIN)  # due at declaration + 15 min: exactly on time
    _post(session, clock, alice, incident)
    clock.advance(16 * MIN)  # a minute late
    _post(session, clock, alice, incident)
    clock.advance(1 * MIN)  # early for the next one: on time
    _post(session, clock, alice, incident)
    _phase(session, clock, alice, incident, Phase.RESOLVED)
    clock.advance(1 * MIN)  # nothing is due once resolved: not counted as on time
    _post(session, clock, alice, incident)
    assert incident.updates_on_time == 2
    kept = [
        e.data["late"]
        for e in incident_service.timeline(session=session, incident=incident)
        if e.kind == "update_posted"
    ]
    assert kept == [False, True, False, False]


def test_update_on_a_resolved_incident_schedules_nothing(staffed, clock):
    session, alice, incident = staffed
    _phase(session, clock, alice, incident, Phase.RESOLVED)
    clock.advance(MIN)
    update = _post(session, clock, alice, incident, impact="none any more")
    assert update.next_update_due_at is None
    assert incident.next_update_due_at is None
    assert "Next update: none scheduled" in update.body
    assert "Status: resolved" in update.body


@pytest.mark.parametrize("path", [[Phase.RESOLVED, Phase.CLOSED], [Phase.DISMISSED]])
def test_update_refused_on_closed_or_dismissed(staffed, clock, path):
    session, alice, incident = staffed
    for phase in path:
        _phase(session, clock, alice, incident, phase)
    count = len(incident_service.timeline(session=session, incident=incident))
    with pytest.raises(Invalid) as caught:
        _post(session, clock, alice, incident, impact="late news")
    assert caught.value.field == "phase"
    assert path[-1].value in caught.value.message
    assert updates.list_updates(session=session, incident=incident) == []
    assert incident.customer_impact == ""
    assert len(incident_service.timeline(session=session, incident=incident)) == count


def test_bad_eta_is_invalid(staffed, clock):
    session, alice, incident = staffed
    with pytest.raises(Invalid) as caught:
        _post(session, clock, alice, incident, eta="soon")
    assert caught.value.field == "eta"
    assert updates.list_updates(session=session, incident=incident) == []


def test_sev4_update_says_no_update_is_scheduled(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice, title="Typo", severity=4)
        update = _post(session, clock, alice, incident)
        assert update.next_update_due_at is None
        assert "Next update: none scheduled" in update.body
        assert "IC unassigned" in update.body


def test_custom_template_is_used_and_reset(staffed, clock):
    session, alice, incident = staffed
    row = updates.set_template(
        session=session,
        now=clock.now(),
        actor=alice,
        name=messages.INTERNAL_UPDATE,
        body="{{ ref }} [{{ severity }}] {{ phase }}: {{ theory or '?' }} / next {{ next_update }}",
    )
    assert row.updated_by_id == alice.id
    body, stored = updates.template_body(session=session, name=messages.INTERNAL_UPDATE)
    assert stored is row
    update = _post(session, clock, alice, incident, theory="bad deploy")
    assert update.body == (
        f"INC-{incident.id} [SEV-1] triage: bad deploy / next in 15m (10:15 UTC)"
    )
    updates.reset_template(session=session, name=messages.INTERNAL_UPDATE)
    body, stored = updates.template_body(session=session, name=messages.INTERNAL_UPDATE)
    assert stored is None
    assert body == messages.DEFAULT_TEMPLATES[messages.INTERNAL_UPDATE]
    assert _post(session, clock, alice, incident).body.startswith("[SEV-1]")


@pytest.mark.parametrize(
    "body", ["{{ theory ", "{{ nope }}", "{{ ''.__class__.__mro__ }}", "x" * 20_001]
)
def test_invalid_template_is_refused_and_the_old_one_kept(staffed, clock, body):
    session, alice, incident = staffed
    name = messages.INTERNAL_UPDATE
    updates.set_template(session=session, now=clock.now(), actor=alice, name=name, body="{{ ref }}")
    with pytest.raises(Invalid) as caught:
        updates.set_template(session=session, now=clock.now(), actor=alice, name=name, body=body)
    assert caught.value.field == "body"
    assert updates.template_body(session=session, name=name)[0] == "{{ ref }}"
    assert _post(session, clock, alice, incident).body == f"INC-{incident.id}"


def test_unknown_template_name_is_refused(staffed, clock):
    session, alice, _ = staffed
    with pytest.raises(Invalid) as caught:
        updates.set_template(session=session, now=clock.now(), actor=alice, name="x", body="hi")
    assert caught.value.field == "name"


def test_template_failing_on_real_data_still_posts_the_update(staffed, clock):
    session, alice, incident = staffed
    updates.set_template(
        session=session,
        now=clock.now(),
        actor=alice,
        name=messages.INTERNAL_UPDATE,
        body="{{ title }}: {{ 100 // theory|length }}",
    )
    update = _post(session, clock, alice, incident)  # theory is still empty
    assert "Checkout down" in update.body
