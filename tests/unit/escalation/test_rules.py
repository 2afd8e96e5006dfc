"""Escalation policies, snapshots, steps and business-hours paging."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warroom.errors import Invalid
from warroom.escalation import rules
from warroom.escalation.rules import (
    BusinessHours,
    Level,
    Policy,
    Step,
    Target,
    TargetKind,
    Urgency,
    first_step,
    from_snapshot,
    is_business_time,
    next_business_start,
    next_step,
    page_time,
    policy_problems,
    targets_to_notify,
    to_snapshot,
    validate_policy,
)

T0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
ALICE = Target(TargetKind.USER, "alice")
BOB = Target(TargetKind.USER, "bob")
PRIMARY = Target(TargetKind.SCHEDULE, "primary")
FIVE = timedelta(minutes=5)


def level(*targets: Target, timeout: timedelta = FIVE) -> Level:
    return Level(targets=targets, timeout=timeout)


TWO_LEVELS = Policy("checkout", (level(PRIMARY), level(ALICE, BOB, timeout=timedelta(minutes=10))))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0):
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    "policy",
    [
        TWO_LEVELS,
        Policy("one", (level(ALICE, timeout=timedelta(minutes=1)),)),
        Policy("day", (level(ALICE, timeout=timedelta(hours=24)),), repeat=9),
        Policy("same ref, other kind", (level(ALICE, Target(TargetKind.SCHEDULE, "alice")),)),
    ],
)
def test_valid_policies_have_no_problems(policy):
    assert policy_problems(policy) == []
    validate_policy(policy)


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        (Policy("p", ()), "the policy needs at least one level"),
        (Policy(" ", (level(ALICE),)), "the policy needs a name"),
        (Policy("p", (level(),)), "level 1: it has no targets"),
        (
            Policy("p", (level(ALICE, timeout=timedelta(seconds=59)),)),
            "level 1: the timeout must be between 1 min and 24 h",
        ),
        (
            Policy("p", (level(ALICE), level(BOB, timeout=timedelta(hours=24, seconds=1)))),
            "level 2: the timeout must be between 1 min and 24 h",
        ),
        (Policy("p", (level(ALICE),), repeat=-1), "repeat must be between 0 and 9"),
        (Policy("p", (level(ALICE),), repeat=10), "repeat must be between 0 and 9"),
        (Policy("p", (level(ALICE, BOB, ALICE),)), "level 1: duplicate targets: user alice"),
        (Policy("p", (level(Target(TargetKind.USER, "")),)), "level 1: a target has no reference"),
    ],
)
def test_policy_problems(policy, problem):
    assert problem in policy_problems(policy)
    with pytest.raises(Invalid) as caught:
        validate_policy(policy)
    assert problem in caught.value.message
    assert caught.value.field == "policy"


def test_policy_problems_lists_every_problem():
    policy = Policy("", (level(), level(ALICE, ALICE, timeout=timedelta(0))), repeat=99)
    assert len(policy_problems(policy)) == 5


@pytest.mark.parametrize(
    "policy",
    [
        TWO_LEVELS,
        Policy("repeat", (level(ALICE),), repeat=3),
        Policy("odd timeout", (level(ALICE, timeout=timedelta(seconds=90.5)),)),
        Policy("ünïcode", (level(Target(TargetKind.SCHEDULE, "ops/eu"), ALICE),)),
    ],
)
def test_snapshot_round_trips_through_json(policy):
    data = json.loads(json.dumps(to_snapshot(policy)))
    assert from_snapshot(data) == policy


def test_snapshot_shape():
    assert to_snapshot(Policy("p", (level(PRIMARY, ALICE),), repeat=1)) == {
        "version": 1,
        "name": "p",
        "repeat": 1,
        "levels": [
            {
                "timeout_seconds": 300,
                "targets": [
                    {"kind": "schedule", "ref": "primary"},
                    {"kind": "user", "ref": "alice"},
                ],
            }
        ],
    }


def test_snapshot_keeps_policies_that_later_limits_would_refuse():
    # Frozen snapshots must run to their end even if editing rules tighten.
    policy = Policy("old", (level(ALICE, ALICE, timeout=timedelta(seconds=30)),), repeat=20)
    assert from_snapshot(to_snapshot(policy)) == policy


GOOD = to_snapshot(TWO_LEVELS)
GOOD_LEVEL = {"timeout_seconds": 60, "targets": [{"kind": "user", "ref": "a"}]}


@pytest.mark.parametrize(
    "data",
    [
        {},
        {**GOOD, "version": 2},
        {**GOOD, "name": None},
        {**GOOD, "repeat": "1"},
        {**GOOD, "repeat": True},
        {**GOOD, "repeat": -1},
        {**GOOD, "levels": []},
        {**GOOD, "levels": "x"},
        {**GOOD, "levels": ["x"]},
        {**GOOD, "levels": [{**GOOD_LEVEL, "timeout_seconds": 0}]},
        {**GOOD, "levels": [{**GOOD_LEVEL, "timeout_seconds": "60"}]},
        {**GOOD, "levels": [{**GOOD_LEVEL, "timeout_seconds": True}]},
        {**GOOD, "levels": [{**GOOD_LEVEL, "timeout_seconds": float("nan")}]},
        {**GOOD, "levels": [{**GOOD_LEVEL, "timeout_seconds": 1e30}]},
        {**GOOD, "levels": [{**GOOD_LEVEL, "targets": None}]},
        {**GOOD, "levels": [{**GOOD_LEVEL, "targets": ["alice"]}]},
        {**GOOD, "levels": [{**GOOD_LEVEL, "targets": [{"kind": "team", "ref": "a"}]}]},
        {**GOOD, "levels": [{**GOOD_LEVEL, "targets": [{"kind": "user"}]}]},
    ],
)
def test_from_snapshot_refuses_malformed_data(data):
    with pytest.raises(Invalid) as caught:
        from_snapshot(data)
    assert caught.value.field == "snapshot"
    assert caught.value.message.startswith("malformed escalation snapshot")


def test_first_step_pages_level_zero_at_the_start():
    assert first_step(TWO_LEVELS, T0) == Step(round=0, level=0, at=T0)
    with pytest.raises(Invalid):
        first_step(Policy("empty", ()), T0)


REPEATING = replace(TWO_LEVELS, repeat=1)


@pytest.mark.parametrize(
    ("policy", "step", "expected"),
    [
        (TWO_LEVELS, Step(0, 0, T0), Step(0, 1, T0 + FIVE)),
        (TWO_LEVELS, Step(0, 1, T0), None),
        (REPEATING, Step(0, 1, T0), Step(1, 0, T0 + timedelta(minutes=10))),
        (REPEATING, Step(1, 0, T0), Step(1, 1, T0 + FIVE)),
        (REPEATING, Step(1, 1, T0), None),
        (Policy("one", (level(ALICE),), repeat=2), Step(0, 0, T0), Step(1, 0, T0 + FIVE)),
        (Policy("one", (level(ALICE),), repeat=2), Step(2, 0, T0), None),
    ],
)
def test_next_step(policy, step, expected):
    assert next_step(policy, step) == expected


@pytest.mark.parametrize("bad_level", [-1, 2, 99])
def test_next_step_refuses_a_level_outside_the_policy(bad_level):
    with pytest.raises(ValueError, match="outside"):
        next_step(TWO_LEVELS, Step(0, bad_level, T0))


def _walk(policy: Policy) -> list[Step]:
    steps = [first_step(policy, T0)]
    while (following := next_step(policy, steps[-1])) is not None:
        steps.append(following)
        assert len(steps) <= 1000, "escalation does not terminate"
    return steps


def test_a_full_escalation_visits_every_level_of_every_round():
    steps = _walk(REPEATING)
    assert [(s.round, s.level) for s in steps] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [s.at - T0 for s in steps] == [timedelta(minutes=m) for m in (0, 5, 15, 20)]


timeouts = st.integers(min_value=1, max_value=24 * 60).map(lambda m: timedelta(minutes=m))
policies = st.builds(
    Policy,
    name=st.just("p"),
    levels=st.lists(st.builds(level, st.just(ALICE), timeout=timeouts), min_size=1, max_size=6).map(
        tuple
    ),
    repeat=st.integers(min_value=0, max_value=9),
)


@settings(deadline=None)
@given(policies)
def test_next_step_terminates_after_every_level_of_every_round(policy):
    steps = _walk(policy)
    assert len(steps) == len(policy.levels) * (policy.repeat + 1)
    assert all(a.at < b.at for a, b in pairwise(steps))


ON_CALL = {"primary": "carol", "secondary": "alice", "empty": None}


@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        ((ALICE, BOB), ["alice", "bob"]),
        ((PRIMARY, ALICE), ["carol", "alice"]),
        ((Target(TargetKind.SCHEDULE, "secondary"), ALICE, BOB), ["alice", "bob"]),
        ((BOB, Target(TargetKind.SCHEDULE, "secondary"), ALICE), ["bob", "alice"]),
        ((Target(TargetKind.SCHEDULE, "empty"), BOB), ["bob"]),
        ((Target(TargetKind.SCHEDULE, "empty"),), []),
        ((), []),
    ],
)
def test_targets_to_notify(targets, expected):
    assert targets_to_notify(Level(targets, FIVE), ON_CALL.get) == expected


def test_targets_to_notify_asks_only_about_schedules():
    asked: list[str] = []

    def who(ref: str) -> str | None:
        asked.append(ref)
        return "carol"

    targets_to_notify(level(ALICE, PRIMARY, BOB), who)
    assert asked == ["primary"]


NEW_YORK = BusinessHours("America/New_York", time(9), time(17))
NY_US = replace(NEW_YORK, country="US")
LONDON = BusinessHours("Europe/London", time(9), time(17), country="GB", subdivision="ENG")
NIGHT_OWL = BusinessHours("America/New_York", time(2, 30), time(17), frozenset(range(7)))


@pytest.mark.parametrize(
    ("hours", "at", "expected"),
    [
        (NEW_YORK, utc(2026, 3, 10, 13, 0), True),  # Tue 09:00 EDT: start is inclusive
        (NEW_YORK, utc(2026, 3, 10, 12, 59, 59), False),
        (NEW_YORK, utc(2026, 3, 10, 20, 59, 59), True),
        (NEW_YORK, utc(2026, 3, 10, 21, 0), False),  # 17:00 EDT: end is exclusive
        (NEW_YORK, utc(2026, 3, 6, 14, 0), True),  # Fri 09:00 EST, before DST
        (NEW_YORK, utc(2026, 3, 9, 13, 0), True),  # Mon 09:00 EDT, after DST
        (NEW_YORK, utc(2026, 3, 7, 15, 0), False),  # Saturday
        (NEW_YORK, utc(2026, 3, 10, 2, 0), False),  # Tue in UTC, Mon 22:00 in New York
        (NEW_YORK, utc(2026, 7, 3, 14, 0), True),  # no country, no holidays
        (NY_US, utc(2026, 7, 3, 14, 0), False),  # Independence Day (observed)
        (NY_US, utc(2026, 12, 25, 15, 0), False),  # Christmas, a Friday
        (NY_US, utc(2026, 12, 24, 15, 0), True),
        (LONDON, utc(2026, 3, 27, 9, 0), True),  # Fri 09:00 GMT
        (LONDON, utc(2026, 3, 30, 8, 0), True),  # Mon 09:00 BST
        (LONDON, utc(2026, 3, 30, 7, 59), False),
        (LONDON, utc(2026, 4, 3, 10, 0), False),  # Good Friday
        (LONDON, utc(2026, 12, 28, 10, 0), False),  # Boxing Day, substitute
        (NIGHT_OWL, utc(2026, 3, 8, 6, 59, 59), False),  # 01:59:59 EST
        (NIGHT_OWL, utc(2026, 3, 8, 7, 0), True),  # 03:00 EDT: 02:30 never happens
    ],
)
def test_is_business_time(hours, at, expected):
    assert is_business_time(hours, at) is expected


@pytest.mark.parametrize(
    ("hours", "at", "expected"),
    [
        (NEW_YORK, utc(2026, 3, 10, 15, 0), utc(2026, 3, 10, 15, 0)),  # inside: at itself
        (NEW_YORK, utc(2026, 3, 10, 12, 0), utc(2026, 3, 10, 13, 0)),  # early: today 09:00
        (NEW_YORK, utc(2026, 3, 10, 21, 0), utc(2026, 3, 11, 13, 0)),  # at end: tomorrow
        (NEW_YORK, utc(2026, 3, 6, 22, 0), utc(2026, 3, 9, 13, 0)),  # Fri → Mon over DST
        (NEW_YORK, utc(2026, 10, 30, 21, 0), utc(2026, 11, 2, 14, 0)),  # back to EST
        (NY_US, utc(2026, 7, 2, 21, 0), utc(2026, 7, 6, 13, 0)),  # skips the observed 3rd
        (NY_US, utc(2026, 12, 24, 22, 0), utc(2026, 12, 28, 14, 0)),  # skips Christmas
        (LONDON, utc(2026, 3, 27, 17, 0), utc(2026, 3, 30, 8, 0)),  # Fri → Mon over BST
        (LONDON, utc(2026, 10, 23, 16, 0), utc(2026, 10, 26, 9, 0)),  # back to GMT
        (LONDON, utc(2026, 4, 2, 16, 0), utc(2026, 4, 7, 8, 0)),  # Easter weekend
        (NIGHT_OWL, utc(2026, 3, 8, 5, 0), utc(2026, 3, 8, 7, 0)),  # start in the DST gap
        (NIGHT_OWL, utc(2026, 3, 8, 22, 0), utc(2026, 3, 9, 6, 30)),
    ],
)
def test_next_business_start(hours, at, expected):
    start = next_business_start(hours, at)
    assert start == expected
    assert start.utcoffset() == timedelta(0)
    assert is_business_time(hours, start)


def test_next_business_start_accepts_any_aware_zone():
    at = datetime(2026, 3, 7, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # Sat 03:00 UTC
    assert next_business_start(NEW_YORK, at) == utc(2026, 3, 9, 13, 0)


def test_next_business_start_gives_up_when_the_calendar_never_opens(monkeypatch):
    # Real calendars always open within 60 days; shrink the search to reach the guard.
    fridays = BusinessHours("UTC", time(9), time(17), frozenset({4}), country="US")
    # Christmas and New Year's Day are both Fridays in 2026-27.
    assert next_business_start(fridays, utc(2026, 12, 24, 12)) == utc(2027, 1, 8, 9)
    monkeypatch.setattr(rules, "MAX_SEARCH_DAYS", 6)
    with pytest.raises(Invalid, match="within 6 days") as caught:
        next_business_start(fridays, utc(2026, 12, 24, 12))
    assert caught.value.field == "business_hours"


@pytest.mark.parametrize(
    ("hours", "field"),
    [
        (replace(NEW_YORK, tz="Mars/Olympus"), "tz"),
        (replace(NEW_YORK, tz=""), "tz"),
        (replace(NEW_YORK, tz="../etc/passwd"), "tz"),
        (replace(NEW_YORK, start=time(17), end=time(9)), "end"),
        (replace(NEW_YORK, end=time(9)), "end"),
        (replace(NEW_YORK, start=time(9, tzinfo=UTC)), "start"),
        (replace(NEW_YORK, weekdays=frozenset()), "weekdays"),
        (replace(NEW_YORK, weekdays=frozenset({7})), "weekdays"),
        (replace(NEW_YORK, country="XX"), "country"),
        (replace(NEW_YORK, country="US", subdivision="ZZ"), "country"),
        (replace(NEW_YORK, subdivision="NY"), "subdivision"),
    ],
)
def test_unusable_business_hours_are_invalid(hours, field):
    for check in (is_business_time, next_business_start):
        with pytest.raises(Invalid) as caught:
            check(hours, T0)
        assert caught.value.field == field


def test_business_hours_refuse_naive_times():
    with pytest.raises(ValueError, match="timezone-aware"):
        is_business_time(NEW_YORK, datetime(2026, 3, 10, 12))


@pytest.mark.parametrize(
    ("urgency", "hours", "at", "expected"),
    [
        (Urgency.HIGH, NY_US, utc(2026, 12, 25, 3, 0), utc(2026, 12, 25, 3, 0)),
        (Urgency.HIGH, None, utc(2026, 12, 25, 3, 0), utc(2026, 12, 25, 3, 0)),
        (Urgency.LOW, None, utc(2026, 12, 25, 3, 0), utc(2026, 12, 25, 3, 0)),
        (Urgency.LOW, NY_US, utc(2026, 12, 25, 3, 0), utc(2026, 12, 28, 14, 0)),
        (Urgency.LOW, NY_US, utc(2026, 12, 28, 15, 0), utc(2026, 12, 28, 15, 0)),
    ],
)
def test_page_time(urgency, hours, at, expected):
    assert page_time(urgency, hours, at) == expected
