"""Outbox use-cases: enqueue in the caller's transaction, claim, settle. Flushes, never commits.

A message is written in the same transaction as the change that causes it,
so either both happen or neither. Workers claim due messages by stamping a
lock that expires: a worker that dies mid-job leaves its messages to be
claimed again once the lock runs out (at-least-once, with the message's key
as the idempotency key). PostgreSQL workers claim with FOR UPDATE SKIP
LOCKED; on SQLite a single lease holder does the work (lease()).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, Table, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warroom.db.sql import insert_unless_exists
from warroom.outbox.models import OutboxMessage, WorkerLease
from warroom.outbox.rules import Result, Status

OUTBOX_TABLE: Table = OutboxMessage.__table__  # type: ignore[assignment]


def enqueue(
    *,
    session: Session,
    now: datetime,
    kind: str,
    key: str,
    due_at: datetime,
    payload: dict[str, Any],
    incident_id: int | None = None,
) -> int | None:
    """Add a message unless one with ``key`` exists; its id, or None when it already did.

    A duplicate run of the same job enqueues the same keys again: one is enough.
    """
    statement = (
        insert_unless_exists(session.get_bind().dialect.name, OUTBOX_TABLE, ["key"])
        .values(
            kind=kind,
            key=key,
            status=Status.PENDING.value,
            due_at=due_at,
            attempts=0,
            payload=payload,
            incident_id=incident_id,
            last_error="",
            created_at=now,
        )
        .returning(OutboxMessage.id)
    )
    made: int | None = session.scalar(statement)
    return made


def _due(now: datetime, kinds: tuple[str, ...] | None, not_kinds: tuple[str, ...]) -> Select[int]:
    query = select(OutboxMessage.id).where(
        OutboxMessage.status == Status.PENDING.value,
        OutboxMessage.due_at <= now,
        or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
    )
    if kinds is not None:
        query = query.where(OutboxMessage.kind.in_(kinds))
    if not_kinds:
        query = query.where(OutboxMessage.kind.not_in(not_kinds))
    return query


def any_due(
    *,
    session: Session,
    now: datetime,
    kinds: tuple[str, ...] | None = None,
    not_kinds: tuple[str, ...] = (),
) -> bool:
    """Whether claim() would find a message: a read, where a claim takes the write lock."""
    return session.scalar(_due(now, kinds, not_kinds).limit(1)) is not None


def claim(
    *,
    session: Session,
    now: datetime,
    worker: str,
    limit: int,
    lock_for: timedelta,
    kinds: tuple[str, ...] | None = None,
    not_kinds: tuple[str, ...] = (),
) -> list[int]:
    """Lock up to ``limit`` due messages (of ``kinds``, if given) for ``worker``; oldest first."""
    query = _due(now, kinds, not_kinds).order_by(OutboxMessage.due_at, OutboxMessage.id)
    query = query.limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if ids:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(locked_by=worker, locked_until=now + lock_for)
        )
    return ids


def held(*, session: Session, message_id: int, worker: str) -> OutboxMessage | None:
    """The message if ``worker`` still holds it and it is pending, else None."""
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    return message if message is not None and _holds(message, worker) else None


def _holds(message: OutboxMessage, worker: str) -> bool:
    return message.status == Status.PENDING.value and message.locked_by == worker


def held_many(*, session: Session, message_ids: list[int], worker: str) -> list[OutboxMessage]:
    """Those of the messages ``worker`` still holds and that are pending, in the order given.

    One query for a claimed batch, where held() per message is a round trip each.
    """
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids))
        .execution_options(populate_existing=True)
    )
    found = {m.id: m for m in rows if _holds(m, worker)}
    return [found[i] for i in message_ids if i in found]


def settle(*, session: Session, now: datetime, message: OutboxMessage, result: Result) -> None:
    """Record a handler's result: finished, dead, or due again later."""
    message.attempts += 1
    message.last_error = result.error[:2000]
    message.locked_by = None
    message.locked_until = None
    if result.status is Status.PENDING:
        message.due_at = now + (result.retry_in or timedelta(0))
        return
    message.status = result.status.value
    message.finished_at = now


def cancel(*, session: Session, now: datetime, keys_like: str, why: str) -> int:
    """Cancel pending messages whose key starts with ``keys_like``; how many."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == Status.PENDING.value,
            OutboxMessage.key.startswith(keys_like, autoescape=True),
        )
        .values(status=Status.CANCELLED.value, finished_at=now, last_error=why)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def lease(*, session: Session, now: datetime, name: str, holder: str, ttl: timedelta) -> bool:
    """Take or renew the lease ``name``; True while ``holder`` has it."""
    current = session.get(WorkerLease, name, with_for_update=True, populate_existing=True)
    if current is None:
        try:
            with session.begin_nested():
                session.add(WorkerLease(name=name, holder=holder, expires_at=now + ttl))
        except IntegrityError:
            return False
        return True
    if current.holder != holder and current.expires_at > now:
        return False
    current.holder = holder
    current.expires_at = now + ttl
    return True


def release(*, session: Session, now: datetime, name: str, holder: str) -> None:
    """Give the lease back at once (a stopping worker), so a successor need not wait it out."""
    current = session.get(WorkerLease, name, with_for_update=True)
    if current is not None and current.holder == holder:
        current.expires_at = now


def list_messages(
    *,
    session: Session,
    status: Status | None = None,
    incident_id: int | None = None,
    limit: int = 100,
) -> list[OutboxMessage]:
    """Messages newest first, e.g. the dead letters people should look at."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == status.value)
    if incident_id is not None:
        query = query.where(OutboxMessage.incident_id == incident_id)
    return list(session.scalars(query))


def next_due(*, session: Session) -> datetime | None:
    """When the earliest pending message is due (lets an idle worker sleep longer)."""
    return session.scalar(
        select(OutboxMessage.due_at)
        .where(OutboxMessage.status == Status.PENDING.value)
        .order_by(OutboxMessage.due_at)
        .limit(1)
    )
