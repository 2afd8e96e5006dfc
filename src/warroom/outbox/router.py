"""JSON API for the outbox: what is queued, and the dead letters people must look at."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from warroom.db.uow import unit_of_work
from warroom.incidents.rules import format_ref
from warroom.outbox import service as outbox
from warroom.outbox.models import OutboxMessage
from warroom.outbox.rules import Status
from warroom.web.deps import ClockDep, Responder, Sessions

router = APIRouter(prefix="/api/v1", tags=["outbox"])


class MessageRead(BaseModel):
    id: int
    kind: str
    key: str
    status: str
    incident: str | None
    attempts: int
    due_at: datetime
    last_error: str
    payload: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None


def message_read(message: OutboxMessage) -> MessageRead:
    return MessageRead(
        id=message.id,
        kind=message.kind,
        key=message.key,
        status=message.status,
        incident=format_ref(message.incident_id) if message.incident_id else None,
        attempts=message.attempts,
        due_at=message.due_at,
        last_error=message.last_error,
        payload=message.payload,
        created_at=message.created_at,
        finished_at=message.finished_at,
    )


@router.get("/outbox")
def list_outbox(
    _: Responder,
    sessions: Sessions,
    clock: ClockDep,
    status: Literal["pending", "done", "dead", "cancelled"] | None = "dead",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[MessageRead]:
    """Outbox messages newest first; by default the dead letters (deliveries that gave up)."""
    with unit_of_work(sessions, write=False) as session:
        rows = outbox.list_messages(
            session=session, status=Status(status) if status else None, limit=limit
        )
        return [message_read(m) for m in rows]
