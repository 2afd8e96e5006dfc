"""Initial schema: users, teams, services, severities, incidents, timeline, updates.

Revision ID: 79fdf62ca02e
Revises:
Create Date: 2026-11-27 07:35:32.755161
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import warroom.db.base

revision: str = "79fdf62ca02e"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "severity",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("ack_target_seconds", sa.Integer(), nullable=True),
        sa.Column("ack_next_business_day", sa.Boolean(), nullable=False),
        sa.Column("update_cadence_seconds", sa.Integer(), nullable=True),
        sa.Column("postmortem_required", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("level", name=op.f("pk_severity")),
        sa.UniqueConstraint("name", name=op.f("uq_severity_name")),
    )
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team")),
        sa.UniqueConstraint("slug", name=op.f("uq_team_slug")),
    )
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handle", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user")),
        sa.UniqueConstraint("email", name=op.f("uq_user_email")),
        sa.UniqueConstraint("handle", name=op.f("uq_user_handle")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_api_token_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("severity_level", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("drill", sa.Boolean(), nullable=False),
        sa.Column("customer_impact", sa.Text(), nullable=False),
        sa.Column("current_theory", sa.Text(), nullable=False),
        sa.Column("next_action", sa.Text(), nullable=False),
        sa.Column("commander_id", sa.Integer(), nullable=True),
        sa.Column("tech_lead_id", sa.Integer(), nullable=True),
        sa.Column("comms_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("declared_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("detection_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("triage_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("investigating_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("mitigating_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dismissed_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_update_due_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"], ["user.id"], name=op.f("fk_incident_acknowledged_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["commander_id"], ["user.id"], name=op.f("fk_incident_commander_id_user")
        ),
        sa.ForeignKeyConstraint(["comms_id"], ["user.id"], name=op.f("fk_incident_comms_id_user")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_incident_created_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["severity_level"], ["severity.level"], name=op.f("fk_incident_severity_level_severity")
        ),
        sa.ForeignKeyConstraint(
            ["tech_lead_id"], ["user.id"], name=op.f("fk_incident_tech_lead_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident")),
    )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.create_index("ix_incident_drill_id", ["drill", "id"], unique=False)
        batch_op.create_index("ix_incident_phase_id", ["phase", "id"], unique=False)
        batch_op.create_index(
            "ix_incident_severity_level_id", ["severity_level", "id"], unique=False
        )

    op.create_table(
        "message_template",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["user.id"], name=op.f("fk_message_template_updated_by_id_user")
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_message_template")),
    )
    op.create_table(
        "service",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("created_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_service_team_id_team"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service")),
        sa.UniqueConstraint("slug", name=op.f("uq_service_slug")),
    )
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_team_id"), ["team_id"], unique=False)

    op.create_table(
        "team_member",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_team_member_team_id_team"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_team_member_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_team_member")),
    )
    with op.batch_alter_table("team_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_team_member_user_id"), ["user_id"], unique=False)

    op.create_table(
        "incident_service",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_service_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_incident_service_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "service_id", name=op.f("pk_incident_service")),
    )
    with op.batch_alter_table("incident_service", schema=None) as batch_op:
        batch_op.create_index(
            "ix_incident_service_service_incident", ["service_id", "incident_id"], unique=False
        )

    op.create_table(
        "internal_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("posted_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("severity_level", sa.Integer(), nullable=False),
        sa.Column("impact", sa.Text(), nullable=False),
        sa.Column("theory", sa.Text(), nullable=False),
        sa.Column("next_action", sa.Text(), nullable=False),
        sa.Column("next_action_eta_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_update_due_at", warroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name=op.f("fk_internal_update_author_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_internal_update_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_internal_update")),
    )
    with op.batch_alter_table("internal_update", schema=None) as batch_op:
        batch_op.create_index(
            "ix_internal_update_incident_id_posted_at", ["incident_id", "posted_at"], unique=False
        )

    op.create_table(
        "timeline_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", warroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user.id"], name=op.f("fk_timeline_entry_actor_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["corrects_id"],
            ["timeline_entry.id"],
            name=op.f("fk_timeline_entry_corrects_id_timeline_entry"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_timeline_entry_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline_entry")),
    )
    with op.batch_alter_table("timeline_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_timeline_entry_incident_id_at", ["incident_id", "at", "id"], unique=False
        )

    severity = sa.table(
        "severity",
        sa.column("level", sa.Integer),
        sa.column("name", sa.String),
        sa.column("description", sa.String),
        sa.column("ack_target_seconds", sa.Integer),
        sa.column("ack_next_business_day", sa.Boolean),
        sa.column("update_cadence_seconds", sa.Integer),
        sa.column("postmortem_required", sa.Boolean),
    )
    # The defaults of process.md section 1; organisations may change them later.
    op.bulk_insert(
        severity,
        [
            {
                "level": 1,
                "name": "SEV-1",
                "description": "Full outage, data loss or security breach",
                "ack_target_seconds": 300,
                "ack_next_business_day": False,
                "update_cadence_seconds": 900,
                "postmortem_required": True,
            },
            {
                "level": 2,
                "name": "SEV-2",
                "description": "Major feature degraded, many users affected",
                "ack_target_seconds": 900,
                "ack_next_business_day": False,
                "update_cadence_seconds": 1800,
                "postmortem_required": True,
            },
            {
                "level": 3,
                "name": "SEV-3",
                "description": "Minor feature degraded, a workaround exists",
                "ack_target_seconds": 3600,
                "ack_next_business_day": False,
                "update_cadence_seconds": 3600,
                "postmortem_required": False,
            },
            {
                "level": 4,
                "name": "SEV-4",
                "description": "Cosmetic, no user impact",
                "ack_target_seconds": None,
                "ack_next_business_day": True,
                "update_cadence_seconds": None,
                "postmortem_required": False,
            },
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("timeline_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_timeline_entry_incident_id_at")

    op.drop_table("timeline_entry")
    with op.batch_alter_table("internal_update", schema=None) as batch_op:
        batch_op.drop_index("ix_internal_update_incident_id_posted_at")

    op.drop_table("internal_update")
    with op.batch_alter_table("incident_service", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_service_service_incident")

    op.drop_table("incident_service")
    with op.batch_alter_table("team_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_member_user_id"))

    op.drop_table("team_member")
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_team_id"))

    op.drop_table("service")
    op.drop_table("message_template")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_severity_level_id")
        batch_op.drop_index("ix_incident_phase_id")
        batch_op.drop_index("ix_incident_drill_id")

    op.drop_table("incident")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))

    op.drop_table("api_token")
    op.drop_table("user")
    op.drop_table("team")
    op.drop_table("severity")
