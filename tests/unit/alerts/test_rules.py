"""Pure alert decisions: dedup outcomes, routing rules, grouping, self-resolution."""

from __future__ import annotations

import re
from typing import Any

import pytest

from warroom.alerts.events import Action, AlertEvent, AlertSeverity
from warroom.alerts.rules import (
    AlertStatus,
    Matcher,
    Outcome,
    RoutingRule,
    decide,
    event_fields,
    place,
    route,
    rule_from,
    rule_problems,
    should_self_resolve,
)

T, A, R = Action.TRIGGER, Action.ACKNOWLEDGE, Action.RESOLVE
TRIGGERED, ACKED = AlertStatus.TRIGGERED, AlertStatus.ACKNOWLEDGED


def _event(severity: AlertSeverity = AlertSeverity.CRITICAL, **labels: str) -> AlertEvent:
    return AlertEvent(
        action=T,
        dedup_key="k",
        summary="Disk full on db1",
        source="db1",
        severity=severity,
        labels=labels,
    )


@pytest.mark.parametrize(
    ("action", "open_status", "outcome"),
    [
        (T, None, Outcome.NEW),
        (T, TRIGGERED, Outcome.BUMP),
        (T, ACKED, Outcome.BUMP),
        (A, None, Outcome.IGNORE),
        (A, TRIGGERED, Outcome.ACKNOWLEDGE),
        (A, ACKED, Outcome.IGNORE),
        (R, None, Outcome.IGNORE),
        (R, TRIGGERED, Outcome.RESOLVE),
        (R, ACKED, Outcome.RESOLVE),
    ],
)
def test_decide(action, open_status, outcome):
    assert decide(action, open_status) is outcome


@pytest.mark.parametrize(
    ("matcher", "fields", "expected"),
    [
        (Matcher("team", equals="db"), {"team": "db"}, True),
        (Matcher("team", equals="db"), {"team": "dba"}, False),
        (Matcher("team", equals="db"), {}, False),
        (Matcher("team", regex="d[bc]"), {"team": "db"}, True),
        (Matcher("team", regex="d[bc]"), {"team": "dbx"}, False),  # fullmatch, not search
        (Matcher("team", regex="d[bc]"), {"team": "xdb"}, False),
        (Matcher("team", regex=".*"), {}, False),
        (Matcher("team", regex=".*"), {"team": ""}, True),
        (Matcher("team", exists=True), {"team": ""}, True),
        (Matcher("team", exists=True), {}, False),
        (Matcher("team", exists=False), {}, True),
        (Matcher("team", exists=False), {"team": "db"}, False),
    ],
)
def test_matcher(matcher, fields, expected):
    assert matcher.matches(fields) is expected


def test_rule_from_full_shape():
    rule = rule_from(
        {
            "name": "db pages",
            "match": [
                {"label": "team", "equals": "db"},
                {"label": "instance", "regex": "db[0-9]+"},
                {"label": "silenced", "exists": False},
            ],
            "service": "database",
            "urgency": "low",
            "severity": 2,
            "declare": True,
            "drop": False,
        }
    )
    assert rule == RoutingRule(
        name="db pages",
        matchers=(
            Matcher("team", equals="db"),
            Matcher("instance", regex="db[0-9]+"),
            Matcher("silenced", exists=False),
        ),
        service="database",
        urgency="low",
        severity=2,
        declare=True,
        drop=False,
    )


def test_rule_from_defaults():
    assert rule_from({}) == RoutingRule(name="unnamed")
    assert rule_from({"match": [{"label": "n", "equals": 5}]}).matchers == (Matcher("n", "5"),)


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        ([], "must be an object"),
        ("rule", "must be an object"),
        ({"name": "x", "colour": "red", "when": 1}, "unknown keys: colour, when"),
        ({"match": {"label": "a", "equals": "b"}}, "'match' must be a list"),
        ({"match": [{"label": "a", "exists": True}] * 21}, "at most 20 conditions"),
        ({"match": ["team=db"]}, "each condition needs a 'label'"),
        ({"match": [{"equals": "db"}]}, "each condition needs a 'label'"),
        ({"match": [{"label": 5, "equals": "db"}]}, "each condition needs a 'label'"),
        ({"match": [{"label": "a"}]}, "needs exactly one of equals, regex, exists"),
        ({"match": [{"label": "a", "equals": "x", "regex": "x"}]}, "needs exactly one of"),
        ({"match": [{"label": "a", "regex": "("}]}, "bad regex for 'a'"),
        ({"match": [{"label": "a", "regex": "[z-a]"}]}, "bad regex for 'a'"),
        ({"match": [{"label": "a", "exists": "yes"}]}, "'exists' must be true or false"),
        ({"severity": 0}, "'severity' must be a level number"),
        ({"severity": 21}, "'severity' must be a level number"),
        ({"severity": "SEV-1"}, "'severity' must be a level number"),
        ({"urgency": "urgent"}, "'urgency' must be high or low"),
    ],
)
def test_rule_from_refuses_bad_shapes(item, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        rule_from(item)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"drop": "false"}, "'drop' must be true or false"),
        ({"declare": "no"}, "'declare' must be true or false"),
        ({"declare": 1}, "'declare' must be true or false"),
        ({"service": 5}, "'service' must be a service slug"),
        ({"severity": True}, "'severity' must be a level number such as 2"),
        ({"name": ["x"]}, "'name' must be a string"),
    ],
)
def test_rule_from_refuses_wrongly_typed_values(item, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        rule_from(item)


def test_rule_problems():
    assert rule_problems([]) == []
    assert rule_problems([{"name": "ok"}, {"drop": True}]) == []
    assert rule_problems({"name": "x"}) == ["rules must be a list of at most 100 objects"]
    assert rule_problems([{}] * 101) == ["rules must be a list of at most 100 objects"]
    problems = rule_problems(
        [{"name": "ok"}, {"bogus": 1}, {"match": [{"label": "a", "regex": "("}]}]
    )
    assert [p.split(":")[0] for p in problems] == ["rules[1]", "rules[2]"]
    assert "unknown keys: bogus" in problems[0]
    assert "bad regex" in problems[1]


RULES = [
    rule_from({"name": "drop-test", "match": [{"label": "env", "equals": "test"}], "drop": True}),
    rule_from({"name": "db", "match": [{"label": "instance", "regex": "db[0-9]+"}], "severity": 1}),
    rule_from({"name": "has-team", "match": [{"label": "team", "exists": True}]}),
    rule_from({"name": "no-team", "match": [{"label": "team", "exists": False}]}),
]


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"env": "test", "instance": "db1"}, "drop-test"),
        ({"env": "prod", "instance": "db1", "team": "x"}, "db"),
        ({"instance": "db1x", "team": "x"}, "has-team"),
        ({"instance": "web1"}, "no-team"),
    ],
)
def test_route_first_match_wins(labels, expected):
    rule = route(RULES, _event(**labels))
    assert rule is not None
    assert rule.name == expected


