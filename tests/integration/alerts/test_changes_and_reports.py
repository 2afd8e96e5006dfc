"""Change events before an incident, customer reports, and per-service alert settings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.alerts.world import World, event
from warroom.alerts import queries as alert_queries
from warroom.alerts import reports
from warroom.alerts.events import ChangeEvent
from warroom.alerts.models import Integration
from warroom.db.uow import unit_of_work
from warroom.errors import Invalid
from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident
from warroom.incidents.rules import Phase
from warroom.users.models import User

HOUR = timedelta(hours=1)


def _change(world: World, summary: str, at_offset: timedelta | None, integration_id: int = 0):
    with unit_of_work(world.sessions) as session:
        found = session.get(Integration, integration_id or world.checkout)
        assert found is not None
        change = ChangeEvent(
            summary=summary,
            source="ci",
            occurred_at=None if at_offset is None else world.clock.now() + at_offset,
            details={"sha": "abc"},
            links=[{"href": "https://ci.example/1"}],
        )
        row = alert_queries.record_change(
            session=session, now=world.clock.now(), integration=found, change=change
        )
        return row.id, row.occurred_at, row.received_at


def _changes_before(world: World, incident_id: int, window: timedelta) -> list[str]:
    with unit_of_work(world.sessions, write=False) as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        rows = alert_queries.changes_before(session=session, incident=incident, window=window)
        return [r.summary for r in rows]


def _report(world: World, text: str, slug: str | None, reporter: str = ""):
    with unit_of_work(world.sessions) as session:
        actor = session.get(User, world.user_id)
        assert actor is not None
        incident, joined = reports.report(
            session=session,
            now=world.clock.now(),
            actor=actor,
            text=text,
            service_slug=slug,
            reporter=reporter,
        )
        return incident.id, joined


def test_record_change_defaults_to_now(world: World):
    _, occurred, received = _change(world, "deploy", None)
    assert occurred == received == world.clock.now()
    _, occurred, received = _change(world, "older deploy", -HOUR)
    assert (occurred, received) == (world.clock.now() - HOUR, world.clock.now())


def test_changes_before_an_incident_within_the_window(world: World):
    _change(world, "7h before", -7 * HOUR)
    _change(world, "5h before", -5 * HOUR)
    _change(world, "on the other service", -HOUR, world.search)
    _change(world, "just before", -timedelta(minutes=1))
    _change(world, "at the same moment", timedelta(0))
    _change(world, "after", timedelta(minutes=1))
    incident_id = int(world.ingest(event()).incident_ref.removeprefix("INC-"))  # type: ignore[union-attr]
    assert _changes_before(world, incident_id, 6 * HOUR) == [
        "at the same moment",
        "just before",
        "5h before",
    ]
    assert _changes_before(world, incident_id, 8 * HOUR)[-1] == "7h before"
    assert _changes_before(world, incident_id, timedelta(seconds=30)) == ["at the same moment"]


def test_changes_of_an_incident_without_services(world: World):
    _change(world, "deploy", -HOUR)
    incident_id, _ = _report(world, "site is slow", None)
    assert _changes_before(world, incident_id, 6 * HOUR) == []


def test_list_changes_newest_first(world: World):
    _change(world, "older", -2 * HOUR)
    _change(world, "newer", -HOUR)
    _change(world, "other service", -HOUR, world.search)
    with unit_of_work(world.sessions, write=False) as session:
        rows = alert_queries.list_changes(session=session, service="checkout")
        assert [r.summary for r in rows] == ["newer", "older"]
        with pytest.raises(Invalid):
            alert_queries.list_changes(session=session, service="nope")


def test_report_opens_a_detection_incident(world: World):
    incident_id, joined = _report(
        world, "Checkout button does nothing\nmore detail", "checkout", "Ann (ticket 42)"
    )
    assert joined is False
    [incident] = world.incidents()
    assert incident["id"] == incident_id
    assert incident["phase"] == "detection"
    assert incident["title"] == "Customer report: Checkout button does nothing"
    assert incident["severity_level"] == 3
    assert incident["services"] == ["checkout"]
    kind, text = world.timeline(incident_id)[-1]
    assert kind == "customer_report"
    assert text == "Customer report from Ann (ticket 42): Checkout button does nothing\nmore detail"


def test_report_without_service_opens_an_incident_without_services(world: World):
    world.ingest(event())
    incident_id, joined = _report(world, "something is off", None)
    assert joined is False
    assert world.incidents()[-1]["services"] == []
    assert len(world.incidents()) == 2
    assert incident_id == world.incidents()[-1]["id"]


def test_report_joins_the_open_incident_of_the_service(world: World):
    ref = world.ingest(event()).incident_ref
    incident_id, joined = _report(world, "customers see errors", "checkout")
    assert joined is True
    assert f"INC-{incident_id}" == ref
    assert len(world.incidents()) == 1
    kind, text = world.timeline(incident_id)[-1]
    assert (kind, text) == ("customer_report", "Customer report: customers see errors")


def test_report_does_not_join_a_resolved_incident(world: World):
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
    _, joined = _report(world, "still broken", "checkout")
    assert joined is False
    assert len(world.incidents()) == 2


def test_report_on_an_unknown_service(world: World):
    with pytest.raises(Invalid) as caught:
        _report(world, "help", "nope")
    assert caught.value.field == "service"
    assert world.incidents() == []


def test_settings_defaults_and_replacement(world: World):
    rules = [{"name": "r", "match": [{"label": "team", "equals": "db"}], "severity": 1}]
    with unit_of_work(world.sessions) as session:
        assert reports.get_settings(session=session, service_slug="checkout") == (
            "checkout",
            [],
            True,
        )
        reports.put_settings(
            session=session, service_slug="checkout", rules_json=rules, auto_resolve=False
        )
    with unit_of_work(world.sessions) as session:
        assert reports.get_settings(session=session, service_slug="checkout") == (
            "checkout",
            rules,
            False,
        )
        reports.put_settings(
            session=session, service_slug="checkout", rules_json=[], auto_resolve=True
        )
        assert reports.get_settings(session=session, service_slug="checkout") == (
            "checkout",
            [],
            True,
        )
        with pytest.raises(Invalid):
            reports.get_settings(session=session, service_slug="nope")
