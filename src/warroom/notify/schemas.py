"""API shapes for contact methods, notification rules and reachability."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from warroom.inputs import NoNul, StrictModel


class ContactCreate(StrictModel):
    kind: Literal["email", "webhook"]
    target: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000), NoNul
    ]
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), NoNul] = ""


class ContactRead(BaseModel):
    id: int
    kind: str
    label: str
    target: str
    disabled_at: datetime | None
    disabled_reason: str
    last_success_at: datetime | None


class ContactCreated(ContactRead):
    """The one answer that carries a webhook's signing secret."""

    secret: str | None


class RuleIn(StrictModel):
    contact_id: int = Field(ge=1)
    delay_minutes: float = Field(default=0, ge=0, le=24 * 60)


class RuleRead(BaseModel):
    contact_id: int
    kind: str
    label: str
    delay_minutes: float


class TestQueued(BaseModel):
    queued: list[ContactRead]


class Unreachable(BaseModel):
    user: str
    schedules: list[str]
    first_shift_start: datetime
    on_call_now: bool
    problem: str
