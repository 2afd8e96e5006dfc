"""Tables for escalation policies and pages (one running escalation per incident)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from warroom.db.base import Base, PortableJSON, UTCDateTime


class EscalationPolicy(Base):
    __tablename__ = "escalation_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    # [{"targets": [{"kind": "user"|"schedule", "ref": handle|slug}], "timeout_seconds": n}]
    levels: Mapped[list[dict[str, Any]]] = mapped_column(PortableJSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Page(Base):
    """Paging for one incident, run from a snapshot of the policy frozen at the start."""

    __tablename__ = "page"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    policy_slug: Mapped[str] = mapped_column(String(63))
    snapshot: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    urgency: Mapped[str] = mapped_column(String(8), default="high")
    status: Mapped[str] = mapped_column(String(16), default="active")
    round: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_step_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped by escalate/reassign so that a superseded timer does nothing.
    generation: Mapped[int] = mapped_column(Integer, default=0)
