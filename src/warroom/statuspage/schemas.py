"""API shapes for managing the status page (the public shapes are in publish.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from warroom.inputs import NoNul, StrictModel
from warroom.statuspage.rules import SubscriberState

ComponentName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul
]
ComponentStatusName = Literal[
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"
]


class ComponentCreate(StrictModel):
    name: ComponentName
    group: ComponentName | None = None
    service: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=63), NoNul] | None
    ) = None
    description: Annotated[str, StringConstraints(max_length=500), NoNul] = ""


class ComponentRead(BaseModel):
    id: str
    name: str
    group: str | None
    service: str | None
    status: str
    published: bool
    updated_at: datetime


class PostCreate(StrictModel):
    """A status post: for an internal incident or a status page incident (``incident``:
    INC-42 or the public id), or a new standalone one (``new``)."""

    incident: Annotated[str, StringConstraints(max_length=32)] | None = None
    new: bool = False
    status: Literal["investigating", "identified", "monitoring", "resolved", "postmortem"]
    message: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000), NoNul
    ]
    components: dict[ComponentName, ComponentStatusName] = Field(
        default_factory=dict, max_length=200
    )
    title: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), NoNul] | None
    ) = None
    next_update_minutes: int | None = Field(default=None, ge=1, le=24 * 60)


class PostRead(BaseModel):
    id: str
    status_incident: str
    incident: str | None
    title: str
    status: str
    message: str
    affected: list[dict[str, str]]
    next_update_at: datetime | None
    created_at: datetime
    url: str


class StatusIncidentRead(BaseModel):
    id: str
    incident: str | None
    kind: str
    title: str
    status: str
    impact: str
    next_update_at: datetime | None
    update_late: bool
    updated_at: datetime
    url: str


class SubscriberRead(BaseModel):
    """A status mail subscriber as admins see it (addresses are personal data: admins only)."""

    id: int
    email: str
    state: SubscriberState
    components: list[str] | None  # public component ids; None: every component
    bounces: int  # hard bounces in a row
    created_at: datetime
    confirmed_at: datetime | None
    suppressed_at: datetime | None
