"""API shapes for schedules, overrides, shifts and who is on call."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, field_validator

from warroom.inputs import NoNul, StrictModel
from warroom.users.schemas import Handle, Slug, TimeZone

Clock = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class RestrictionIn(StrictModel):
    days: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default=[0, 1, 2, 3, 4, 5, 6], min_length=1
    )
    start: Clock
    end: Clock


class LayerIn(StrictModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), NoNul] = ""
    participants: list[Handle] = Field(min_length=1, max_length=100)
    shift_count: int = Field(default=1, ge=1, le=1000)
    shift_unit: Literal["hours", "days", "weeks"] = "weeks"
    handoff: Clock = "09:00"
    start: AwareDatetime
    restrictions: list[RestrictionIn] = Field(default_factory=list, max_length=20)


class ScheduleWrite(StrictModel):
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul
    ]
    time_zone: TimeZone
    team: Slug | None = None
    layers: list[LayerIn] = Field(min_length=1, max_length=20)

    @field_validator("layers")
    @classmethod
    def _distinct_names(cls, layers: list[LayerIn]) -> list[LayerIn]:
        names = [layer.name for layer in layers if layer.name]
        if len(names) != len(set(names)):
            raise ValueError("layer names must be distinct")
        return layers


class OverrideIn(StrictModel):
    user: Handle
    start: AwareDatetime
    end: AwareDatetime


class OverrideRead(BaseModel):
    id: int
    user: str
    start: datetime
    end: datetime


class ShiftRead(BaseModel):
    schedule: str
    user: str
    start: datetime
    end: datetime
    layer: str | None


class LayerRead(BaseModel):
    name: str
    participants: list[str]
    shift_count: int
    shift_unit: str
    handoff: str
    start: datetime
    restrictions: list[dict[str, object]]


class ScheduleRead(BaseModel):
    slug: str
    name: str
    time_zone: str
    team: str | None
    revision: int
    layers: list[LayerRead]
    overrides: list[OverrideRead]
    on_call_now: str | None
    feed_url: str | None = None


class OnCallRead(BaseModel):
    schedule: str
    name: str
    at: datetime
    user: str | None
    until: datetime | None


class DstChange(BaseModel):
    at: datetime
    offset_before: str
    offset_after: str


class Gap(BaseModel):
    start: datetime
    end: datetime


class PreviewRead(BaseModel):
    schedule: str
    time_zone: str
    start: datetime
    end: datetime
    shifts: list[ShiftRead]
    gaps: list[Gap]
    dst_changes: list[DstChange]


def clock_text(value: time) -> str:
    return value.strftime("%H:%M")
