"""Declaring and acknowledging incidents (process.md §1-3)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import make_incident, make_service, make_user
from warroom.clock import FixedClock
from warroom.db.uow import unit_of_work
from warroom.errors import Conflict, Invalid, NotFound
from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident, TimelineEntry
from warroom.incidents.rules import Phase
from warroom.incidents.schemas import IncidentCreate
from warroom.users.models import User


def _declare(session: Session, clock: FixedClock, actor: User, **fields: Any) -> Incident:
    return incident_service.declare(
        session=session,
        now=clock.now(),
        actor=actor,
        incident_in=IncidentCreate(**{"title": "Checkout down", "severity": 1, **fields}),
    )


def _count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_declare_starts_in_triage_with_a_timeline_entry(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = _declare(session, clock, alice, customer_impact="payments fail")
        assert incident.phase == Phase.TRIAGE.value
        assert incident.declared_at == clock.now()
        assert incident.detection_at == clock.now()
        assert incident.triage_at == clock.now()
        assert incident.investigating_at is None
        assert incident.resolved_at is None
        assert incident.acknowledged_at is None
        assert incident.created_by_id == alice.id
        assert incident.customer_impact == "payments fail"
        assert incident.severity.name == "SEV-1"
        assert incident.severity_level == 1
        assert incident.version == 1
        entries = incident_service.timeline(session=session, incident=incident)
        assert [e.kind for e in entries] == ["declared"]
        declared = entries[0]
        assert declared.text == "Declared SEV-1: Checkout down"
        assert declared.actor_id == alice.id
        assert declared.at == clock.now()
        assert declared.data == {"severity": "SEV-1", "phase": "triage", "services": []}


@pytest.mark.parametrize(
    ("severity", "cadence"),
    [
        (1, timedelta(minutes=15)),
        ("SEV-2", timedelta(minutes=30)),
        ("sev3", timedelta(hours=1)),
        ("4", None),
    ],
)
def test_next_update_due_follows_the_severity_cadence(sessions, clock, severity, cadence):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = _declare(session, clock, alice, severity=severity)
        expected = clock.now() + cadence if cadence else None
        assert incident.next_update_due_at == expected


def test_declare_resolves_services_and_commander(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        bob = make_user(session, clock.now(), "bob")
        make_service(session, clock.now(), "checkout")
        make_service(session, clock.now(), "api")
        make_service(session, clock.now(), "search")
        incident = _declare(
            session, clock, alice, services=["checkout", "api", "checkout"], commander="@bob"
        )
        assert sorted(s.slug for s in incident.services) == ["api", "checkout"]
        assert incident.commander is bob
        entries = incident_service.timeline(session=session, incident=incident)
        assert [e.kind for e in entries] == ["declared", "role_assigned"]
        assert sorted(entries[0].data["services"]) == ["api", "checkout"]
        assert entries[1].data == {"role": "commander", "before": None, "after": "bob"}
        assert entries[1].text == "Incident Commander: @bob"
        ref = f"INC-{incident.id}"
    with unit_of_work(sessions, write=False) as session:
        loaded = incident_service.get_by_ref(session=session, ref=ref)
        assert [s.slug for s in loaded.services] == ["api", "checkout"]
        assert loaded.commander is not None
        assert loaded.commander.handle == "bob"


def test_declare_a_drill_says_so(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice, title="Game day", drill=True)
        assert incident.drill is True
        entry = incident_service.timeline(session=session, incident=incident)[0]
        assert entry.text == "Declared SEV-1 (drill): Game day"


@pytest.mark.parametrize(
    ("fields", "field", "name"),
    [
        ({"services": ["checkout", "nope"]}, "services", "'nope'"),
        ({"commander": "ghost"}, "commander", "'ghost'"),
        ({"severity": 9}, "severity", "9"),
        ({"severity": "SEV-7"}, "severity", "'SEV-7'"),
    ],
)
def test_unknown_reference_is_invalid_and_nothing_is_written(sessions, clock, fields, field, name):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        make_service(session, clock.now(), "checkout")
        before = _count(session, Incident), _count(session, TimelineEntry)
    with pytest.raises(Invalid) as caught, unit_of_work(sessions) as session:
        _declare(session, clock, alice, **fields)
    assert caught.value.field == field
    assert name in caught.value.message
    with unit_of_work(sessions, write=False) as session:
        assert (_count(session, Incident), _count(session, TimelineEntry)) == before


def test_inactive_commander_is_refused(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        bob = make_user(session, clock.now(), "bob")
        bob.active = False
        session.flush()
        with pytest.raises(Invalid) as caught:
            _declare(session, clock, alice, commander="bob")
        assert caught.value.field == "commander"


def test_get_by_ref_accepts_any_spelling_and_refuses_unknown(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice)
        for ref in (f"INC-{incident.id}", f"inc{incident.id}", str(incident.id)):
            assert incident_service.get_by_ref(session=session, ref=ref) is incident
        locked = incident_service.get_by_ref(
            session=session, ref=f"INC-{incident.id}", for_update=True
        )
        assert locked is incident
        with pytest.raises(NotFound, match=f"no incident INC-{incident.id + 1000}"):
            incident_service.get_by_ref(session=session, ref=f"INC-{incident.id + 1000}")


def test_acknowledge_once(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        bob = make_user(session, clock.now(), "bob")
        incident = make_incident(session, clock.now(), alice)
        clock.advance(timedelta(minutes=3))
        incident_service.acknowledge(session=session, now=clock.now(), actor=bob, incident=incident)
        assert incident.acknowledged_at == clock.now()
        assert incident.acknowledged_by is bob
        assert incident.version == 2
        assert incident.updated_at == clock.now()
        entry = incident_service.timeline(session=session, incident=incident)[-1]
        assert (entry.kind, entry.text, entry.actor_id) == (
            "acknowledged",
            "Acknowledged by @bob",
            bob.id,
        )
        acked_at = clock.now()
        clock.advance(timedelta(minutes=1))
        with pytest.raises(Conflict) as caught:
            incident_service.acknowledge(
                session=session, now=clock.now(), actor=alice, incident=incident
            )
        assert "already acknowledged by @bob" in caught.value.message
        assert incident.acknowledged_at == acked_at
        assert incident.acknowledged_by is bob
        kinds = [e.kind for e in incident_service.timeline(session=session, incident=incident)]
        assert kinds.count("acknowledged") == 1


def test_reference_beyond_the_id_range_is_not_found(sessions):
    with unit_of_work(sessions, write=False) as session, pytest.raises(NotFound):
        incident_service.get_by_ref(session=session, ref="INC-2147483648")
