"""Standard Webhooks signatures for the webhooks warroom sends (protocols.md §6). Pure."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping

from warroom.errors import Invalid

SECRET_PREFIX = "whsec_"  # noqa: S105 - a label, not a secret
SECRET_BYTES = 32
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
TOLERANCE_SECONDS = 300
# Header values we emit must not be able to smuggle in spaces or new lines.
_MESSAGE_ID = re.compile(r"[\x21-\x7e]{1,256}")


def new_webhook_secret() -> str:
    """A fresh endpoint secret: "whsec_" and base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def webhook_secret_key(secret: str) -> bytes:
    """The HMAC key inside a "whsec_..." secret (the prefix is optional)."""
    text = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        # Some senders drop the base64 padding; restore it rather than refuse.
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("a webhook secret is 'whsec_' followed by base64", field="secret") from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise Invalid(
            f"a webhook secret must hold {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes",
            field="secret",
        )
    return key


def sign_webhook(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The "v1,<base64>" signature of ``body`` sent as message ``msg_id`` at ``timestamp``."""
    if not _MESSAGE_ID.fullmatch(msg_id):
        raise ValueError("a webhook id is 1 to 256 printable ASCII characters without spaces")
    if timestamp < 0:
        raise ValueError("the timestamp is Unix seconds and cannot be negative")
    return "v1," + _signature(webhook_secret_key(secret), msg_id, str(timestamp), body)


def webhook_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for sending ``body``."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_webhook(secret, msg_id, timestamp, body),
    }


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now_seconds: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """True if any "v1" signature in ``headers`` matches and the timestamp is fresh.

    Several space-separated signatures are accepted so senders can rotate keys.
    The timestamp window works both ways, which stops replays of old messages.
    """
    key = webhook_secret_key(secret)
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id", "")
    timestamp = lowered.get("webhook-timestamp", "")
    signatures = lowered.get("webhook-signature", "")
    if not (msg_id and signatures and timestamp.isascii() and timestamp.isdigit()):
        return False
    if len(timestamp) > 15 or abs(now_seconds - int(timestamp)) > tolerance:
        return False
    expected = _signature(key, msg_id, timestamp, body).encode()
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        # Bytes, not str: compare_digest refuses non-ASCII str from untrusted headers.
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return True
    return False


def _signature(key: bytes, msg_id: str, timestamp: str, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def feed_token(secret: bytes, subject: str) -> str:
    """A read-only token for one calendar feed (``subject`` names it, e.g. 'schedule:ops').

    Calendar apps keep the URL for years, so it must not carry an API token:
    this one opens that feed and nothing else, and changes with the secret.
    """
    mac = hmac.new(secret, f"warroom-feed-v1:{subject}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def feed_token_valid(secret: bytes, subject: str, token: str) -> bool:
    # Bytes, not str: compare_digest refuses non-ASCII text, and a token is any user input.
    return hmac.compare_digest(feed_token(secret, subject).encode(), token.encode())
