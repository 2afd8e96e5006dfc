"""Tables of the public status page: components and their history, posts, subscribers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from warroom.db.base import Base, PortableJSON, UTCDateTime


class StatusComponent(Base):
    """A component customers see (a group when ``is_group``), optionally tied to a service."""

    __tablename__ = "status_component"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    is_group: Mapped[bool] = mapped_column(Boolean, default=False)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("status_component.id", ondelete="SET NULL")
    )
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(24), default="operational")
    only_show_if_degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    # Unpublished components are being set up: never shown, never in a post.
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ComponentStatusChange(Base):
    """Every status a component took, when: the uptime bars are drawn from these."""

    __tablename__ = "component_status_change"
    __table_args__ = (Index("ix_component_status_change_component_at", "component_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("status_component.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(24))


class StatusIncident(Base):
    """A public incident or scheduled maintenance, maybe linked to an internal incident."""

    __tablename__ = "status_incident"
    __table_args__ = (Index("ix_status_incident_kind_status", "kind", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(12), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="incident")  # or "maintenance"
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    impact: Mapped[str] = mapped_column(String(16), default="none")
    component_ids: Mapped[list[int]] = mapped_column(PortableJSON, default=list)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scheduled_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    monitoring_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    posts: Mapped[list[StatusPost]] = relationship(
        order_by="StatusPost.id.desc()", cascade="all, delete-orphan", lazy="selectin"
    )


class StatusPost(Base):
    """One update customers read: status, message, components changed, next update promised."""

    __tablename__ = "status_post"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(12), unique=True)
    status_incident_id: Mapped[int] = mapped_column(
        ForeignKey("status_incident.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    # [{"id": public id, "name", "old_status", "new_status"}]
    affected: Mapped[list[dict[str, Any]]] = mapped_column(PortableJSON, default=list)
    next_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    display_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Subscriber(Base):
    """An email address that asked for status mail (confirmed by a link: double opt-in)."""

    __tablename__ = "status_subscriber"
    # Ids are never reused (SQLite would give a departed subscriber's id to the next
    # sign-up, with mail still queued for the departed one and their signed links).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    component_ids: Mapped[list[int] | None] = mapped_column(PortableJSON)  # None: everything
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    bounces: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # in a row
    # Set after BOUNCE_LIMIT hard bounces in a row: no more posts until the owner confirms again.
    suppressed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PageState(Base):
    """One row: bumped by every public change, so servers know when their cached page is stale."""

    __tablename__ = "status_page_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
