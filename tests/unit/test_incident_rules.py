"""Incident references, severity names and role warnings (process.md §1, §2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warroom.errors import Invalid
from warroom.incidents.rules import (
    DEFAULT_SEVERITIES,
    SeverityPolicy,
    format_ref,
    ic_also_tech_lead,
    parse_ref,
    role_warnings,
    severity_level_from,
)

POLICIES = list(DEFAULT_SEVERITIES)


@pytest.mark.parametrize(
    ("ref", "number"),
    [
        ("INC-42", 42),
        ("inc-42", 42),
        ("INC42", 42),
        ("42", 42),
        ("  INC-7 ", 7),
        ("INC-000123", 123),
        ("INC-999999999999", 999_999_999_999),
    ],
)
def test_parse_ref(ref, number):
    assert parse_ref(ref) == number


@pytest.mark.parametrize(
    "ref", ["", "INC-", "INC--1", "INC-abc", "IN-4", "#42", "INC-4.2", "INC-1234567890123", "-1"]
)
def test_parse_ref_refuses_other_text(ref):
    with pytest.raises(Invalid) as caught:
        parse_ref(ref)
    assert caught.value.field == "ref"
    assert "INC-42" in caught.value.message


def test_format_ref():
    assert format_ref(42) == "INC-42"


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=999_999_999_999))
def test_format_then_parse_ref_round_trips(number):
    assert parse_ref(format_ref(number)) == number
    assert parse_ref(format_ref(number).lower()) == number


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("1", 1),
        (1, 1),
        (2, 2),
        ("SEV-1", 1),
        ("sev1", 1),
        ("sev-2", 2),
        ("SEV3", 3),
        ("Sev 4", 4),
        (" 3 ", 3),
        ("sev-01", 1),
    ],
)
def test_severity_level_from(value, level):
    assert severity_level_from(value, POLICIES) == level


@pytest.mark.parametrize("value", ["0", 0, 5, "SEV-5", "sev9", "critical", "", "1.5", "sev--1"])
def test_severity_level_from_refuses_unknown_levels_listing_known_ones(value):
    with pytest.raises(Invalid) as caught:
        severity_level_from(value, POLICIES)
    assert caught.value.field == "severity"
    assert repr(value) in caught.value.message
    assert "1 (SEV-1)" in caught.value.message
    assert "4 (SEV-4)" in caught.value.message


@pytest.mark.parametrize(
    "value", [-1, "-1", "- 2"], ids=["int-minus-1", "str-minus-1", "str-minus-2"]
)
def test_severity_level_from_refuses_negative_levels(value):
    with pytest.raises(Invalid):
        severity_level_from(value, POLICIES)


def test_severity_level_from_knows_configured_names():
    custom = [
        SeverityPolicy(1, "Critical", "", timedelta(minutes=5), False, timedelta(minutes=10), True),
        SeverityPolicy(2, "Major", "", timedelta(minutes=15), False, None, False),
    ]
    assert severity_level_from("critical", custom) == 1
    assert severity_level_from("MAJOR", custom) == 2
    assert severity_level_from("2", custom) == 2
    with pytest.raises(Invalid) as caught:
        severity_level_from("SEV-3", custom)
    assert "1 (Critical)" in caught.value.message


@pytest.mark.parametrize(
    ("level", "commander", "tech_lead", "expected"),
    [
        (1, 7, 7, True),
        (2, 7, 7, True),
        (3, 7, 7, False),
        (4, 7, 7, False),
        (1, 7, 8, False),
        (1, None, None, False),
        (1, 7, None, False),
        (1, None, 7, False),
    ],
)
def test_ic_also_tech_lead(level, commander, tech_lead, expected):
    assert ic_also_tech_lead(level, commander, tech_lead) is expected


@pytest.mark.parametrize("level", [1, 2])
def test_role_warnings_on_high_severity(level):
    warnings = role_warnings(level, 3, 3)
    assert len(warnings) == 1
    assert "Incident Commander is also the Tech Lead" in warnings[0]


@pytest.mark.parametrize(
    ("level", "commander", "tech_lead"), [(3, 3, 3), (4, 3, 3), (1, 3, 4), (2, None, None)]
)
def test_no_role_warnings(level, commander, tech_lead):
    assert role_warnings(level, commander, tech_lead) == []


def test_default_severities_match_the_process():
    by_level = {p.level: p for p in DEFAULT_SEVERITIES}
    assert [p.name for p in DEFAULT_SEVERITIES] == ["SEV-1", "SEV-2", "SEV-3", "SEV-4"]
    assert by_level[1].ack_target == timedelta(minutes=5)
    assert by_level[2].ack_target == timedelta(minutes=15)
    assert by_level[3].ack_target == timedelta(hours=1)
    assert by_level[4].ack_target is None
    assert by_level[4].ack_next_business_day
    assert [p.update_cadence for p in DEFAULT_SEVERITIES] == [
        timedelta(minutes=15),
        timedelta(minutes=30),
        timedelta(hours=1),
        None,
    ]
    assert [p.postmortem_required for p in DEFAULT_SEVERITIES] == [True, True, False, False]
