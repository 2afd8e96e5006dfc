"""Pure delivery rules: retries, HTTP outcomes, timing, idempotency keys and ack links."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum

from warroom.errors import Invalid

# Defaults for the outbox: 10 attempts spread over roughly three hours, long
# enough to ride out a receiver's deploy or outage, short enough that a page
# is not delivered long after the escalation has moved on.
MAX_ATTEMPTS = 10
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)
# A receiver must not park a message for days with a huge Retry-After.
MAX_RETRY_AFTER = timedelta(days=1)
RETRY_AFTER_STATUSES = frozenset({429, 503})


def retry_delay(
    attempt: int, *, base: timedelta, cap: timedelta, rand: Callable[[], float]
) -> timedelta:
    """How long to wait after failed attempt number ``attempt`` (1-based).

    Full jitter, uniform in [0, min(cap, base * 2**(attempt - 1))]: messages
    that failed together (a receiver outage) must not retry in lockstep.
    ``rand`` returns a float in [0, 1], e.g. ``random.random``.
    """
    if attempt < 1:
        raise ValueError("attempts are counted from 1")
    if base <= timedelta(0) or cap <= timedelta(0):
        raise ValueError("base and cap must be positive")
    fraction = rand()
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"rand() returned {fraction}, not a float in [0, 1]")
    ceiling = min(base, cap)
    # Double step by step: base * 2**n overflows timedelta for large attempts.
    for _ in range(attempt - 1):
        if ceiling >= cap - ceiling:
            ceiling = cap
            break
        ceiling *= 2
    return ceiling * fraction


def is_dead(attempt: int, max_attempts: int = MAX_ATTEMPTS) -> bool:
    """True once failed attempt number ``attempt`` was the last one allowed."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    return attempt >= max_attempts


def retry_after_delay(header_value: str | None, now: datetime) -> timedelta | None:
    """The wait a Retry-After header asks for (seconds or HTTP date), or None.

    Honour it on 429 and 503 (``RETRY_AFTER_STATUSES``). A date in the past
    means "now"; the wait is capped at ``MAX_RETRY_AFTER``.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    text = (header_value or "").strip()
    if not text or len(text) > 64:
        return None
    if text.isascii() and text.isdigit():
        seconds = min(int(text), int(MAX_RETRY_AFTER.total_seconds()))
        return timedelta(seconds=seconds)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        # parsedate_to_datetime returns naive only for "-0000", which means UTC.
        when = when.replace(tzinfo=UTC)
    return max(timedelta(0), min(when - now, MAX_RETRY_AFTER))


class Outcome(StrEnum):
    """What a delivery attempt's HTTP status means for the message."""

    DELIVERED = "delivered"
    RETRY = "retry"
    GONE = "gone"
    FAILED = "failed"


# Statuses that say "not now" rather than "never": timeouts, too early, rate limits.
RETRY_STATUSES = frozenset({408, 425, 429})


def classify_http(status: int) -> Outcome:
    """Classify a webhook response status (Standard Webhooks, protocols.md §6).

    2xx is delivered. 410 Gone asks us to disable the endpoint. 408, 425, 429
    and every 5xx are transient and retried (network errors and timeouts are
    retried by the caller too). Other 3xx and 4xx fail at once: redirects are
    not followed, since they could point into a private network (SSRF), and a
    4xx says the request itself is refused, so an identical retry would be too;
    failing fast shows the endpoint's owner what to fix, while the escalation
    reaches people through their other contacts and levels.
    """
    if not 100 <= status <= 599:
        raise ValueError(f"{status} is not an HTTP status")
    if 200 <= status <= 299:
        return Outcome.DELIVERED
    if status == 410:
        return Outcome.GONE
    if status >= 500 or status in RETRY_STATUSES:
        return Outcome.RETRY
    return Outcome.FAILED


class ContactKind(StrEnum):
    """Channels a contact method can use."""

    EMAIL = "email"
    WEBHOOK = "webhook"


@dataclass(frozen=True)
class NotificationRule:
    """Notify contact method ``contact`` (its id) ``delay`` after being paged."""

    contact: str
    delay: timedelta


def planned_notifications(
    rules: Sequence[NotificationRule], paged_at: datetime
) -> list[tuple[str, datetime]]:
    """(contact, when) for each rule, by time then rule order; exact repeats once."""
    if any(rule.delay < timedelta(0) for rule in rules):
        raise Invalid("a notification rule cannot have a negative delay", field="delay")
    ordered = sorted(rules, key=lambda rule: rule.delay)  # stable: ties keep rule order
    return list(dict.fromkeys((rule.contact, paged_at + rule.delay) for rule in ordered))


IDEMPOTENCY_CONTEXT = "warroom-notify-v1"