def test_route_without_a_match_or_rules():
    assert route([], _event()) is None
    assert route(RULES[:3], _event(instance="web1")) is None


def test_rule_with_no_conditions_matches_everything():
    catch_all = rule_from({"name": "all"})
    assert route([catch_all, *RULES], _event(env="test")) is catch_all


def test_route_can_match_summary_source_and_severity():
    by_source = rule_from({"name": "src", "match": [{"label": "source", "equals": "db1"}]})
    by_summary = rule_from({"name": "sum", "match": [{"label": "summary", "regex": "Disk.*"}]})
    by_sev = rule_from({"name": "sev", "match": [{"label": "severity", "equals": "info"}]})
    assert route([by_source], _event()) is by_source
    assert route([by_summary], _event()) is by_summary
    assert route([by_sev], _event(AlertSeverity.INFO)) is by_sev
    assert route([by_sev], _event(AlertSeverity.CRITICAL)) is None


def test_event_fields():
    assert event_fields(_event(team="db")) == {
        "summary": "Disk full on db1",
        "source": "db1",
        "severity": "critical",
        "team": "db",
    }


@pytest.mark.parametrize(
    ("severity", "level", "urgency"),
    [
        (AlertSeverity.CRITICAL, 2, "high"),
        (AlertSeverity.ERROR, 3, "high"),
        (AlertSeverity.WARNING, 3, "high"),
        (AlertSeverity.INFO, 4, "low"),
    ],
)
def test_place_new_incident_without_rule(severity, level, urgency):
    placement = place(_event(severity), None, service="checkout", open_incident=None)
    assert placement.join_incident is None
    assert (placement.severity, placement.urgency, placement.declare) == (level, urgency, False)
    assert placement.reason == "opened in detection: no open incident on service checkout"


def test_place_with_a_declaring_rule():
    rule = rule_from({"name": "pager", "severity": 1, "urgency": "low", "declare": True})
    placement = place(_event(), rule, service="checkout", open_incident=None)
    assert (placement.severity, placement.urgency, placement.declare) == (1, "low", True)
    assert placement.reason == "declared: no open incident on service checkout (rule 'pager')"


@pytest.mark.parametrize("declare", [False, True])
def test_place_joins_the_open_incident(declare):
    rule: Any = rule_from({"name": "r", "declare": declare})
    placement = place(_event(), rule, service="checkout", open_incident=7)
    assert placement.join_incident == 7
    assert placement.declare is False
    assert placement.reason == "joined INC-7: it is open on service checkout (rule 'r')"


def test_rule_without_severity_keeps_the_default():
    placement = place(_event(AlertSeverity.INFO), rule_from({}), service="s", open_incident=None)
    assert (placement.severity, placement.urgency) == (4, "low")


@pytest.mark.parametrize(
    ("phase", "acknowledged", "open_alerts", "enabled", "expected"),
    [
        ("detection", False, 0, True, True),
        ("detection", False, 1, True, False),
        ("detection", True, 0, True, False),
        ("detection", False, 0, False, False),
        ("triage", False, 0, True, False),
        ("investigating", False, 0, True, False),
        ("resolved", False, 0, True, False),
    ],
)
def test_should_self_resolve(phase, acknowledged, open_alerts, enabled, expected):
    assert (
        should_self_resolve(
            phase=phase, acknowledged=acknowledged, open_alerts=open_alerts, enabled=enabled
        )
        is expected
    )
