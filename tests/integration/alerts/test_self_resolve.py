"""A detection incident resolves itself when all its alerts resolve before anyone acks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.alerts.world import World, event
from warroom.alerts import reports
from warroom.alerts.events import Action
from warroom.alerts.rules import Outcome
from warroom.db.uow import unit_of_work
from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident
from warroom.incidents.rules import Phase
from warroom.users.models import User

MIN = timedelta(minutes=1)


def _auto_resolve(world: World, slug: str, enabled: bool) -> None:
    with unit_of_work(world.sessions) as session:
        reports.put_settings(
            session=session, service_slug=slug, rules_json=[], auto_resolve=enabled
        )


def test_incident_resolves_when_its_last_alert_resolves(world: World):
    world.ingest(event(key="a"))
    world.ingest(event(key="b"))
    world.clock.advance(MIN)
    world.ingest(event(Action.RESOLVE, "a"))
    [incident] = world.incidents()
    assert incident["phase"] == "detection"
    world.clock.advance(MIN)
    world.ingest(event(Action.RESOLVE, "b"))
    [incident] = world.incidents()
    assert incident["phase"] == "resolved"
    # The change is last but for the postmortem a SEV-1/2 owes (drafted right after).
    entries = [e for e in world.timeline(incident["id"]) if e[0] != "postmortem_drafted"]
    kind, text = entries[-1]
    assert kind == "phase_changed"
    assert text == (
        "Phase: detection → resolved (all its alerts resolved before anyone acknowledged)"
    )
    with unit_of_work(world.sessions, write=False) as session:
        row = session.get(Incident, incident["id"])
        assert row is not None
        assert row.resolved_at == world.clock.now()


def test_next_trigger_after_self_resolution_opens_a_new_incident(world: World):
    world.ingest(event())
    world.ingest(event(Action.RESOLVE))
    result = world.ingest(event())
    assert result.outcome is Outcome.NEW
    first, second = world.incidents()
    assert (first["phase"], second["phase"]) == ("resolved", "detection")
    assert result.incident_ref == f"INC-{second['id']}"


def test_no_self_resolution_once_acknowledged_by_the_alert(world: World):
    world.ingest(event())
    world.ingest(event(Action.ACKNOWLEDGE))
    world.ingest(event(Action.RESOLVE))
    assert world.alerts()[0]["status"] == "resolved"
    assert world.incidents()[0]["phase"] == "detection"


def test_no_self_resolution_once_a_person_acked(world: World):
    world.ingest(event())
    with unit_of_work(world.sessions) as session:
        incident = session.get(Incident, world.incidents()[0]["id"])
        assert incident is not None
        incident_service.acknowledge(
            session=session,
            now=world.clock.now(),
            actor=session.get(User, world.user_id),
            incident=incident,
        )
    world.ingest(event(Action.RESOLVE))
    assert world.incidents()[0]["phase"] == "detection"


@pytest.mark.parametrize("phase", [Phase.TRIAGE, Phase.INVESTIGATING])
def test_no_self_resolution_past_detection(world: World, phase: Phase):
    world.ingest(event())
    with unit_of_work(world.sessions) as session:
        incident = session.get(Incident, world.incidents()[0]["id"])
        assert incident is not None
        incident_service.change_phase(
            session=session, now=world.clock.now(), actor=None, incident=incident, phase=phase
        )
    world.ingest(event(Action.RESOLVE))
    assert world.incidents()[0]["phase"] == phase.value


def test_no_self_resolution_when_the_service_turned_it_off(world: World):
    _auto_resolve(world, "checkout", enabled=False)
    world.ingest(event())
    world.ingest(event(Action.RESOLVE))
    assert world.alerts()[0]["status"] == "resolved"
    assert world.incidents()[0]["phase"] == "detection"


def test_turning_it_back_on(world: World):
    _auto_resolve(world, "checkout", enabled=False)
    _auto_resolve(world, "checkout", enabled=True)
    world.ingest(event())
    world.ingest(event(Action.RESOLVE))
    assert world.incidents()[0]["phase"] == "resolved"


def test_other_services_setting_does_not_matter(world: World):
    _auto_resolve(world, "search", enabled=False)
    world.ingest(event())
    world.ingest(event(Action.RESOLVE))
    assert world.incidents()[0]["phase"] == "resolved"


def test_resolving_an_alert_of_an_incident_a_person_resolved(world: World):
    world.ingest(event())
    with unit_of_work(world.sessions) as session:
        incident = session.get(Incident, world.incidents()[0]["id"])
        assert incident is not None
        incident_service.change_phase(
            session=session,
            now=world.clock.now(),
            actor=None,
            incident=incident,
            phase=Phase.RESOLVED,
        )
    assert world.ingest(event(Action.RESOLVE)).outcome is Outcome.RESOLVE
    assert world.incidents()[0]["phase"] == "resolved"
    assert world.timeline(world.incidents()[0]["id"])[-1][0] == "alert_resolved"
