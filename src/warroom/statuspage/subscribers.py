"""Subscribers: double opt-in sign-up, per-component choice, one-click unsubscribe. Flushes only.

A post enqueues one fan-out job; the worker turns it into one mail job per
confirmed subscriber, so thousands of subscribers never slow the post.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.errors import Invalid, NotFound
from warroom.outbox import service as outbox
from warroom.statuspage.models import StatusComponent, StatusIncident, StatusPost, Subscriber
from warroom.statuspage.rules import SubscriberState

SUBSCRIBER_MAIL = "subscriber_mail"
EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@[^@\s<>\"]{1,253}\.[^@\s<>\"]{2,}$")
FAN_OUT_BATCH = 500
# Hard bounces in a row after which an address gets no more posts: one can be a
# mail server's bad day, three on three posts is an address that is gone.
BOUNCE_LIMIT = 3
ALL = "all"


def subscribe(
    *, session: Session, now: datetime, email: str, components: list[str] | None = None
) -> Subscriber:
    """Record a sign-up and queue the confirmation mail (nothing is sent until confirmed)."""
    address = email.strip().lower()
    if not EMAIL.match(address):
        raise Invalid("that is not an email address", field="email")
    chosen = None
    if components:
        rows = session.scalars(
            select(StatusComponent).where(
                StatusComponent.public_id.in_(components), StatusComponent.published.is_(True)
            )
        ).all()
        if len(rows) != len(set(components)):
            raise Invalid("unknown component", field="components")
        chosen = [r.id for r in rows]
    existing = session.scalar(select(Subscriber).where(Subscriber.email == address))
    payload: dict[str, object] = {"purpose": "confirm"}
    if existing is None:
        existing = Subscriber(email=address, component_ids=chosen, created_at=now)
        session.add(existing)
        session.flush()
    elif existing.confirmed_at is None:
        existing.component_ids = chosen
    else:
        # Anyone can type anyone's address into the form, so a confirmed address keeps
        # its choice until its owner confirms the new one, carried by the signed link.
        payload["choice"] = choice_of(sorted(set(components)) if components else None)
    outbox.enqueue(
        session=session,
        now=now,
        kind=SUBSCRIBER_MAIL,
        key=f"subscriber-confirm-{existing.id}-{int(now.timestamp())}",
        due_at=now,
        payload=payload | {"subscriber_id": existing.id},
    )
    return existing


def choice_of(components: list[str] | None) -> str:
    """A component choice as it travels in a confirmation link: public ids, or "all"."""
    return "-".join(components) if components else ALL


def confirm_subject(subscriber_id: int, choice: str | None) -> str:
    """What a confirmation link's token signs: the subscriber, and a new choice if any."""
    return f"confirm:{subscriber_id}" if choice is None else f"confirm:{subscriber_id}:{choice}"


def get_or_404(*, session: Session, subscriber_id: int) -> Subscriber:
    found = session.get(Subscriber, subscriber_id)
    if found is None:
        raise NotFound("this subscription does not exist (any more)")
    return found


def confirm(
    *, session: Session, now: datetime, subscriber: Subscriber, choice: str | None = None
) -> None:
    """Confirm the address; ``choice`` (from a link signed for it) replaces the components."""
    if subscriber.confirmed_at is None:
        subscriber.confirmed_at = now
    # Following a link proves the address works again.
    subscriber.bounces, subscriber.suppressed_at = 0, None
    if choice == ALL:
        subscriber.component_ids = None
    elif choice is not None:
        wanted = choice.split("-")
        rows = session.scalars(
            select(StatusComponent.id).where(
                StatusComponent.public_id.in_(wanted), StatusComponent.published.is_(True)
            )
        ).all()
        if rows:  # else every chosen component is gone since: keep the old choice
            subscriber.component_ids = sorted(rows)
    session.flush()


def count_bounce(
    *, session: Session, now: datetime, subscriber_id: int, delivered: bool, bounced: bool
) -> None:
    """Count hard bounces in a row; at BOUNCE_LIMIT posts stop until the owner confirms again.

    The subscriber is kept (suppressed, not deleted): signing up again and
    following the confirmation link brings the posts back.
    """
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or not (delivered or bounced):
        return
    if delivered:
        subscriber.bounces = 0
        return
    subscriber.bounces = (subscriber.bounces or 0) + 1
    if subscriber.bounces >= BOUNCE_LIMIT and subscriber.suppressed_at is None:
        subscriber.suppressed_at = now


def list_subscribers(
    *, session: Session, state: SubscriberState | None, after: int, limit: int
) -> list[Subscriber]:
    """Subscribers in id order after ``after``, optionally in one state."""
    query = select(Subscriber).where(Subscriber.id > after).order_by(Subscriber.id).limit(limit)
    if state is SubscriberState.SUPPRESSED:
        query = query.where(Subscriber.suppressed_at.is_not(None))
    elif state is SubscriberState.CONFIRMED:
        query = query.where(
            Subscriber.suppressed_at.is_(None), Subscriber.confirmed_at.is_not(None)
        )
    elif state is SubscriberState.PENDING:
        query = query.where(Subscriber.suppressed_at.is_(None), Subscriber.confirmed_at.is_(None))
    return list(session.scalars(query))


def component_public_ids(*, session: Session) -> dict[int, str]:
    """Every component's public id by its internal id (subscribers hold internal ids)."""
    rows = session.execute(select(StatusComponent.id, StatusComponent.public_id))
    return {row[0]: row[1] for row in rows}


def unsubscribe(*, session: Session, subscriber: Subscriber) -> None:
    session.delete(subscriber)
    session.flush()


def fan_out(*, session: Session, now: datetime, post_id: int) -> int:
    """One mail job per confirmed subscriber interested in the post's components.

    Suppressed addresses (BOUNCE_LIMIT hard bounces in a row) are left out.
    """
    made = session.get(StatusPost, post_id)
    shown = session.get(StatusIncident, made.status_incident_id) if made else None
    if made is None or shown is None:
        return 0
    touched = set(shown.component_ids)
    count, last_id = 0, 0
    while True:
        batch = list(
            session.scalars(
                select(Subscriber)
                .where(
                    Subscriber.confirmed_at.is_not(None),
                    Subscriber.suppressed_at.is_(None),
                    Subscriber.id > last_id,
                )
                .order_by(Subscriber.id)
                .limit(FAN_OUT_BATCH)
            )
        )
        if not batch:
            return count
        for subscriber in batch:
            last_id = subscriber.id
            if subscriber.component_ids and not touched.intersection(subscriber.component_ids):
                continue
            outbox.enqueue(
                session=session,
                now=now,
                kind=SUBSCRIBER_MAIL,
                key=f"subscriber-post-{made.public_id}-{subscriber.id}",
                due_at=now,
                payload={"purpose": "post", "subscriber_id": subscriber.id, "post_id": made.id},
            )
            count += 1
