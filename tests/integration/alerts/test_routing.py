"""Routing rules of the integration and of its service, applied by service.ingest."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.alerts.world import World, event
from warroom.alerts import integrations, reports
from warroom.alerts.events import AlertSeverity
from warroom.alerts.formats import parse_pagerduty
from warroom.alerts.rules import Outcome
from warroom.db.uow import unit_of_work
from warroom.errors import Invalid


def _integration_rules(world: World, rules: list[dict[str, Any]]) -> None:
    with unit_of_work(world.sessions) as session:
        found = integrations.get_or_404(session=session, integration_id=world.checkout)
        integrations.update(session=session, integration=found, rules_json=rules)


def _service_rules(world: World, rules: list[dict[str, Any]], slug: str = "checkout") -> None:
    with unit_of_work(world.sessions) as session:
        reports.put_settings(
            session=session, service_slug=slug, rules_json=rules, auto_resolve=True
        )


def _when(label: str, value: str) -> list[dict[str, str]]:
    return [{"label": label, "equals": value}]


def test_drop_rule_stores_nothing(world: World):
    _integration_rules(world, [{"name": "no-test", "match": _when("env", "test"), "drop": True}])
    result = world.ingest(event(env="test"))
    assert (result.outcome, result.alert_id, result.incident_ref) == (Outcome.DROP, None, None)
    assert world.alerts() == []
    assert world.incidents() == []
    assert world.ingest(event(env="prod")).outcome is Outcome.NEW


def test_rule_routes_to_another_service(world: World):
    _integration_rules(
        world, [{"name": "to-search", "match": _when("team", "search"), "service": "search"}]
    )
    result = world.ingest(event(team="search"))
    [alert] = world.alerts()
    [incident] = world.incidents()
    assert alert["service"] == "search"
    assert incident["services"] == ["search"]
    assert alert["matched_rule"] == "to-search"
    assert alert["grouping_reason"] == (
        "opened in detection: no open incident on service search (rule 'to-search')"
    )
    assert result.incident_ref == f"INC-{incident['id']}"


def test_routed_alert_joins_the_target_services_open_incident(world: World):
    world.ingest(event(key="x"), world.search)
    _integration_rules(world, [{"name": "to-search", "service": "search"}])
    world.ingest(event(key="y"))
    [incident] = world.incidents()
    assert [a["incident_id"] for a in world.alerts()] == [incident["id"]] * 2


def test_rule_naming_an_unknown_service_keeps_the_integrations_service(world: World):
    _integration_rules(world, [{"name": "gone", "service": "no-such-service"}])
    world.ingest(event())
    assert world.alerts()[0]["service"] == "checkout"
    assert world.alerts()[0]["matched_rule"] == "gone"


def test_rule_sets_severity_and_urgency(world: World):
    _integration_rules(world, [{"name": "sev1", "severity": 1, "urgency": "low"}])
    world.ingest(event(severity=AlertSeverity.INFO))
    assert world.incidents()[0]["severity_level"] == 1
    assert world.incidents()[0]["phase"] == "detection"
    assert world.alerts()[0]["urgency"] == "low"


@pytest.mark.parametrize(
    ("severity", "level", "urgency"),
    [
        (AlertSeverity.CRITICAL, 2, "high"),
        (AlertSeverity.ERROR, 3, "high"),
        (AlertSeverity.WARNING, 3, "high"),
        (AlertSeverity.INFO, 4, "low"),
    ],
)
def test_without_rules_the_alert_severity_decides(world: World, severity, level, urgency):
    world.ingest(event(severity=severity))
    assert world.incidents()[0]["severity_level"] == level
    assert world.alerts()[0]["urgency"] == urgency


def test_declare_rule_opens_in_triage_with_its_severity(world: World):
    _service_rules(
        world,
        [
            {
                "name": "page-now",
                "match": _when("severity", "critical"),
                "declare": True,
                "severity": 1,
            }
        ],
    )
    world.ingest(event())
    [incident] = world.incidents()
    assert (incident["phase"], incident["severity_level"]) == ("triage", 1)
    [alert] = world.alerts()
    assert alert["matched_rule"] == "page-now"
    assert alert["grouping_reason"].startswith("declared: no open incident on service checkout")
    assert [kind for kind, _ in world.timeline(incident["id"])] == ["declared", "alert_triggered"]


def test_declare_rule_still_joins_an_open_incident(world: World):
    world.ingest(event(key="first"))
    _service_rules(world, [{"name": "page-now", "declare": True, "severity": 1}])
    world.ingest(event(key="second"))
    [incident] = world.incidents()
    assert (incident["phase"], incident["severity_level"]) == ("detection", 2)


def test_integration_rules_come_before_service_rules(world: World):
    _integration_rules(
        world, [{"name": "integration-rule", "match": _when("team", "db"), "severity": 4}]
    )
    _service_rules(world, [{"name": "service-rule", "severity": 1}])
    world.ingest(event(key="db", team="db"))
    world.ingest(event(key="other", team="web"), world.checkout)
    rules_seen = [a["matched_rule"] for a in world.alerts()]
    assert rules_seen == ["integration-rule", "service-rule"]
    assert world.incidents()[0]["severity_level"] == 4


def test_service_rules_apply_to_every_integration_of_the_service(world: World):
    _service_rules(world, [{"name": "drop-all", "drop": True}], slug="search")
    assert world.ingest(event(), world.search).outcome is Outcome.DROP
    assert world.ingest(event()).outcome is Outcome.NEW


def test_regex_and_exists_rules(world: World):
    _integration_rules(
        world,
        [
            {"name": "db-hosts", "match": [{"label": "host", "regex": "db[0-9]+"}], "severity": 1},
            {"name": "no-host", "match": [{"label": "host", "exists": False}], "drop": True},
        ],
    )
    assert world.ingest(event(key="a", host="db12")).outcome is Outcome.NEW
    assert world.ingest(event(key="b", host="db12-replica")).outcome is Outcome.NEW
    assert world.ingest(event(key="c")).outcome is Outcome.DROP
    assert [a["matched_rule"] for a in world.alerts()] == ["db-hosts", None]


def test_resolve_of_an_open_alert_is_not_dropped_by_a_drop_rule(world: World):
    _integration_rules(
        world, [{"name": "drop-errors", "match": _when("severity", "error"), "drop": True}]
    )
    assert world.ingest(event(severity=AlertSeverity.CRITICAL)).outcome is Outcome.NEW
    _, resolve = parse_pagerduty(
        {"routing_key": "k", "event_action": "resolve", "dedup_key": "disk-full-db1"}
    )
    assert world.ingest(resolve).outcome is Outcome.RESOLVE
    assert world.alerts()[0]["status"] == "resolved"


def test_bad_service_rules_are_refused(world: World):
    with pytest.raises(Invalid) as caught:
        _service_rules(world, [{"match": [{"label": "a", "regex": "(("}]}])
    assert caught.value.field == "rules"
    with unit_of_work(world.sessions, write=False) as session:
        assert reports.get_settings(session=session, service_slug="checkout") == (
            "checkout",
            [],
            True,
        )


def test_rule_naming_a_missing_severity_level_opens_at_the_least_severe(world: World):
    _integration_rules(world, [{"name": "sev9", "severity": 9}])
    assert world.ingest(event()).outcome is Outcome.NEW
    [incident] = world.incidents()
    assert incident["severity_level"] == 4
    assert world.alerts()[0]["matched_rule"] == "sev9"