def idempotency_key(
    page_id: int,
    round: int,
    level: int,
    contact: str,
    user: str,
    *,
    delay: timedelta = timedelta(0),
) -> str:
    """A stable 32-hex-digit key for one notification, the same on every retry.

    Safe in URLs, headers (Idempotency-Key, webhook-id) and Message-IDs. Pass
    the rule's ``delay`` when one contact has several rules, so that "email now"
    and "email again after 5 min" are two messages, not one deduplicated.
    """
    if min(page_id, round, level) < 0:
        raise ValueError("page_id, round and level cannot be negative")
    # JSON keeps the parts unambiguous whatever the contact or user contain.
    parts = [IDEMPOTENCY_CONTEXT, page_id, round, level, contact, user, delay // _MICROSECOND]
    material = json.dumps(parts, separators=(",", ":"))
    return hashlib.sha256(material.encode()).hexdigest()[:32]


_MICROSECOND = timedelta(microseconds=1)
_MESSAGE_ID_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*")


def email_message_id(key: str, domain: str) -> str:
    """The Message-ID header for ``key``, so mail clients and relays spot resends."""
    if not _MESSAGE_ID_KEY.fullmatch(key):
        raise Invalid(f"{key!r} cannot be used in a Message-ID", field="key")
    if not _DOMAIN.fullmatch(domain):
        raise Invalid(f"{domain!r} is not a domain name", field="domain")
    return f"<{key}@{domain}>"


class AckTokenProblem(StrEnum):
    """Why an acknowledgement link was refused."""

    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad signature"
    EXPIRED = "expired"


_ACK_MESSAGES = {
    AckTokenProblem.MALFORMED: "this acknowledgement link is incomplete or damaged",
    AckTokenProblem.BAD_SIGNATURE: "this acknowledgement link is not valid",
    AckTokenProblem.EXPIRED: "this acknowledgement link has expired",
}


class BadAckToken(Exception):
    """An acknowledgement link that must not be honoured; ``reason`` says why."""

    def __init__(self, reason: AckTokenProblem) -> None:
        super().__init__(_ACK_MESSAGES[reason])
        self.reason = reason


ACK_CONTEXT = b"warroom-ack-v1."
MIN_ACK_SECRET_BYTES = 16
MAX_ACK_TOKEN_LENGTH = 512
# page id . base64url(user) . expiry in Unix seconds . base64url(HMAC-SHA256)
_ACK_TOKEN = re.compile(
    r"([0-9]{1,18})\.([A-Za-z0-9_-]{1,400})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})"
)


def sign_ack_token(secret: bytes, page_id: int, user: str, expires: datetime) -> str:
    """A URL-safe token that lets ``user`` acknowledge page ``page_id`` until ``expires``."""
    _check_ack_secret(secret)
    if page_id < 0 or not user:
        raise ValueError("an ack token needs a page id and a user")
    if expires.utcoffset() is None:
        raise ValueError("expires must be timezone-aware")
    body = f"{page_id}.{_b64url(user.encode())}.{max(0, math.floor(expires.timestamp()))}"
    return f"{body}.{_b64url(_ack_mac(secret, body))}"


def verify_ack_token(secret: bytes, token: str, now: datetime) -> tuple[int, str]:
    """The (page id, user) of a token made by ``sign_ack_token``, or BadAckToken."""
    _check_ack_secret(secret)
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    match = _ACK_TOKEN.fullmatch(token) if len(token) <= MAX_ACK_TOKEN_LENGTH else None
    if match is None:
        raise BadAckToken(AckTokenProblem.MALFORMED)
    page_id, user, expires, signature = match.groups()
    expected = _b64url(_ack_mac(secret, token[: match.start(4) - 1]))
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise BadAckToken(AckTokenProblem.BAD_SIGNATURE)
    # The expiry is checked only after the signature, so it can be trusted.
    if now.timestamp() >= int(expires):
        raise BadAckToken(AckTokenProblem.EXPIRED)
    try:
        return int(page_id), base64.urlsafe_b64decode(user + "=" * (-len(user) % 4)).decode()
    except ValueError:
        raise BadAckToken(AckTokenProblem.MALFORMED) from None


def _check_ack_secret(secret: bytes) -> None:
    if len(secret) < MIN_ACK_SECRET_BYTES:
        raise ValueError(f"the ack secret must be at least {MIN_ACK_SECRET_BYTES} bytes")


def _ack_mac(secret: bytes, body: str) -> bytes:
    # The context prefix keeps a MAC made with this secret for another purpose
    # from ever passing as an ack token.
    return hmac.new(secret, ACK_CONTEXT + body.encode(), hashlib.sha256).digest()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
