"""Tables for on-call schedules: layers of rotations and overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from warroom.db.base import Base, PortableJSON, UTCDateTime
from warroom.users.models import Team, User


class Schedule(Base):
    __tablename__ = "schedule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"))
    # Bumped on every change: the calendar feed's SEQUENCE.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    team: Mapped[Team | None] = relationship(lazy="joined")
    layers: Mapped[list[ScheduleLayer]] = relationship(
        order_by="ScheduleLayer.position", cascade="all, delete-orphan", lazy="selectin"
    )
    overrides: Mapped[list[ScheduleOverride]] = relationship(
        order_by="ScheduleOverride.start_at", cascade="all, delete-orphan", lazy="selectin"
    )


class ScheduleLayer(Base):
    __tablename__ = "schedule_layer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("schedule.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    participants: Mapped[list[str]] = mapped_column(PortableJSON)  # user handles, in order
    shift_count: Mapped[int] = mapped_column(Integer)
    shift_unit: Mapped[str] = mapped_column(String(8))
    handoff: Mapped[str] = mapped_column(String(5))  # "HH:MM" local to the schedule
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # [{"days": [0..6], "start": "09:00", "end": "17:00"}]
    restrictions: Mapped[list[dict[str, Any]]] = mapped_column(PortableJSON, default=list)


class ScheduleOverride(Base):
    __tablename__ = "schedule_override"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("schedule.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")
