"""Tables for integrations, alerts and change events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from warroom.db.base import Base, PortableJSON, UTCDateTime
from warroom.incidents.models import Incident
from warroom.users.models import Service


class Integration(Base):
    """A keyed entry point through which one tool sends alerts for a service."""

    __tablename__ = "integration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(8))
    previous_key_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    previous_key_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, default=0)
    rules: Mapped[list[Any]] = mapped_column(PortableJSON, default=list)
    config: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    service: Mapped[Service] = relationship(lazy="select")


class Alert(Base):
    """One alert, deduplicated by key while open; a count of its repeats."""

    __tablename__ = "alert"
    __table_args__ = (
        # At most one open alert per key and integration: the dedup invariant.
        Index(
            "uq_alert_open_key",
            "integration_id",
            "dedup_key",
            unique=True,
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
        Index("ix_alert_status_id", "status", "id"),
        Index("ix_alert_service_id_id", "service_id", "id"),
        Index("ix_alert_incident_id", "incident_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integration.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id", ondelete="SET NULL"))
    dedup_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(1024))
    source: Mapped[str] = mapped_column(String(1024), default="")
    severity: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(8), default="high")
    labels: Mapped[dict[str, str]] = mapped_column(PortableJSON, default=dict)
    details: Mapped[Any] = mapped_column(PortableJSON, nullable=True)
    links: Mapped[list[Any]] = mapped_column(PortableJSON, default=list)
    client: Mapped[str] = mapped_column(String(1024), default="")
    client_url: Mapped[str] = mapped_column(String(2048), default="")
    group_key: Mapped[str] = mapped_column(String(1024), default="")
    count: Mapped[int] = mapped_column(Integer, default=1)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    grouping_reason: Mapped[str] = mapped_column(Text, default="")
    matched_rule: Mapped[str | None] = mapped_column(String(100))

    integration: Mapped[Integration] = relationship(lazy="select")
    service: Mapped[Service] = relationship(lazy="select")
    incident: Mapped[Incident | None] = relationship(lazy="select")


class ChangeEvent(Base):
    """A deploy or configuration change on a service (PagerDuty change events)."""

    __tablename__ = "change_event"
    __table_args__ = (Index("ix_change_event_service_id_occurred_at", "service_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integration.id", ondelete="SET NULL")
    )
    summary: Mapped[str] = mapped_column(String(1024))
    source: Mapped[str] = mapped_column(String(1024), default="")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[Any] = mapped_column(PortableJSON, nullable=True)
    links: Mapped[list[Any]] = mapped_column(PortableJSON, default=list)


class ServiceAlertSettings(Base):
    """Per-service alert handling: routing rules and self-resolution."""

    __tablename__ = "service_alert_settings"

    service_id: Mapped[int] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), primary_key=True
    )
    rules: Mapped[list[Any]] = mapped_column(PortableJSON, default=list)
    auto_resolve: Mapped[bool] = mapped_column(Boolean, default=True)
