"""Status page: components and their history, public incidents and posts, subscribers, page state.

Revision ID: 72be4eba8b65
Revises: f21c37efc65c
Create Date: 2026-11-27 11:01:55.847100
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import warroom.db.base

revision: str = "72be4eba8b65"
down_revision: str | None = "f21c37efc65c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "status_page_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_page_state")),
    )
    op.create_table(
        "status_subscriber",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column(
            "component_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("confirmed_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_subscriber")),
        sa.UniqueConstraint("email", name=op.f("uq_status_subscriber_email")),
    )
    op.create_table(
        "status_component",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("is_group", sa.Boolean(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("only_show_if_degraded", sa.Boolean(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("created_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["status_component.id"],
            name=op.f("fk_status_component_group_id_status_component"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_status_component_service_id_service"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_component")),
        sa.UniqueConstraint("name", name=op.f("uq_status_component_name")),
        sa.UniqueConstraint("public_id", name=op.f("uq_status_component_public_id")),
    )
    op.create_table(
        "status_incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("impact", sa.String(length=16), nullable=False),
        sa.Column(
            "component_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("scheduled_for", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("scheduled_until", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_update_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("monitoring_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_status_incident_incident_id_incident"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_incident")),
        sa.UniqueConstraint("public_id", name=op.f("uq_status_incident_public_id")),
    )
    with op.batch_alter_table("status_incident", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_incident_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index("ix_status_incident_kind_status", ["kind", "status"], unique=False)

    op.create_table(
        "component_status_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["status_component.id"],
            name=op.f("fk_component_status_change_component_id_status_component"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_component_status_change")),
    )
    with op.batch_alter_table("component_status_change", schema=None) as batch_op:
        batch_op.create_index(
            "ix_component_status_change_component_at", ["component_id", "at"], unique=False
        )

    op.create_table(
        "status_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=12), nullable=False),
        sa.Column("status_incident_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "affected",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("next_update_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("display_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user.id"],
            name=op.f("fk_status_post_author_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["status_incident_id"],
            ["status_incident.id"],
            name=op.f("fk_status_post_status_incident_id_status_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_post")),
        sa.UniqueConstraint("public_id", name=op.f("uq_status_post_public_id")),
    )
    with op.batch_alter_table("status_post", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_post_status_incident_id"), ["status_incident_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("status_post", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_post_status_incident_id"))

    op.drop_table("status_post")
    with op.batch_alter_table("component_status_change", schema=None) as batch_op:
        batch_op.drop_index("ix_component_status_change_component_at")

    op.drop_table("component_status_change")
    with op.batch_alter_table("status_incident", schema=None) as batch_op:
        batch_op.drop_index("ix_status_incident_kind_status")
        batch_op.drop_index(batch_op.f("ix_status_incident_incident_id"))

    op.drop_table("status_incident")
    op.drop_table("status_component")
    op.drop_table("status_subscriber")
    op.drop_table("status_page_state")
