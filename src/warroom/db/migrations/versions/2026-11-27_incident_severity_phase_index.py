"""Index incidents by severity, phase and id for the filtered incident list.

Revision ID: 3c9d1e7a5b20
Revises: f23bc1723b9a
Create Date: 2026-11-27 09:25:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3c9d1e7a5b20"
down_revision: str | None = "f23bc1723b9a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.create_index(
            "ix_incident_severity_level_phase_id", ["severity_level", "phase", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_severity_level_phase_id")
