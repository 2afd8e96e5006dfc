"""Descriptive fields, affected services, notes and the timeline's order."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_incident, make_service, make_user
from warroom.clock import FixedClock
from warroom.db.uow import unit_of_work
from warroom.errors import Invalid
from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident, TimelineEntry
from warroom.incidents.rules import Phase
from warroom.incidents.schemas import IncidentPatch, NoteCreate
from warroom.users.models import User

MIN = timedelta(minutes=1)


def _patch(
    session: Session, clock: FixedClock, actor: User, incident: Incident, **fields: Any
) -> Incident:
    return incident_service.update_fields(
        session=session,
        now=clock.now(),
        actor=actor,
        incident=incident,
        patch=IncidentPatch(**fields),
    )


def _note(
    session: Session, clock: FixedClock, actor: User, incident: Incident, text: str, **extra: Any
) -> TimelineEntry:
    return incident_service.add_note(
        session=session,
        now=clock.now(),
        actor=actor,
        incident=incident,
        note_in=NoteCreate(text=text, **extra),
    )


def _timeline(session: Session, incident: Incident) -> list[TimelineEntry]:
    return incident_service.timeline(session=session, incident=incident)


def test_field_changes_record_before_and_after(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice)
        clock.advance(MIN)
        _patch(
            session,
            clock,
            alice,
            incident,
            title="Checkout failing for EU",
            current_theory="DB pool exhausted",
        )
        assert incident.title == "Checkout failing for EU"
        assert incident.current_theory == "DB pool exhausted"
        assert incident.version == 3  # one bump per changed field
        assert incident.updated_at == clock.now()
        changed = [e for e in _timeline(session, incident) if e.kind == "field_changed"]
        assert [(e.data, e.text) for e in changed] == [
            (
                {"field": "title", "before": "Checkout down", "after": "Checkout failing for EU"},
                "Title: Checkout failing for EU",
            ),
            (
                {"field": "current_theory", "before": "", "after": "DB pool exhausted"},
                "Current theory: DB pool exhausted",
            ),
        ]
        assert all(e.actor_id == alice.id for e in changed)


def test_unchanged_fields_record_nothing(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice)
        _patch(session, clock, alice, incident, next_action="roll back")
        version, count = incident.version, len(_timeline(session, incident))
        clock.advance(MIN)
        _patch(session, clock, alice, incident, title="  Checkout down ", next_action="roll back")
        assert incident.version == version
        assert len(_timeline(session, incident)) == count


def test_null_field_is_invalid(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice)
        with pytest.raises(Invalid) as caught:
            _patch(session, clock, alice, incident, customer_impact=None)
        assert caught.value.field == "customer_impact"
        assert incident.customer_impact == ""


def test_services_changes_record_before_and_after(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        for slug in ("api", "checkout", "search"):
            make_service(session, clock.now(), slug)
        incident = make_incident(session, clock.now(), alice, services=["checkout"])
        clock.advance(MIN)
        _patch(session, clock, alice, incident, services=["checkout", "api"])
        assert sorted(s.slug for s in incident.services) == ["api", "checkout"]
        entry = _timeline(session, incident)[-1]
        assert entry.kind == "services_changed"
        assert entry.data == {"before": ["checkout"], "after": ["checkout", "api"]}
        assert entry.text == "Affected services: checkout, api"
        version, count = incident.version, len(_timeline(session, incident))
        # Same set in another order: nothing to record.
        incident_service.set_services(
            session=session,
            now=clock.now(),
            actor=alice,
            incident=incident,
            slugs=["api", "checkout"],
        )
        assert (incident.version, len(_timeline(session, incident))) == (version, count)
        incident_service.set_services(
            session=session, now=clock.now(), actor=alice, incident=incident, slugs=[]
        )
        session.flush()
        assert incident.services == []
        entry = _timeline(session, incident)[-1]
        assert entry.text == "Affected services: none"
        assert sorted(entry.data["before"]) == ["api", "checkout"]
        assert entry.data["after"] == []


def test_unknown_service_is_invalid_and_keeps_the_old_set(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        make_service(session, clock.now(), "checkout")
        incident = make_incident(session, clock.now(), alice, services=["checkout"])
        with pytest.raises(Invalid) as caught:
            _patch(session, clock, alice, incident, services=["checkout", "nope"])
        assert caught.value.field == "services"
        assert [s.slug for s in incident.services] == ["checkout"]


def test_note_dated_earlier_sorts_by_event_time(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        declared = clock.now()
        incident = make_incident(session, clock.now(), alice)
        clock.advance(10 * MIN)
        incident_service.change_phase(
            session=session,
            now=clock.now(),
            actor=alice,
            incident=incident,
            phase=Phase.INVESTIGATING,
        )
        clock.advance(10 * MIN)
        note = _note(session, clock, alice, incident, "deploy 4512 went out", at=declared + 5 * MIN)
        earlier = _note(session, clock, alice, incident, "first 500s", at=declared - 3 * MIN)
        plain = _note(session, clock, alice, incident, "paged the DBA")
        assert note.at == declared + 5 * MIN
        assert note.recorded_at == clock.now()
        assert note.kind == "note"
        assert plain.at == clock.now()
        assert [e.text for e in _timeline(session, incident)] == [
            "first 500s",
            "Declared SEV-1: Checkout down",
            "deploy 4512 went out",
            "Phase: triage → investigating",
            "paged the DBA",
        ]
        assert earlier.id > note.id


def test_entries_at_the_same_time_keep_their_recording_order(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice)
        for text in ("one", "two", "three"):
            _note(session, clock, alice, incident, text)
        assert [e.text for e in _timeline(session, incident)][1:] == ["one", "two", "three"]


def test_future_note_is_refused_beyond_clock_skew(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice)
        count = len(_timeline(session, incident))
        with pytest.raises(Invalid) as caught:
            _note(session, clock, alice, incident, "later", at=clock.now() + timedelta(hours=1))
        assert caught.value.field == "at"
        assert "future" in caught.value.message
        assert len(_timeline(session, incident)) == count
        # A clock a minute ahead of the server is tolerated.
        slightly_ahead = _note(session, clock, alice, incident, "ok", at=clock.now() + MIN)
        assert slightly_ahead.at == clock.now() + MIN


def test_naive_note_time_is_refused(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice)
        naive = datetime(2026, 11, 27, 9, 55)
        with pytest.raises(Invalid) as caught:
            _note(session, clock, alice, incident, "when?", at=naive)
        assert caught.value.field == "at"
        assert "time zone" in caught.value.message


def test_correction_references_an_entry_of_the_same_incident(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice)
        other = make_incident(session, clock.now(), alice, title="Search slow", severity=3)
        wrong = _note(session, clock, alice, incident, "rolled back 4511")
        clock.advance(MIN)
        fix = _note(session, clock, alice, incident, "it was 4512", corrects=wrong.id)
        assert fix.kind == "correction"
        assert fix.corrects_id == wrong.id
        assert wrong.text == "rolled back 4511"  # the original stays: the timeline is append-only
        foreign = _timeline(session, other)[0]
        for target in (foreign.id, fix.id + 1000):
            with pytest.raises(Invalid) as caught:
                _note(session, clock, alice, incident, "nope", corrects=target)
            assert caught.value.field == "corrects"
            assert str(target) in caught.value.message
        kinds = [e.kind for e in _timeline(session, incident)]
        assert kinds == ["declared", "note", "correction"]


def test_note_bumps_the_incident_version(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice)
        clock.advance(MIN)
        _note(session, clock, alice, incident, "hello")
        assert incident.version == 2
        assert incident.updated_at == clock.now()
