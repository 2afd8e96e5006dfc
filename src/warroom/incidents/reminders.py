"""Internal-update reminders (process.md §4) as outbox timers. Flushes, never commits.

Whenever an incident's next update falls due at a new time, two timers are
written with it: a reminder to the Comms Lead (else the IC) shortly before,
and a check at the due time that records a missed update as late. Both
carry the due time; the worker drops them if an update moved it since.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from warroom.incidents.models import Incident
from warroom.outbox import service as outbox

REMINDER = "update_reminder"
MAX_LEAD = timedelta(minutes=5)


def schedule(*, session: Session, now: datetime, incident: Incident) -> None:
    """Write the reminder and the lateness check for the incident's next update."""
    due = incident.next_update_due_at
    if due is None or due <= now:
        return
    lead = min(MAX_LEAD, (due - now) / 3)
    stamp = due.strftime("%Y%m%dT%H%M%S%f")
    for late, at in ((False, due - lead), (True, due)):
        outbox.enqueue(
            session=session,
            now=now,
            kind=REMINDER,
            key=f"{'late' if late else 'reminder'}-{incident.id}-{stamp}",
            due_at=at,
            payload={"due": due.isoformat(), "late": late},
            incident_id=incident.id,
        )
