"""Durations, update cadence and acknowledgement deadlines (process.md §1, §4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warroom.errors import Invalid
from warroom.incidents.rules import (
    DEFAULT_SEVERITIES,
    MAX_DURATION,
    SeverityPolicy,
    ack_deadline,
    format_duration,
    next_update_due,
    parse_duration,
    update_status,
)

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # a Friday
SEV = {p.level: p for p in DEFAULT_SEVERITIES}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("90s", timedelta(seconds=90)),
        ("2d", timedelta(days=2)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("10", timedelta(minutes=10)),
        (" 45 ", timedelta(minutes=45)),
        ("1H", timedelta(hours=1)),
        ("1s", timedelta(seconds=1)),
        ("30d", timedelta(days=30)),
        ("720h", timedelta(days=30)),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "   ", "m", "abc", "15x", "1.5h", "-5m", "15m!", "h1", "1h-30m", "15 minutes"]
)
def test_parse_duration_refuses_malformed_text(text):
    with pytest.raises(Invalid) as caught:
        parse_duration(text)
    assert caught.value.field == "eta"
    assert repr(text) in caught.value.message
    assert "15m" in caught.value.message  # shows an example of the expected form


@pytest.mark.parametrize("text", ["0", "0m", "0s", "0h0m", "31d", "30d1s", "721h", "999999"])
def test_parse_duration_refuses_zero_and_more_than_thirty_days(text):
    with pytest.raises(Invalid) as caught:
        parse_duration(text)
    assert caught.value.field == "eta"
    assert "between 1s and 30d" in caught.value.message


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=45), "45s"),
        (timedelta(seconds=59), "59s"),
        (timedelta(seconds=60), "1m"),
        (timedelta(seconds=90), "1m"),
        (timedelta(minutes=12), "12m"),
        (timedelta(minutes=59, seconds=59), "59m"),
        (timedelta(hours=1), "1h 00m"),
        (timedelta(hours=1, minutes=5), "1h 05m"),
        (timedelta(hours=23, minutes=59), "23h 59m"),
        (timedelta(days=1), "1d 0h"),
        (timedelta(days=2, hours=3, minutes=59), "2d 3h"),
        (timedelta(minutes=-12), "12m"),
        (timedelta(milliseconds=900), "0s"),
    ],
)
def test_format_duration(delta, text):
    assert format_duration(delta) == text


lossless_durations = st.one_of(
    st.integers(min_value=1, max_value=59).map(lambda s: timedelta(seconds=s)),
    st.integers(min_value=1, max_value=59).map(lambda m: timedelta(minutes=m)),
    st.tuples(st.integers(1, 23), st.integers(0, 59)).map(
        lambda hm: timedelta(hours=hm[0], minutes=hm[1])
    ),
    st.tuples(st.integers(1, 29), st.integers(0, 23)).map(
        lambda dh: timedelta(days=dh[0], hours=dh[1])
    ),
)


@settings(deadline=None)
@given(lossless_durations)
def test_format_then_parse_round_trips(delta):
    assert parse_duration(format_duration(delta)) == delta


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=int(MAX_DURATION.total_seconds())))
def test_parse_of_format_never_exceeds_the_original(seconds):
    # format_duration rounds down for people; it must never claim more time.
    delta = timedelta(seconds=seconds)
    shown = format_duration(delta)
    if shown == "0s":
        return
    assert timedelta(0) < parse_duration(shown) <= delta


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=int(MAX_DURATION.total_seconds())))
def test_parse_of_plain_seconds_is_exact(seconds):
    assert parse_duration(f"{seconds}s") == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("due", "text"),
    [
        (None, "no scheduled updates"),
        (NOW + timedelta(minutes=12), "due in 12m"),
        (NOW + timedelta(hours=1, minutes=5), "due in 1h 05m"),
        (NOW, "due in 0s"),
        (NOW - timedelta(minutes=3), "overdue by 3m"),
        (NOW - timedelta(seconds=30), "overdue by 30s"),
        (NOW - timedelta(days=2, hours=1), "overdue by 2d 1h"),
    ],
)
def test_update_status(due, text):
    assert update_status(due, NOW) == text


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (1, NOW + timedelta(minutes=15)),
        (2, NOW + timedelta(minutes=30)),
        (3, NOW + timedelta(hours=1)),
        (4, None),
    ],
)
def test_next_update_due_follows_the_severity_cadence(level, expected):
    assert next_update_due(NOW, SEV[level].update_cadence) == expected


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (1, NOW + timedelta(minutes=5)),
        (2, NOW + timedelta(minutes=15)),
        (3, NOW + timedelta(hours=1)),
    ],
)
def test_ack_deadline_fixed_targets(level, expected):
    assert ack_deadline(NOW, SEV[level]) == expected


def _day(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("declared", "deadline"),
    [
        # Mon 23 Nov .. Sun 29 Nov 2026; deadline is the end of the next business day.
        (_day(23), datetime(2026, 11, 24, 23, 59, 59, tzinfo=UTC)),  # Mon -> Tue
        (_day(26), datetime(2026, 11, 27, 23, 59, 59, tzinfo=UTC)),  # Thu -> Fri
        (_day(27), datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)),  # Fri -> Mon
        (_day(27, 23), datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)),  # late Fri -> Mon
        (_day(28), datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)),  # Sat -> Mon
        (_day(29), datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)),  # Sun -> Mon
        (_day(30), datetime(2026, 12, 1, 23, 59, 59, tzinfo=UTC)),  # Mon -> Tue
    ],
)
def test_ack_deadline_sev4_is_next_business_day(declared, deadline):
    assert ack_deadline(declared, SEV[4]) == deadline


@settings(deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_ack_deadline_sev4_is_always_a_weekday_after_declaration(naive):
    declared = naive.replace(tzinfo=UTC)
    deadline = ack_deadline(declared, SEV[4])
    assert deadline is not None
    assert deadline.weekday() < 5
    assert deadline.date() > declared.date()
    assert deadline - declared <= timedelta(days=4)
    assert deadline.tzinfo is UTC


def test_ack_deadline_none_without_target_or_business_day():
    policy = SeverityPolicy(5, "SEV-5", "informational", None, False, None, False)
    assert ack_deadline(NOW, policy) is None
