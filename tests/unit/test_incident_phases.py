"""Lifecycle phases (process.md §3): parsing and the allowed transitions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warroom.errors import Conflict, Invalid, InvalidTransition
from warroom.incidents.rules import (
    ENDED_PHASES,
    OPEN_PHASES,
    TRANSITIONS,
    Phase,
    allowed_next,
    check_transition,
    parse_phase,
)

P = Phase

ALLOWED = [
    (P.DETECTION, P.TRIAGE),
    (P.DETECTION, P.INVESTIGATING),
    (P.DETECTION, P.MITIGATING),
    (P.DETECTION, P.RESOLVED),
    (P.DETECTION, P.DISMISSED),
    (P.TRIAGE, P.INVESTIGATING),
    (P.TRIAGE, P.MITIGATING),
    (P.TRIAGE, P.RESOLVED),
    (P.TRIAGE, P.DISMISSED),
    (P.INVESTIGATING, P.MITIGATING),
    (P.INVESTIGATING, P.RESOLVED),
    (P.MITIGATING, P.INVESTIGATING),
    (P.MITIGATING, P.RESOLVED),
    (P.RESOLVED, P.CLOSED),
    (P.RESOLVED, P.INVESTIGATING),
    (P.DISMISSED, P.TRIAGE),
]

# (current, target, the allowed phases the error must list)
FORBIDDEN = [
    (P.TRIAGE, P.DETECTION, ["investigating", "mitigating", "resolved", "dismissed"]),
    (P.TRIAGE, P.CLOSED, ["investigating", "mitigating", "resolved", "dismissed"]),
    (P.INVESTIGATING, P.TRIAGE, ["mitigating", "resolved"]),
    (P.INVESTIGATING, P.CLOSED, ["mitigating", "resolved"]),
    (P.INVESTIGATING, P.DISMISSED, ["mitigating", "resolved"]),
    (P.MITIGATING, P.TRIAGE, ["investigating", "resolved"]),
    (P.MITIGATING, P.DISMISSED, ["investigating", "resolved"]),
    (P.RESOLVED, P.MITIGATING, ["closed", "investigating"]),
    (P.RESOLVED, P.TRIAGE, ["closed", "investigating"]),
    (P.RESOLVED, P.DISMISSED, ["closed", "investigating"]),
    (P.CLOSED, P.INVESTIGATING, []),
    (P.CLOSED, P.RESOLVED, []),
    (P.CLOSED, P.TRIAGE, []),
    (P.DISMISSED, P.INVESTIGATING, ["triage"]),
    (P.DISMISSED, P.RESOLVED, ["triage"]),
    (P.DISMISSED, P.CLOSED, ["triage"]),
]


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_transition_passes(current, target):
    check_transition(current, target)
    assert target in allowed_next(current)


def test_allowed_table_is_the_whole_transition_table():
    table = {(current, target) for current, targets in TRANSITIONS.items() for target in targets}
    assert table == set(ALLOWED)


@pytest.mark.parametrize(("current", "target", "allowed"), FORBIDDEN)
def test_forbidden_transition_raises_listing_allowed_phases(current, target, allowed):
    with pytest.raises(InvalidTransition) as caught:
        check_transition(current, target)
    error = caught.value
    assert error.allowed == allowed
    assert error.field == "phase"
    assert f"cannot move from {current.value} to {target.value}" in error.message
    for name in allowed:
        assert name in error.message


def test_invalid_transition_is_a_conflict():
    with pytest.raises(Conflict):
        check_transition(P.CLOSED, P.TRIAGE)


def test_closed_is_final():
    with pytest.raises(InvalidTransition) as caught:
        check_transition(P.CLOSED, P.INVESTIGATING)
    assert caught.value.allowed == []
    assert "it is final" in caught.value.message


@pytest.mark.parametrize("phase", list(Phase))
def test_staying_in_the_same_phase_is_refused(phase):
    with pytest.raises(InvalidTransition) as caught:
        check_transition(phase, phase)
    assert f"already {phase.value}" in caught.value.message
    assert caught.value.allowed == [p.value for p in TRANSITIONS[phase]]


@settings(deadline=None)
@given(st.sampled_from(list(Phase)))
def test_nothing_leaves_closed(target):
    with pytest.raises(InvalidTransition):
        check_transition(P.CLOSED, target)


@settings(deadline=None)
@given(st.sampled_from(list(Phase)), st.sampled_from(list(Phase)))
def test_check_transition_agrees_with_allowed_next(current, target):
    if target in allowed_next(current):
        check_transition(current, target)
    else:
        with pytest.raises(InvalidTransition) as caught:
            check_transition(current, target)
        assert caught.value.allowed == [p.value for p in allowed_next(current)]


@settings(deadline=None)
@given(st.sampled_from(sorted(OPEN_PHASES)))
def test_closed_is_never_reachable_directly_from_an_open_phase(current):
    # Closing needs a resolution first (process.md §3: postmortem after resolution).
    assert P.CLOSED not in allowed_next(current)


def test_every_open_phase_can_reach_resolved():
    for phase in OPEN_PHASES:
        assert P.RESOLVED in allowed_next(phase)


def test_open_and_ended_phases_partition_all_phases():
    assert set(Phase) == OPEN_PHASES | ENDED_PHASES
    assert not OPEN_PHASES & ENDED_PHASES


@pytest.mark.parametrize(
    ("text", "phase"),
    [
        ("triage", P.TRIAGE),
        ("Investigating", P.INVESTIGATING),
        ("  MITIGATING ", P.MITIGATING),
        ("resolved", P.RESOLVED),
        ("closed", P.CLOSED),
        ("dismissed", P.DISMISSED),
        ("detection", P.DETECTION),
    ],
)
def test_parse_phase(text, phase):
    assert parse_phase(text) is phase


@pytest.mark.parametrize("text", ["", "investigate", "open", "resolve", "tri age"])
def test_parse_phase_refuses_unknown_names_listing_known_ones(text):
    with pytest.raises(Invalid) as caught:
        parse_phase(text)
    assert caught.value.field == "phase"
    assert repr(text) in caught.value.message
    for phase in Phase:
        assert phase.value in caught.value.message
