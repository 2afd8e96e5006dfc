"""Contact methods, notification rules and planning notifications. Flushes, never commits.

Planning writes one outbox message ("notify") per contact and delay; the
worker delivers it through a channel (notify/channels) and records the
result. The message key is the notification's idempotency key, so a crash
between sending and recording resends under the same key.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.errors import Invalid, NotFound
from warroom.notify import rules
from warroom.notify.models import ContactMethod, NotificationRule
from warroom.outbox import service as outbox
from warroom.signing import new_webhook_secret
from warroom.users.models import User

NOTIFY = "notify"
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}\.[^@\s]{2,}$")
MAX_DELAY = timedelta(hours=24)


def _check_target(kind: rules.ContactKind, target: str) -> None:
    if kind is rules.ContactKind.EMAIL:
        if not EMAIL.match(target):
            raise Invalid(f"'{target}' is not an email address", field="target")
        return
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("a webhook needs an http(s) URL with a host", field="target")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        # Pages carry incident details: plain HTTP only to this machine.
        raise Invalid("webhooks must use https (http only for localhost)", field="target")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def add_contact(
    *, session: Session, now: datetime, user: User, kind: str, target: str, label: str = ""
) -> ContactMethod:
    """Add a contact method; a webhook gets a signing secret (shown once by the caller)."""
    try:
        contact_kind = rules.ContactKind(kind)
    except ValueError:
        raise Invalid(
            f"unknown contact kind '{kind}': use email or webhook", field="kind"
        ) from None
    target = target.strip()
    _check_target(contact_kind, target)
    method = ContactMethod(
        user_id=user.id,
        kind=contact_kind.value,
        target=target,
        label=label or contact_kind.value,
        secret=new_webhook_secret() if contact_kind is rules.ContactKind.WEBHOOK else None,
        created_at=now,
        disabled_reason="",
    )
    session.add(method)
    session.flush()
    return method


def contacts_of(*, session: Session, user: User) -> list[ContactMethod]:
    query = select(ContactMethod).where(ContactMethod.user_id == user.id)
    return list(session.scalars(query.order_by(ContactMethod.id)))


def get_contact(*, session: Session, user: User, contact_id: int) -> ContactMethod:
    method = session.get(ContactMethod, contact_id)
    if method is None or method.user_id != user.id:
        raise NotFound(f"@{user.handle} has no contact method {contact_id}")
    return method


def remove_contact(*, session: Session, method: ContactMethod) -> None:
    session.delete(method)
    session.flush()


def disable_contact(*, session: Session, now: datetime, method: ContactMethod, why: str) -> None:
    method.disabled_at = now
    method.disabled_reason = why[:500]


def set_rules(
    *, session: Session, user: User, items: list[tuple[int, timedelta]]
) -> list[NotificationRule]:
    """Replace the user's rules with (contact id, delay) pairs."""
    for contact_id, delay in items:
        get_contact(session=session, user=user, contact_id=contact_id)
        if delay < timedelta(0) or delay > MAX_DELAY:
            raise Invalid("a rule's delay must be between 0 and 24 hours", field="delay")
    for old in rules_of(session=session, user=user):
        session.delete(old)
    created = [
        NotificationRule(
            user_id=user.id, contact_method_id=cid, delay_seconds=int(d.total_seconds())
        )
        for cid, d in items
    ]
    session.add_all(created)
    session.flush()
    return created


def rules_of(*, session: Session, user: User) -> list[NotificationRule]:
    query = select(NotificationRule).where(NotificationRule.user_id == user.id)
    return list(
        session.scalars(query.order_by(NotificationRule.delay_seconds, NotificationRule.id))
    )


def _plan(session: Session, user: User) -> list[rules.NotificationRule]:
    """The user's rules over working contacts; without rules, every contact at once."""
    working = {m.id: m for m in contacts_of(session=session, user=user) if m.disabled_at is None}
    stored = [r for r in rules_of(session=session, user=user) if r.contact_method_id in working]
    if stored:
        return [
            rules.NotificationRule(str(r.contact_method_id), timedelta(seconds=r.delay_seconds))
            for r in stored
        ]
    return [rules.NotificationRule(str(cid), timedelta(0)) for cid in working]


def plan_page(
    *,
    session: Session,
    now: datetime,
    user: User,
    page_id: int,
    incident_id: int,
    round_: int,
    level: int,
    generation: int,
    extra: str = "",
) -> int:
    """Enqueue the notifications that page ``user``; how many (0: no working contact)."""
    planned = rules.planned_notifications(_plan(session, user), now)
    for contact, at in planned:
        digest = rules.idempotency_key(page_id, round_, level, contact, user.handle, delay=at - now)
        outbox.enqueue(
            session=session,
            now=now,
            kind=NOTIFY,
            key=f"notify-page-{page_id}-{digest}{'-' + extra if extra else ''}",
            due_at=at,
            payload={
                "purpose": "page",
                "page_id": page_id,
                "incident_id": incident_id,
                "user_id": user.id,
                "contact_id": int(contact),
                "level": level,
                "round": round_,
                "generation": generation,
            },
            incident_id=incident_id,
        )
    return len(planned)


def plan_message(
    *,
    session: Session,
    now: datetime,
    user: User,
    purpose: str,
    key: str,
    payload: dict[str, Any],
    incident_id: int | None = None,
    contacts: list[ContactMethod] | None = None,
) -> int:
    """Enqueue one message (a test, a reminder) to each of the user's working contacts."""
    methods = contacts or contacts_of(session=session, user=user)
    count = 0
    for method in methods:
        if method.disabled_at is not None:
            continue
        outbox.enqueue(
            session=session,
            now=now,
            kind=NOTIFY,
            key=f"notify-{purpose}-{key}-{method.id}",
            due_at=now,
            payload={**payload, "purpose": purpose, "user_id": user.id, "contact_id": method.id},
            incident_id=incident_id,
        )
        count += 1
    return count


def send_test(*, session: Session, now: datetime, user: User) -> list[ContactMethod]:
    """Queue a test message through each of the user's contact methods."""
    methods = contacts_of(session=session, user=user)
    if not methods:
        raise Invalid(f"@{user.handle} has no contact method to test", field="user")
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    plan_message(
        session=session, now=now, user=user, purpose="test", key=stamp, payload={}, contacts=methods
    )
    return methods


def reachable(*, session: Session, user: User) -> bool:
    """True when the user has a contact method that is not disabled."""
    return any(m.disabled_at is None for m in contacts_of(session=session, user=user))
