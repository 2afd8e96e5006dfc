"""Alerts: integrations with hashed keys, deduplicated alerts, change events, service alert settings.

Revision ID: f23bc1723b9a
Revises: 79fdf62ca02e
Create Date: 2026-11-27 07:47:31.180118
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import warroom.db.base

revision: str = "f23bc1723b9a"
down_revision: str | None = "79fdf62ca02e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "integration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=8), nullable=False),
        sa.Column("previous_key_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "previous_key_expires_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=False),
        sa.Column(
            "rules",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_integration_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_integration_key_hash")),
    )
    with op.batch_alter_table("integration", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_integration_previous_key_hash"), ["previous_key_hash"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_integration_service_id"), ["service_id"], unique=False)

    op.create_table(
        "service_alert_settings",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column(
            "rules",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("auto_resolve", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_service_alert_settings_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_service_alert_settings")),
    )
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("dedup_key", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.String(length=1024), nullable=False),
        sa.Column("source", sa.String(length=1024), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("urgency", sa.String(length=8), nullable=False),
        sa.Column(
            "labels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "links",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("client", sa.String(length=1024), nullable=False),
        sa.Column("client_url", sa.String(length=2048), nullable=False),
        sa.Column("group_key", sa.String(length=1024), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("occurred_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_seen_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("grouping_reason", sa.Text(), nullable=False),
        sa.Column("matched_rule", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_alert_incident_id_incident"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integration.id"],
            name=op.f("fk_alert_integration_id_integration"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_alert_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index("ix_alert_incident_id", ["incident_id"], unique=False)
        batch_op.create_index("ix_alert_service_id_id", ["service_id", "id"], unique=False)
        batch_op.create_index("ix_alert_status_id", ["status", "id"], unique=False)
        batch_op.create_index(
            "uq_alert_open_key",
            ["integration_id", "dedup_key"],
            unique=True,
            sqlite_where=sa.text("status != 'resolved'"),
            postgresql_where=sa.text("status != 'resolved'"),
        )

    op.create_table(
        "change_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.String(length=1024), nullable=False),
        sa.Column("source", sa.String(length=1024), nullable=False),
        sa.Column("occurred_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "links",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integration.id"],
            name=op.f("fk_change_event_integration_id_integration"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_change_event_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_event")),
    )
    with op.batch_alter_table("change_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_change_event_service_id_occurred_at", ["service_id", "occurred_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("change_event", schema=None) as batch_op:
        batch_op.drop_index("ix_change_event_service_id_occurred_at")

    op.drop_table("change_event")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_alert_open_key",
            sqlite_where=sa.text("status != 'resolved'"),
            postgresql_where=sa.text("status != 'resolved'"),
        )
        batch_op.drop_index("ix_alert_status_id")
        batch_op.drop_index("ix_alert_service_id_id")
        batch_op.drop_index("ix_alert_incident_id")

    op.drop_table("alert")
    op.drop_table("service_alert_settings")
    with op.batch_alter_table("integration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integration_service_id"))
        batch_op.drop_index(batch_op.f("ix_integration_previous_key_hash"))

    op.drop_table("integration")
