"""Role assignment (process.md §2): every change on the timeline, IC-also-TL warned."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_incident, make_user
from warroom.clock import FixedClock
from warroom.db.uow import unit_of_work
from warroom.errors import Invalid
from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident, TimelineEntry
from warroom.incidents.schemas import RolesAssign
from warroom.users.models import User


@pytest.fixture
def team(sessions, clock):
    """Four people: alice declares, bob, carol and dave take roles."""
    with unit_of_work(sessions) as session:
        return {h: make_user(session, clock.now(), h) for h in ("alice", "bob", "carol", "dave")}


def _assign(
    session: Session, clock: FixedClock, actor: User, incident: Incident, **roles: str
) -> list[str]:
    return incident_service.assign_roles(
        session=session,
        now=clock.now(),
        actor=actor,
        incident=incident,
        roles_in=RolesAssign(**roles),
    )


def _entries(session: Session, incident: Incident, kind: str) -> list[TimelineEntry]:
    timeline = incident_service.timeline(session=session, incident=incident)
    return [e for e in timeline if e.kind == kind]


def test_each_role_change_is_on_the_timeline_with_before_and_after(sessions, clock, team):
    with unit_of_work(sessions) as session:
        alice = session.merge(team["alice"])
        incident = make_incident(session, clock.now(), alice, severity=2)
        clock.advance(timedelta(minutes=2))
        warnings = _assign(session, clock, alice, incident, commander="bob", tech_lead="@carol")
        assert warnings == []
        assert incident.commander is not None
        assert incident.commander.handle == "bob"
        assert incident.tech_lead is not None
        assert incident.tech_lead.handle == "carol"
        assert incident.comms is None
        assert incident.version == 2
        assert incident.updated_at == clock.now()
        assigned = _entries(session, incident, "role_assigned")
        assert [(e.data, e.text) for e in assigned] == [
            ({"role": "commander", "before": None, "after": "bob"}, "Incident Commander: @bob"),
            ({"role": "tech_lead", "before": None, "after": "carol"}, "Tech Lead: @carol"),
        ]
        assert all(e.actor_id == alice.id and e.at == clock.now() for e in assigned)

        clock.advance(timedelta(minutes=2))
        _assign(session, clock, alice, incident, commander="dave", comms="bob")
        assigned = _entries(session, incident, "role_assigned")[2:]
        assert [e.data for e in assigned] == [
            {"role": "commander", "before": "bob", "after": "dave"},
            {"role": "comms", "before": None, "after": "bob"},
        ]
        assert assigned[1].text == "Communications Lead: @bob"


def test_clearing_a_role_with_empty_handle(sessions, clock, team):
    with unit_of_work(sessions) as session:
        alice = session.merge(team["alice"])
        incident = make_incident(session, clock.now(), alice, severity=3)
        _assign(session, clock, alice, incident, commander="bob", comms="carol")
        _assign(session, clock, alice, incident, comms="")
        assert incident.comms is None
        assert incident.comms_id is None
        assert incident.commander is not None  # omitted roles are left alone
        last = _entries(session, incident, "role_assigned")[-1]
        assert last.data == {"role": "comms", "before": "carol", "after": None}
        assert last.text == "Communications Lead: unassigned"


def test_unchanged_assignment_records_nothing(sessions, clock, team):
    with unit_of_work(sessions) as session:
        alice = session.merge(team["alice"])
        incident = make_incident(session, clock.now(), alice, severity=3)
        _assign(session, clock, alice, incident, commander="bob")
        version = incident.version
        count = len(incident_service.timeline(session=session, incident=incident))
        clock.advance(timedelta(minutes=1))
        _assign(session, clock, alice, incident, commander="bob", tech_lead="")
        assert incident.version == version
        assert len(incident_service.timeline(session=session, incident=incident)) == count


@pytest.mark.parametrize("role", ["commander", "tech_lead", "comms"])
def test_unknown_handle_names_the_role(sessions, clock, team, role):
    with unit_of_work(sessions) as session:
        alice = session.merge(team["alice"])
        incident = make_incident(session, clock.now(), alice)
        roles = {"commander": "bob", "tech_lead": "carol", "comms": "dave", role: "ghost"}
        with pytest.raises(Invalid) as caught:
            _assign(session, clock, alice, incident, **roles)
        assert caught.value.field == role
        assert "'ghost'" in caught.value.message
        # The valid handles in the same request are not applied either.
        assert (incident.commander, incident.tech_lead, incident.comms) == (None, None, None)
        assert _entries(session, incident, "role_assigned") == []


@pytest.mark.parametrize("severity", [1, 2])
def test_ic_also_tech_lead_on_high_severity_warns_on_the_timeline(sessions, clock, team, severity):
    with unit_of_work(sessions) as session:
        alice = session.merge(team["alice"])
        incident = make_incident(session, clock.now(), alice, severity=severity)
        warnings = _assign(session, clock, alice, incident, commander="bob", tech_lead="bob")
        assert len(warnings) == 1
        assert "also the Tech Lead" in warnings[0]
        assert incident_service.role_warnings(incident) == warnings
        recorded = _entries(session, incident, "warning")
        assert len(recorded) == 1
        assert recorded[0].text == warnings[0]
        assert recorded[0].data == {"warning": "ic_also_tech_lead"}
        assert recorded[0].actor_id is None


def test_ic_also_tech_lead_warns_when_the_second_role_arrives_later(sessions, clock, team):
    with unit_of_work(sessions) as session:
        alice = session.merge(team["alice"])
        incident = make_incident(session, clock.now(), alice, severity=1)
        assert _assign(session, clock, alice, incident, commander="bob") == []
        assert _entries(session, incident, "warning") == []
        assert len(_assign(session, clock, alice, incident, tech_lead="bob")) == 1
        assert len(_entries(session, incident, "warning")) == 1
        # Handing the tech lead role to someone else clears the warning.
        assert _assign(session, clock, alice, incident, tech_lead="carol") == []
        assert incident_service.role_warnings(incident) == []
        assert len(_entries(session, incident, "warning")) == 1


@pytest.mark.parametrize("severity", [3, 4])
def test_ic_also_tech_lead_on_low_severity_is_fine(sessions, clock, team, severity):
    with unit_of_work(sessions) as session:
        alice = session.merge(team["alice"])
        incident = make_incident(session, clock.now(), alice, severity=severity)
        warnings = _assign(session, clock, alice, incident, commander="bob", tech_lead="bob")
        assert warnings == []
        assert _entries(session, incident, "warning") == []
        assert len(_entries(session, incident, "role_assigned")) == 2
