"""Tables for severities, incidents, their timeline and internal updates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from warroom.db.base import Base, PortableJSON, UTCDateTime
from warroom.users.models import Service, User


class Severity(Base):
    __tablename__ = "severity"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    ack_target_seconds: Mapped[int | None] = mapped_column(Integer)
    ack_next_business_day: Mapped[bool] = mapped_column(Boolean, default=False)
    update_cadence_seconds: Mapped[int | None] = mapped_column(Integer)
    postmortem_required: Mapped[bool] = mapped_column(Boolean, default=False)


incident_service = Table(
    "incident_service",
    Base.metadata,
    Column("incident_id", ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("service.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_incident_service_service_incident", "service_id", "incident_id"),
)


class Incident(Base):
    __tablename__ = "incident"
    __table_args__ = (
        Index("ix_incident_phase_id", "phase", "id"),
        Index("ix_incident_severity_level_id", "severity_level", "id"),
        Index("ix_incident_drill_id", "drill", "id"),
        # "open SEV-1s, newest first": both filters and the order from one index.
        Index("ix_incident_severity_level_phase_id", "severity_level", "phase", "id"),
        Index("ix_incident_declared_at", "declared_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    severity_level: Mapped[int] = mapped_column(ForeignKey("severity.level"))
    phase: Mapped[str] = mapped_column(String(16))
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    customer_impact: Mapped[str] = mapped_column(Text, default="")
    current_theory: Mapped[str] = mapped_column(Text, default="")
    next_action: Mapped[str] = mapped_column(Text, default="")
    commander_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    tech_lead_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    comms_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detection_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    triage_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    investigating_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mitigating_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_update_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # None: no postmortem required; else the postmortem's status. Kept here so
    # that closing can be refused without the incident core knowing postmortems.
    postmortem_status: Mapped[str | None] = mapped_column(String(16))
    # Counted as they happen so the program report need not scan timelines.
    impact_changes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    severity_changes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Internal updates posted by the due time in force when each was posted (the
    # report's update-cadence compliance), counted as they are posted.
    updates_on_time: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The earliest start time of the alerts grouped into it (the report's impact
    # start for MTTD), kept as alerts arrive instead of looked up per incident.
    first_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    severity: Mapped[Severity] = relationship(lazy="select")
    commander: Mapped[User | None] = relationship(foreign_keys=[commander_id], lazy="select")
    tech_lead: Mapped[User | None] = relationship(foreign_keys=[tech_lead_id], lazy="select")
    comms: Mapped[User | None] = relationship(foreign_keys=[comms_id], lazy="select")
    acknowledged_by: Mapped[User | None] = relationship(
        foreign_keys=[acknowledged_by_id], lazy="select"
    )
    services: Mapped[list[Service]] = relationship(
        secondary=incident_service, lazy="selectin", order_by="Service.slug"
    )


class TimelineEntry(Base):
    """One append-only fact about an incident; corrections are new entries."""

    __tablename__ = "timeline_entry"
    __table_args__ = (Index("ix_timeline_entry_incident_id_at", "incident_id", "at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("timeline_entry.id"))

    actor: Mapped[User | None] = relationship(lazy="select")


class InternalUpdate(Base):
    """An internal status update (process.md §4), as it was rendered and sent."""

    __tablename__ = "internal_update"
    __table_args__ = (
        Index("ix_internal_update_incident_id_posted_at", "incident_id", "posted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    phase: Mapped[str] = mapped_column(String(16))
    severity_level: Mapped[int] = mapped_column(Integer)
    impact: Mapped[str] = mapped_column(Text, default="")
    theory: Mapped[str] = mapped_column(Text, default="")
    next_action: Mapped[str] = mapped_column(Text, default="")
    next_action_eta_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_update_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    body: Mapped[str] = mapped_column(Text)

    author: Mapped[User | None] = relationship(lazy="select")


class MessageTemplate(Base):
    """An editable template, e.g. the internal update; absent means the default."""

    __tablename__ = "message_template"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
