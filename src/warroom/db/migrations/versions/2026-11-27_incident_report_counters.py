"""Count impact and severity changes on the incident, and index incidents by declaration time.

Revision ID: f21c37efc65c
Revises: f4c08b3148ec
Create Date: 2026-11-27 10:50:56.074515
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f21c37efc65c"
down_revision: str | None = "f4c08b3148ec"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("impact_changes", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("severity_changes", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_index("ix_incident_declared_at", ["declared_at"], unique=False)
    # Existing incidents: count what their timelines already hold.
    op.execute(
        "UPDATE incident SET "
        "impact_changes = (SELECT COUNT(*) FROM timeline_entry t WHERE t.incident_id = incident.id "
        "AND t.kind = 'field_changed' AND t.text LIKE 'Customer impact:%'), "
        "severity_changes = (SELECT COUNT(*) FROM timeline_entry t WHERE t.incident_id = incident.id "
        "AND t.kind = 'severity_changed')"
    )


def downgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_declared_at")
        batch_op.drop_column("severity_changes")
        batch_op.drop_column("impact_changes")
