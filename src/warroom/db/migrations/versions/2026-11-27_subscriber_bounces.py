"""Count status subscribers' hard bounces; suppress an address after three in a row.

Revision ID: 3e7a9c5b2d10
Revises: 9d4f2a6c1e83
Create Date: 2026-11-27 17:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import warroom.db.base

revision: str = "3e7a9c5b2d10"
down_revision: str | None = "9d4f2a6c1e83"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("status_subscriber", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bounces", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("suppressed_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("status_subscriber", schema=None) as batch_op:
        batch_op.drop_column("suppressed_at")
        batch_op.drop_column("bounces")
