"""Severity levels stored per organisation (process.md §1: "These are defaults")."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import make_incident, make_user
from warroom.db.uow import unit_of_work
from warroom.errors import Conflict, Invalid, NotFound
from warroom.incidents import service as incident_service
from warroom.incidents import severities
from warroom.incidents.rules import DEFAULT_SEVERITIES
from warroom.incidents.schemas import SeverityWrite


def test_migration_seeds_the_process_defaults(sessions):
    with unit_of_work(sessions, write=False) as session:
        assert severities.policies(session=session) == list(DEFAULT_SEVERITIES)
        assert [r.level for r in severities.list_severities(session=session)] == [1, 2, 3, 4]


@pytest.mark.parametrize(("value", "level"), [(1, 1), ("2", 2), ("SEV-3", 3), ("sev4", 4)])
def test_resolve(sessions, value, level):
    with unit_of_work(sessions, write=False) as session:
        assert severities.resolve(session=session, value=value).level == level


def test_resolve_unknown_is_invalid(sessions):
    with unit_of_work(sessions, write=False) as session, pytest.raises(Invalid) as caught:
        severities.resolve(session=session, value="SEV-5")
    assert caught.value.field == "severity"


def test_overridden_cadence_applies_to_newly_declared_incidents(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        before = make_incident(session, clock.now(), alice, title="before")
        row = severities.put(
            session=session,
            level=1,
            severity_in=SeverityWrite(
                name="SEV-1",
                description="Everything is on fire",
                ack_target_seconds=120,
                update_cadence_seconds=600,
                postmortem_required=True,
            ),
        )
        assert row.update_cadence_seconds == 600
        after = make_incident(session, clock.now(), alice, title="after")
        assert after.next_update_due_at == clock.now() + timedelta(minutes=10)
        assert before.next_update_due_at == clock.now() + timedelta(minutes=15)
        policy = severities.policy_of(severities.get_or_404(session=session, level=1))
        assert policy.ack_target == timedelta(minutes=2)
        assert policy.description == "Everything is on fire"


def test_removing_a_cadence_stops_scheduling_updates(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        severities.put(
            session=session,
            level=3,
            severity_in=SeverityWrite(name="SEV-3", ack_target_seconds=3600),
        )
        incident = make_incident(session, clock.now(), alice, severity=3)
        assert incident.next_update_due_at is None


def test_renamed_and_added_levels_resolve(sessions, clock):
    with unit_of_work(sessions) as session:
        severities.put(session=session, level=1, severity_in=SeverityWrite(name="Critical"))
        severities.put(
            session=session,
            level=5,
            severity_in=SeverityWrite(name="SEV-5", ack_next_business_day=True),
        )
        assert severities.resolve(session=session, value="critical").level == 1
        assert severities.resolve(session=session, value="5").name == "SEV-5"
        assert [r.name for r in severities.list_severities(session=session)] == [
            "Critical",
            "SEV-2",
            "SEV-3",
            "SEV-4",
            "SEV-5",
        ]
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice, severity="SEV-5")
        assert incident.severity_level == 5
        assert incident.next_update_due_at is None


def test_duplicate_name_is_a_conflict(sessions):
    with unit_of_work(sessions) as session:
        with pytest.raises(Conflict) as caught:
            severities.put(session=session, level=3, severity_in=SeverityWrite(name="SEV-1"))
        assert caught.value.field == "name"
        assert "level 1" in caught.value.message
        assert severities.get_or_404(session=session, level=3).name == "SEV-3"
        # Keeping a level's own name is not a clash.
        severities.put(session=session, level=3, severity_in=SeverityWrite(name="SEV-3"))


def test_get_unknown_level_is_not_found(sessions):
    with unit_of_work(sessions, write=False) as session, pytest.raises(NotFound):
        severities.get_or_404(session=session, level=9)


def test_severity_change_after_a_cadence_override_counts_from_the_last_update(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        declared = clock.now()
        incident = make_incident(session, clock.now(), alice, severity=1)  # due at +15m
        severities.put(
            session=session,
            level=1,
            severity_in=SeverityWrite(name="SEV-1", update_cadence_seconds=300),
        )
        clock.advance(timedelta(minutes=1))
        incident_service.change_severity(
            session=session, now=clock.now(), actor=alice, incident=incident, severity=2
        )
        assert incident.next_update_due_at == declared + timedelta(minutes=30)
