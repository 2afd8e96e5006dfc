"""Scheduled maintenance timers: start at scheduled_for, complete at scheduled_until.

The service decides; this only reads the timer and reports. A retried, late
or stale timer (its maintenance moved, started by hand or finished) does
nothing and is settled as cancelled, with the reason for people to read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from warroom.outbox.models import OutboxMessage
from warroom.outbox.rules import Result
from warroom.statuspage import maintenance

TIMER = maintenance.TIMER


def run(session: Session, now: datetime, message: OutboxMessage) -> Result:
    """Fire one maintenance timer."""
    payload = message.payload
    step = str(payload.get("step"))
    if step not in maintenance.TIMER_STEPS:
        return Result.dead(f"unknown maintenance step {step!r}")
    skipped = maintenance.fire_timer(
        session=session,
        now=now,
        maintenance_id=int(payload["maintenance_id"]),
        step=step,
        at=datetime.fromisoformat(str(payload["at"])),
    )
    return Result.done() if skipped is None else Result.cancelled(skipped)
