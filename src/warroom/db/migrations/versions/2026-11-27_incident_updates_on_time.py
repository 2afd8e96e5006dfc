"""Count, on the incident, the internal updates posted by the due time in force.

The report read this by ranking every internal update of the period against
the one before it, about a third of its time on 100,000 incidents; the
count is now kept as updates are posted. Existing incidents are counted
from their updates: each one's due time is the previous update's next due
time, and for the first, declaration plus its severity's cadence.

Revision ID: 5b0e7c2d9a41
Revises: 72be4eba8b65
Create Date: 2026-11-27 16:05:00.000000
"""

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

from warroom.db.base import UTCDateTime

revision: str = "5b0e7c2d9a41"
down_revision: str | None = "72be4eba8b65"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("updates_on_time", sa.Integer(), server_default="0", nullable=False)
        )
    counts = _on_time_counts(op.get_bind())
    if counts:
        incident = sa.table("incident", sa.column("id"), sa.column("updates_on_time"))
        op.get_bind().execute(
            incident.update()
            .where(incident.c.id == sa.bindparam("incident_id"))
            .values(updates_on_time=sa.bindparam("on_time")),
            [{"incident_id": i, "on_time": n} for i, n in counts.items()],
        )


def _on_time_counts(bind: sa.Connection) -> Counter[int]:
    update = sa.table(
        "internal_update",
        sa.column("id"),
        sa.column("incident_id"),
        sa.column("severity_level"),
        sa.column("posted_at", UTCDateTime()),
        sa.column("next_update_due_at", UTCDateTime()),
    )
    incident = sa.table("incident", sa.column("id"), sa.column("declared_at", UTCDateTime()))
    severity = sa.table("severity", sa.column("level"), sa.column("update_cadence_seconds"))
    rows = bind.execute(
        sa.select(
            update.c.incident_id,
            update.c.posted_at,
            update.c.next_update_due_at,
            incident.c.declared_at,
            severity.c.update_cadence_seconds,
        )
        .join(incident, incident.c.id == update.c.incident_id)
        .outerjoin(severity, severity.c.level == update.c.severity_level)
        .order_by(update.c.incident_id, update.c.posted_at, update.c.id)
    )
    counts: Counter[int] = Counter()
    previous: int | None = None
    due: datetime | None = None
    for incident_id, posted_at, next_due_at, declared_at, cadence in rows:
        if incident_id != previous:  # an incident's first update: due a cadence after declaring
            due = declared_at + timedelta(seconds=cadence) if cadence else None
        if due is not None and posted_at <= due:
            counts[incident_id] += 1
        previous, due = incident_id, next_due_at
    return counts


def downgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_column("updates_on_time")
