"""API shapes for scheduled maintenance (the public shapes are in publish.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from warroom.inputs import NoNul, StrictModel
from warroom.statuspage.schemas import ComponentName

MaintenanceStatusName = Literal["scheduled", "in_progress", "verifying", "completed"]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul
]
CustomerMessage = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000), NoNul
]
TIME_HELP = (
    "ISO 8601; a time without an offset is read in the organisation's time zone (WARROOM_TIME_ZONE)"
)


class MaintenanceCreate(StrictModel):
    """A maintenance to announce, or (``start_now``) one starting at once."""

    title: Title
    message: CustomerMessage
    components: list[ComponentName] = Field(min_length=1, max_length=200)
    scheduled_for: datetime | None = Field(
        default=None,
        description=f"{TIME_HELP}; within a year, or left out with start_now",
    )
    scheduled_until: datetime = Field(description=f"{TIME_HELP}; after scheduled_for")
    start_now: bool = False


class MaintenanceUpdateCreate(StrictModel):
    """A post on a maintenance; new times move its window, new components replace its own.

    ``completed`` before it started calls the maintenance off (the public
    statuses have no "cancelled"): say so in the message.
    """

    status: MaintenanceStatusName
    message: CustomerMessage
    scheduled_for: datetime | None = Field(
        default=None, description=f"{TIME_HELP}; only while it stays scheduled"
    )
    scheduled_until: datetime | None = Field(default=None, description=TIME_HELP)
    components: list[ComponentName] | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="the components under maintenance instead; only while it stays scheduled",
    )


class MaintenancePostRead(BaseModel):
    id: str
    status: str
    message: str
    affected: list[dict[str, str]]
    created_at: datetime


class MaintenanceRead(BaseModel):
    id: str
    title: str
    status: str
    impact: str
    components: list[str]
    scheduled_for: datetime | None
    scheduled_until: datetime | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    updates: list[MaintenancePostRead]  # newest first
    url: str
