"""API shapes for escalation policies and pages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from warroom.inputs import NoNul, StrictModel
from warroom.users.schemas import Handle, Slug

Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=63), NoNul]


class TargetIn(StrictModel):
    kind: Literal["user", "schedule"]
    ref: Ref


class LevelIn(StrictModel):
    targets: list[TargetIn] = Field(min_length=1, max_length=20)
    timeout_minutes: float = Field(ge=1, le=24 * 60)


class PolicyWrite(StrictModel):
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul
    ]
    repeat: int = Field(default=0, ge=0, le=9)
    levels: list[LevelIn] = Field(min_length=1, max_length=20)
    services: list[Slug] | None = Field(default=None, max_length=500)


class LevelRead(BaseModel):
    targets: list[TargetIn]
    timeout_minutes: float


class PolicyRead(BaseModel):
    slug: str
    name: str
    repeat: int
    levels: list[LevelRead]
    services: list[str]
    updated_at: datetime


class PageRead(BaseModel):
    id: int
    incident: str
    policy: str
    status: str
    urgency: str
    level: int
    round: int
    started_at: datetime
    next_step_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ended_at: datetime | None


class Reassign(StrictModel):
    user: Handle


class ServicePolicy(StrictModel):
    policy: Slug | None
