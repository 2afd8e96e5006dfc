"""Phase and severity changes (process.md §1, §3): timestamps, cadence, timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_incident, make_user, postmortem_published
from warroom.clock import FixedClock
from warroom.db.uow import unit_of_work
from warroom.errors import Conflict, Invalid, InvalidTransition
from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident, TimelineEntry
from warroom.incidents.rules import Phase
from warroom.users.models import User

MIN = timedelta(minutes=1)


def _phase(
    session: Session,
    clock: FixedClock,
    actor: User,
    incident: Incident,
    phase: Phase,
    note: str = "",
) -> Incident:
    if phase is Phase.CLOSED:
        postmortem_published(incident)
    return incident_service.change_phase(
        session=session, now=clock.now(), actor=actor, incident=incident, phase=phase, note=note
    )


def _severity(
    session: Session,
    clock: FixedClock,
    actor: User,
    incident: Incident,
    severity: int | str,
    reason: str = "",
) -> Incident:
    return incident_service.change_severity(
        session=session,
        now=clock.now(),
        actor=actor,
        incident=incident,
        severity=severity,
        reason=reason,
    )


def _last(session: Session, incident: Incident) -> TimelineEntry:
    return incident_service.timeline(session=session, incident=incident)[-1]


def test_phase_change_is_recorded_with_who_and_when(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice)
        clock.advance(10 * MIN)
        _phase(session, clock, alice, incident, Phase.INVESTIGATING, note="looking at the DB")
        assert incident.phase == "investigating"
        assert incident.investigating_at == clock.now()
        assert incident.version == 2
        assert incident.updated_at == clock.now()
        entry = _last(session, incident)
        assert entry.kind == "phase_changed"
        assert entry.text == "Phase: triage → investigating (looking at the DB)"
        assert entry.data == {"before": "triage", "after": "investigating"}
        assert entry.actor_id == alice.id
        assert entry.at == clock.now()


def test_open_phases_keep_their_first_time_and_ended_ones_their_latest(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice)
        start = clock.now()
        clock.advance(5 * MIN)
        _phase(session, clock, alice, incident, Phase.INVESTIGATING)
        first_investigating = clock.now()
        clock.advance(5 * MIN)
        _phase(session, clock, alice, incident, Phase.MITIGATING)
        first_mitigating = clock.now()
        clock.advance(5 * MIN)
        _phase(session, clock, alice, incident, Phase.INVESTIGATING)  # the fix did not work
        clock.advance(5 * MIN)
        _phase(session, clock, alice, incident, Phase.MITIGATING)
        clock.advance(5 * MIN)
        _phase(session, clock, alice, incident, Phase.RESOLVED)
        first_resolved = clock.now()
        clock.advance(30 * MIN)
        _phase(session, clock, alice, incident, Phase.INVESTIGATING)  # reopened
        clock.advance(10 * MIN)
        _phase(session, clock, alice, incident, Phase.RESOLVED)
        assert incident.triage_at == start
        assert incident.investigating_at == first_investigating
        assert incident.mitigating_at == first_mitigating
        assert incident.resolved_at == clock.now()
        assert incident.resolved_at != first_resolved
        kinds = [e.kind for e in incident_service.timeline(session=session, incident=incident)]
        assert kinds.count("phase_changed") == 7


def test_next_update_due_is_cleared_on_resolution_and_reset_on_reopening(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice, severity=2)
        assert incident.next_update_due_at == clock.now() + 30 * MIN
        clock.advance(5 * MIN)
        _phase(session, clock, alice, incident, Phase.MITIGATING)
        assert incident.next_update_due_at == clock.now() - 5 * MIN + 30 * MIN  # unchanged
        clock.advance(5 * MIN)
        _phase(session, clock, alice, incident, Phase.RESOLVED)
        assert incident.next_update_due_at is None
        clock.advance(60 * MIN)
        _phase(session, clock, alice, incident, Phase.INVESTIGATING)
        assert incident.next_update_due_at == clock.now() + 30 * MIN


def test_closing_and_dismissal_clear_the_update_schedule(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        real = make_incident(session, clock.now(), alice)
        _phase(session, clock, alice, real, Phase.RESOLVED)
        clock.advance(MIN)
        _phase(session, clock, alice, real, Phase.CLOSED)
        assert real.closed_at == clock.now()
        assert real.next_update_due_at is None
        false_alarm = make_incident(session, clock.now(), alice, title="Blip", severity=3)
        _phase(session, clock, alice, false_alarm, Phase.DISMISSED)
        assert false_alarm.dismissed_at == clock.now()
        assert false_alarm.next_update_due_at is None
        clock.advance(MIN)
        _phase(session, clock, alice, false_alarm, Phase.TRIAGE)  # turned out real
        assert false_alarm.next_update_due_at == clock.now() + 60 * MIN


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], Phase.CLOSED),
        ([], Phase.TRIAGE),
        ([Phase.INVESTIGATING], Phase.DISMISSED),
        ([Phase.RESOLVED, Phase.CLOSED], Phase.INVESTIGATING),
        ([Phase.DISMISSED], Phase.RESOLVED),
    ],
)
def test_forbidden_phase_change_changes_nothing(sessions, clock, path, target):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice)
        for phase in path:
            _phase(session, clock, alice, incident, phase)
        before = (incident.phase, incident.version, _last(session, incident).id)
        clock.advance(MIN)
        with pytest.raises(InvalidTransition) as caught:
            _phase(session, clock, alice, incident, target)
        assert caught.value.field == "phase"
        assert (incident.phase, incident.version, _last(session, incident).id) == before


def test_severity_change_rederives_the_update_cadence(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice, severity=3)
        declared = clock.now()
        assert incident.next_update_due_at == declared + 60 * MIN
        clock.advance(5 * MIN)
        _severity(session, clock, alice, incident, "SEV-1", reason="payments down too")
        assert incident.severity.name == "SEV-1"
        assert incident.severity_level == 1
        # Counted from the last update (here: declaration) at the new cadence.
        assert incident.next_update_due_at == declared + 15 * MIN
        entry = _last(session, incident)
        assert entry.kind == "severity_changed"
        assert entry.text == "Severity: SEV-3 → SEV-1 (payments down too)"
        assert entry.data == {"before": "SEV-3", "after": "SEV-1"}
        assert entry.actor_id == alice.id
        clock.advance(5 * MIN)
        _severity(session, clock, alice, incident, 2)
        assert incident.next_update_due_at == declared + 30 * MIN
        assert incident.version == 3


def test_severity_without_cadence_stops_and_restarts_the_schedule(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice, severity=2)
        clock.advance(5 * MIN)
        _severity(session, clock, alice, incident, 4)
        assert incident.next_update_due_at is None
        clock.advance(5 * MIN)
        _severity(session, clock, alice, incident, 1)
        assert incident.next_update_due_at == clock.now() + 15 * MIN


def test_severity_change_on_a_resolved_incident_keeps_it_unscheduled(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice, severity=2)
        _phase(session, clock, alice, incident, Phase.RESOLVED)
        _severity(session, clock, alice, incident, 1)
        assert incident.next_update_due_at is None
        assert incident.severity_level == 1
        clock.advance(MIN)
        _phase(session, clock, alice, incident, Phase.INVESTIGATING)
        assert incident.next_update_due_at == clock.now() + 15 * MIN


def test_same_severity_is_a_conflict(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice, severity=2)
        due, version = incident.next_update_due_at, incident.version
        clock.advance(MIN)
        with pytest.raises(Conflict) as caught:
            _severity(session, clock, alice, incident, "sev-2")
        assert caught.value.field == "severity"
        assert "already SEV-2" in caught.value.message
        assert (incident.next_update_due_at, incident.version) == (due, version)
        assert _last(session, incident).kind == "declared"


def test_unknown_severity_is_invalid(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice, severity=2)
        with pytest.raises(Invalid) as caught:
            _severity(session, clock, alice, incident, "SEV-9")
        assert caught.value.field == "severity"
        assert incident.severity_level == 2
