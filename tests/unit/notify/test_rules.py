"""Delivery rules: backoff, HTTP outcomes, notification timing, keys and ack links."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warroom.errors import Invalid
from warroom.notify.rules import (
    MAX_ATTEMPTS,
    MAX_RETRY_AFTER,
    AckTokenProblem,
    BadAckToken,
    NotificationRule,
    Outcome,
    classify_http,
    email_message_id,
    idempotency_key,
    is_dead,
    planned_notifications,
    retry_after_delay,
    retry_delay,
    sign_ack_token,
    verify_ack_token,
)

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
BASE = timedelta(seconds=30)
CAP = timedelta(hours=1)
SECRET = b"s" * 32


@pytest.mark.parametrize(
    ("attempt", "fraction", "expected"),
    [
        (1, 1.0, BASE),
        (1, 0.0, timedelta(0)),
        (1, 0.5, timedelta(seconds=15)),
        (2, 1.0, timedelta(seconds=60)),
        (3, 1.0, timedelta(seconds=120)),
        (7, 1.0, timedelta(seconds=30 * 64)),
        (8, 1.0, CAP),  # 30 s * 128 = 3840 s, over the cap
        (8, 0.5, CAP / 2),
        (50, 1.0, CAP),
        (10**9, 0.25, CAP / 4),  # no overflow for absurd attempt numbers
    ],
)
def test_retry_delay(attempt, fraction, expected):
    assert retry_delay(attempt, base=BASE, cap=CAP, rand=lambda: fraction) == expected


def test_retry_delay_with_a_cap_below_base_uses_the_cap():
    assert retry_delay(1, base=MINUTE, cap=SECOND, rand=lambda: 1.0) == SECOND


@pytest.mark.parametrize(
    ("attempt", "base", "cap", "fraction", "message"),
    [
        (0, BASE, CAP, 0.5, "counted from 1"),
        (-1, BASE, CAP, 0.5, "counted from 1"),
        (1, timedelta(0), CAP, 0.5, "positive"),
        (1, BASE, -SECOND, 0.5, "positive"),
        (1, BASE, CAP, 1.5, r"in \[0, 1\]"),
        (1, BASE, CAP, -0.1, r"in \[0, 1\]"),
        (1, BASE, CAP, float("nan"), r"in \[0, 1\]"),
    ],
)
def test_retry_delay_refuses_bad_arguments(attempt, base, cap, fraction, message):
    with pytest.raises(ValueError, match=message):
        retry_delay(attempt, base=base, cap=cap, rand=lambda: fraction)


@settings(deadline=None)
@given(
    attempt=st.integers(min_value=1, max_value=200),
    base_ms=st.integers(min_value=1, max_value=10**7),
    cap_ms=st.integers(min_value=1, max_value=10**9),
    fraction=st.floats(min_value=0.0, max_value=1.0),
)
def test_retry_delay_stays_within_the_jitter_window(attempt, base_ms, cap_ms, fraction):
    base, cap = timedelta(milliseconds=base_ms), timedelta(milliseconds=cap_ms)
    delay = retry_delay(attempt, base=base, cap=cap, rand=lambda: fraction)
    # Python ints, so the reference itself cannot overflow.
    ceiling_ms = min(cap_ms, base_ms * 2 ** (attempt - 1))
    assert timedelta(0) <= delay <= timedelta(milliseconds=ceiling_ms)


@pytest.mark.parametrize(
    ("attempt", "max_attempts", "dead"),
    [
        (1, 3, False),
        (2, 3, False),
        (3, 3, True),
        (4, 3, True),
        (1, 1, True),
        (MAX_ATTEMPTS - 1, MAX_ATTEMPTS, False),
        (MAX_ATTEMPTS, MAX_ATTEMPTS, True),
    ],
)
def test_is_dead(attempt, max_attempts, dead):
    assert is_dead(attempt, max_attempts) is dead


def test_is_dead_defaults_and_refuses_zero_attempts():
    assert is_dead(MAX_ATTEMPTS)
    assert not is_dead(MAX_ATTEMPTS - 1)
    with pytest.raises(ValueError, match="at least 1"):
        is_dead(1, 0)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", timedelta(seconds=120)),
        (" 0 ", timedelta(0)),
        ("Tue, 10 Mar 2026 14:05:00 GMT", 5 * MINUTE),
        ("Tue, 10 Mar 2026 15:05:00 +0100", 5 * MINUTE),
        ("Tue, 10 Mar 2026 14:05:00 -0000", 5 * MINUTE),
        ("Tue, 10 Mar 2026 13:00:00 GMT", timedelta(0)),  # in the past: go now
        ("999999999999", MAX_RETRY_AFTER),
        ("Tue, 10 Mar 2099 14:05:00 GMT", MAX_RETRY_AFTER),
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("١٢٠", None),  # Arabic-Indic digits are digits to str.isdigit, not to HTTP
        ("9" * 100, None),
        ("Tue, 99 Foo 2026 14:05:00 GMT", None),
    ],
)
def test_retry_after_delay(header, expected):
    assert retry_after_delay(header, NOW) == expected


def test_retry_after_delay_refuses_a_naive_now():
    with pytest.raises(ValueError, match="timezone-aware"):
        retry_after_delay("5", datetime(2026, 3, 10))


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (202, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (299, Outcome.DELIVERED),
        (410, Outcome.GONE),
        (408, Outcome.RETRY),
        (425, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (502, Outcome.RETRY),
        (503, Outcome.RETRY),
        (599, Outcome.RETRY),
        (100, Outcome.FAILED),
        (301, Outcome.FAILED),
        (302, Outcome.FAILED),
        (304, Outcome.FAILED),
        (400, Outcome.FAILED),
        (401, Outcome.FAILED),
        (403, Outcome.FAILED),
        (404, Outcome.FAILED),
        (413, Outcome.FAILED),
        (422, Outcome.FAILED),
    ],
)
def test_classify_http(status, outcome):
    assert classify_http(status) is outcome


@pytest.mark.parametrize("status", [0, 99, 600, -200])
def test_classify_http_refuses_non_statuses(status):
    with pytest.raises(ValueError, match="not an HTTP status"):
        classify_http(status)


EMAIL, HOOK, PHONE = "email-1", "hook-1", "phone-1"


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ([], []),
        ([NotificationRule(EMAIL, timedelta(0))], [(EMAIL, NOW)]),
        (
            [NotificationRule(HOOK, 2 * MINUTE), NotificationRule(EMAIL, timedelta(0))],
            [(EMAIL, NOW), (HOOK, NOW + 2 * MINUTE)],
        ),
        (
            [NotificationRule(HOOK, MINUTE), NotificationRule(EMAIL, MINUTE)],
            [(HOOK, NOW + MINUTE), (EMAIL, NOW + MINUTE)],  # ties keep rule order
        ),
        (
            [NotificationRule(EMAIL, timedelta(0)), NotificationRule(EMAIL, 5 * MINUTE)],
            [(EMAIL, NOW), (EMAIL, NOW + 5 * MINUTE)],  # a reminder is kept
        ),
        (
            [NotificationRule(EMAIL, MINUTE), NotificationRule(EMAIL, MINUTE)],
            [(EMAIL, NOW + MINUTE)],  # an exact repeat is sent once
        ),
        (
            [
                NotificationRule(PHONE, 10 * MINUTE),
                NotificationRule(HOOK, 2 * MINUTE),
                NotificationRule(EMAIL, timedelta(0)),
            ],
            [(EMAIL, NOW), (HOOK, NOW + 2 * MINUTE), (PHONE, NOW + 10 * MINUTE)],
        ),
    ],
)
def test_planned_notifications(rules, expected):
    assert planned_notifications(rules, NOW) == expected


def test_planned_notifications_refuses_negative_delays():
    with pytest.raises(Invalid) as caught:
        planned_notifications([NotificationRule(EMAIL, -SECOND)], NOW)
    assert caught.value.field == "delay"


KEY_ARGS = (42, 0, 1, EMAIL, "alice")


def test_idempotency_key_is_stable_short_and_safe():
    key = idempotency_key(*KEY_ARGS)
    assert key == idempotency_key(*KEY_ARGS)
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    # Pinned so a refactor cannot silently change keys of messages in flight.
    assert key == "b0fc34950fddd875e8f1710ef6f78896"


@pytest.mark.parametrize(
    ("args", "delay"),
    [
        ((43, 0, 1, EMAIL, "alice"), timedelta(0)),
        ((42, 1, 1, EMAIL, "alice"), timedelta(0)),
        ((42, 0, 0, EMAIL, "alice"), timedelta(0)),
        ((42, 0, 1, HOOK, "alice"), timedelta(0)),
        ((42, 0, 1, EMAIL, "bob"), timedelta(0)),
        ((42, 0, 1, EMAIL, "alice"), 5 * MINUTE),
        ((42, 0, 1, "email-1:alice", ""), timedelta(0)),  # no ambiguity when joining parts
    ],
)
def test_idempotency_key_differs_when_any_part_differs(args, delay):
    assert idempotency_key(*args, delay=delay) != idempotency_key(*KEY_ARGS)


def test_idempotency_key_refuses_negative_numbers():
    with pytest.raises(ValueError, match="negative"):
        idempotency_key(-1, 0, 0, EMAIL, "alice")


def test_email_message_id():
    key = idempotency_key(*KEY_ARGS)
    assert email_message_id(key, "warroom.example.com") == f"<{key}@warroom.example.com>"


@pytest.mark.parametrize(
    ("key", "domain", "field"),
    [
        ("", "example.com", "key"),
        ("a b", "example.com", "key"),
        ("a>b", "example.com", "key"),
        ("abc", "", "domain"),
        ("abc", "exa mple.com", "domain"),
        ("abc", "example.com>", "domain"),
        ("abc", "-example.com", "domain"),
        ("abc", "example..com", "domain"),
        ("abc", "a@b.com", "domain"),
    ],
)
def test_email_message_id_refuses_unsafe_parts(key, domain, field):
    with pytest.raises(Invalid) as caught:
        email_message_id(key, domain)
    assert caught.value.field == field


EXPIRES = NOW + timedelta(hours=1)


@pytest.mark.parametrize(
    ("page_id", "user"), [(42, "alice"), (0, "bob@example.com"), (10**12, "ünï.cødé user")]
)
def test_ack_token_round_trips(page_id, user):
    token = sign_ack_token(SECRET, page_id, user, EXPIRES)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", token)  # URL-safe without escaping
    assert verify_ack_token(SECRET, token, NOW) == (page_id, user)
    assert verify_ack_token(SECRET, token, EXPIRES - SECOND) == (page_id, user)


GOOD_TOKEN = sign_ack_token(SECRET, 42, "alice", EXPIRES)
OTHER_TOKEN = sign_ack_token(SECRET, 43, "alice", EXPIRES)
PAGE, USER, STAMP, SIGNATURE = GOOD_TOKEN.split(".")


@pytest.mark.parametrize(
    ("token", "now", "problem"),
    [
        (GOOD_TOKEN, EXPIRES, AckTokenProblem.EXPIRED),  # the expiry is exclusive
        (GOOD_TOKEN, EXPIRES + timedelta(days=1), AckTokenProblem.EXPIRED),
        (sign_ack_token(SECRET, 42, "alice", NOW - SECOND), NOW, AckTokenProblem.EXPIRED),
        (f"43.{USER}.{STAMP}.{SIGNATURE}", NOW, AckTokenProblem.BAD_SIGNATURE),
        (f"{PAGE}.Ym9i.{STAMP}.{SIGNATURE}", NOW, AckTokenProblem.BAD_SIGNATURE),
        (f"{PAGE}.{USER}.9999999999.{SIGNATURE}", NOW, AckTokenProblem.BAD_SIGNATURE),
        (f"{PAGE}.{USER}.{STAMP}.{OTHER_TOKEN.split('.')[3]}", NOW, AckTokenProblem.BAD_SIGNATURE),
        (sign_ack_token(b"t" * 32, 42, "alice", EXPIRES), NOW, AckTokenProblem.BAD_SIGNATURE),
        # A forged expiry in the past still reports a bad signature, not "expired".
        (f"{PAGE}.{USER}.1.{SIGNATURE}", NOW, AckTokenProblem.BAD_SIGNATURE),
        ("", NOW, AckTokenProblem.MALFORMED),
        ("garbage", NOW, AckTokenProblem.MALFORMED),
        (GOOD_TOKEN + ".x", NOW, AckTokenProblem.MALFORMED),
        (GOOD_TOKEN[:-1], NOW, AckTokenProblem.MALFORMED),
        (GOOD_TOKEN + " ", NOW, AckTokenProblem.MALFORMED),
        (f"-1.{USER}.{STAMP}.{SIGNATURE}", NOW, AckTokenProblem.MALFORMED),
        (f"٤٢.{USER}.{STAMP}.{SIGNATURE}", NOW, AckTokenProblem.MALFORMED),
        (f"{PAGE}.{USER}.{STAMP}.{SIGNATURE[:-1]}é", NOW, AckTokenProblem.MALFORMED),
        (f"{PAGE}.{'A' * 600}.{STAMP}.{SIGNATURE}", NOW, AckTokenProblem.MALFORMED),
    ],
)
def test_verify_ack_token_refuses(token, now, problem):
    with pytest.raises(BadAckToken) as caught:
        verify_ack_token(SECRET, token, now)
    assert caught.value.reason is problem
    assert str(caught.value)  # a message fit to show on the landing page


@pytest.mark.parametrize(
    ("secret", "page_id", "user", "expires", "message"),
    [
        (b"short", 42, "alice", EXPIRES, "at least 16 bytes"),
        (SECRET, -1, "alice", EXPIRES, "needs a page id and a user"),
        (SECRET, 42, "", EXPIRES, "needs a page id and a user"),
        (SECRET, 42, "alice", datetime(2026, 3, 10, 15), "timezone-aware"),
    ],
)
def test_sign_ack_token_refuses_bad_arguments(secret, page_id, user, expires, message):
    with pytest.raises(ValueError, match=message):
        sign_ack_token(secret, page_id, user, expires)


def test_verify_ack_token_refuses_a_short_secret_and_a_naive_now():
    with pytest.raises(ValueError, match="at least 16 bytes"):
        verify_ack_token(b"short", GOOD_TOKEN, NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_ack_token(SECRET, GOOD_TOKEN, datetime(2026, 3, 10, 14))
