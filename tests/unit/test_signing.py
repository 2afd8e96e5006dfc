"""Standard Webhooks signing for outgoing webhooks (protocols.md §6)."""

from __future__ import annotations

import base64

import pytest

from warroom.alerts.generic import standard_webhook_valid
from warroom.errors import Invalid
from warroom.signing import (
    new_webhook_secret,
    sign_webhook,
    verify_webhook,
    webhook_headers,
    webhook_secret_key,
)

# The Standard Webhooks libraries' own test vector.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_STAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SECRET = new_webhook_secret()
OTHER_SECRET = new_webhook_secret()
BODY = b'{"incident": "INC-42", "event": "acknowledged"}'
STAMP = 1_780_000_000


def test_new_webhook_secret_is_prefixed_base64_of_32_bytes():
    assert SECRET.startswith("whsec_")
    assert len(base64.b64decode(SECRET.removeprefix("whsec_"), validate=True)) == 32
    assert SECRET != OTHER_SECRET


def test_sign_webhook_matches_the_spec_vector():
    assert sign_webhook(SPEC_SECRET, SPEC_ID, SPEC_STAMP, SPEC_BODY) == SPEC_SIGNATURE


@pytest.mark.parametrize(
    "secret", [SPEC_SECRET, SPEC_SECRET.removeprefix("whsec_"), f" {SPEC_SECRET} "]
)
def test_the_whsec_prefix_is_optional(secret):
    assert sign_webhook(secret, SPEC_ID, SPEC_STAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_unpadded_secrets_are_accepted():
    padded = "whsec_" + base64.b64encode(b"k" * 25).decode()
    assert padded.endswith("=")
    assert webhook_secret_key(padded.rstrip("=")) == b"k" * 25


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "whsec_",
        "whsec_not base64!",
        "whsec_" + base64.b64encode(b"k" * 23).decode(),  # too short
        "whsec_" + base64.b64encode(b"k" * 65).decode(),  # too long
        "whsec_" + base64.urlsafe_b64encode(b"\xfb" * 32).decode(),  # wrong alphabet
        "whsec_ünïcode",
    ],
)
def test_unusable_secrets_are_invalid(secret):
    with pytest.raises(Invalid) as caught:
        sign_webhook(secret, "msg_1", STAMP, BODY)
    assert caught.value.field == "secret"


@pytest.mark.parametrize(
    ("msg_id", "timestamp", "message"),
    [
        ("", STAMP, "webhook id"),
        ("msg 1", STAMP, "webhook id"),
        ("msg_1\r\nX-Evil: 1", STAMP, "webhook id"),
        ("x" * 257, STAMP, "webhook id"),
        ("msg_1", -1, "cannot be negative"),
    ],
)
def test_sign_webhook_refuses_unsafe_headers(msg_id, timestamp, message):
    with pytest.raises(ValueError, match=message):
        sign_webhook(SECRET, msg_id, timestamp, BODY)


def test_webhook_headers():
    headers = webhook_headers(SPEC_SECRET, SPEC_ID, SPEC_STAMP, SPEC_BODY)
    assert headers == {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_STAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }


@pytest.mark.parametrize("body", [BODY, b"", b"\x00\xff binary", "ünïcode".encode()])
def test_the_receiving_side_accepts_what_we_sign(body):
    headers = webhook_headers(SECRET, "msg_2f6c", STAMP, body)
    assert standard_webhook_valid(
        webhook_secret_key(SECRET),
        webhook_id=headers["webhook-id"],
        timestamp=headers["webhook-timestamp"],
        body=body,
        signatures=headers["webhook-signature"],
        now=STAMP + 10,
    )
    assert verify_webhook(SECRET, headers, body, STAMP + 10)


def test_the_receiving_side_refuses_a_signature_with_another_secret():
    headers = webhook_headers(OTHER_SECRET, "msg_1", STAMP, BODY)
    assert not standard_webhook_valid(
        webhook_secret_key(SECRET),
        webhook_id="msg_1",
        timestamp=str(STAMP),
        body=BODY,
        signatures=headers["webhook-signature"],
        now=STAMP,
    )


GOOD = webhook_headers(SECRET, "msg_1", STAMP, BODY)
OLD_KEY_SIGNATURE = sign_webhook(OTHER_SECRET, "msg_1", STAMP, BODY)
GOOD_SIGNATURE = GOOD["webhook-signature"]


@pytest.mark.parametrize(
    ("headers", "body", "now", "valid"),
    [
        (GOOD, BODY, STAMP, True),
        (GOOD, BODY, STAMP + 300, True),  # tolerance is inclusive
        (GOOD, BODY, STAMP - 300, True),
        (GOOD, BODY, STAMP + 301, False),  # a replay
        (GOOD, BODY, STAMP - 301, False),  # from the future
        (GOOD, BODY + b" ", STAMP, False),
        ({k.upper(): v for k, v in GOOD.items()}, BODY, STAMP, True),
        ({**GOOD, "webhook-id": "msg_2"}, BODY, STAMP, False),
        ({**GOOD, "webhook-timestamp": str(STAMP + 1)}, BODY, STAMP, False),
        ({**GOOD, "webhook-timestamp": "1.7e9"}, BODY, STAMP, False),
        ({**GOOD, "webhook-timestamp": "١٧٨٠"}, BODY, STAMP, False),
        ({**GOOD, "webhook-timestamp": "9" * 5000}, BODY, STAMP, False),
        ({**GOOD, "webhook-signature": f"{OLD_KEY_SIGNATURE} {GOOD_SIGNATURE}"}, BODY, STAMP, True),
        ({**GOOD, "webhook-signature": f"{GOOD_SIGNATURE} {OLD_KEY_SIGNATURE}"}, BODY, STAMP, True),
        ({**GOOD, "webhook-signature": OLD_KEY_SIGNATURE}, BODY, STAMP, False),
        ({**GOOD, "webhook-signature": "v2" + GOOD_SIGNATURE[2:]}, BODY, STAMP, False),
        ({**GOOD, "webhook-signature": GOOD_SIGNATURE[3:]}, BODY, STAMP, False),
        ({**GOOD, "webhook-signature": "v1,ünï"}, BODY, STAMP, False),
        ({**GOOD, "webhook-signature": ""}, BODY, STAMP, False),
        ({k: v for k, v in GOOD.items() if k != "webhook-id"}, BODY, STAMP, False),
        ({k: v for k, v in GOOD.items() if k != "webhook-timestamp"}, BODY, STAMP, False),
        ({k: v for k, v in GOOD.items() if k != "webhook-signature"}, BODY, STAMP, False),
        ({}, BODY, STAMP, False),
    ],
)
def test_verify_webhook(headers, body, now, valid):
    assert verify_webhook(SECRET, headers, body, now) is valid


def test_verify_webhook_uses_the_given_tolerance():
    assert verify_webhook(SECRET, GOOD, BODY, STAMP + 60, tolerance=60)
    assert not verify_webhook(SECRET, GOOD, BODY, STAMP + 61, tolerance=60)


def test_verify_webhook_refuses_an_unusable_secret():
    with pytest.raises(Invalid):
        verify_webhook("whsec_", GOOD, BODY, STAMP)
