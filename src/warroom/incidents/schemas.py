"""API shapes for severities, incidents, timeline entries and internal updates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from warroom.incidents.rules import MAX_TEXT, MAX_TITLE, Phase
from warroom.inputs import NoNul, StrictModel

Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE), NoNul
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT), NoNul]
NonEmptyText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT), NoNul
]
SlugRef = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=63), NoNul
]
HandleRef = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64), NoNul]
SeverityRef = int | Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), NoNul]
Seconds = Annotated[int, Field(ge=1, le=30 * 86400)]


class SeverityWrite(StrictModel):
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32), NoNul
    ]
    description: Annotated[str, StringConstraints(max_length=500), NoNul] = ""
    ack_target_seconds: Seconds | None = None
    ack_next_business_day: bool = False
    update_cadence_seconds: Seconds | None = None
    postmortem_required: bool = False


class SeverityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    level: int
    name: str
    description: str
    ack_target_seconds: int | None
    ack_next_business_day: bool
    update_cadence_seconds: int | None
    postmortem_required: bool


class IncidentCreate(StrictModel):
    title: Title
    severity: SeverityRef
    services: list[SlugRef] = Field(default_factory=list, max_length=50)
    commander: HandleRef | None = None
    customer_impact: Text = ""
    drill: bool = False


class IncidentPatch(StrictModel):
    title: Title | None = None
    customer_impact: Text | None = None
    current_theory: Text | None = None
    next_action: Text | None = None
    services: list[SlugRef] | None = Field(default=None, max_length=50)

    @model_validator(mode="after")
    def _something_to_change(self) -> IncidentPatch:
        if not self.model_fields_set:
            raise ValueError("nothing to change: give at least one field")
        return self


class RolesAssign(StrictModel):
    """Handles to assign; "" clears a role, an omitted field leaves it alone."""

    commander: HandleRef | None = None
    tech_lead: HandleRef | None = None
    comms: HandleRef | None = None

    @model_validator(mode="after")
    def _some_role(self) -> RolesAssign:
        if self.commander is None and self.tech_lead is None and self.comms is None:
            raise ValueError("give at least one of commander, tech_lead, comms")
        return self


class PhaseChange(StrictModel):
    phase: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32), NoNul
    ]
    note: Text = ""


class SeverityChange(StrictModel):
    severity: SeverityRef
    reason: Text = ""


class NoteCreate(StrictModel):
    text: NonEmptyText
    at: datetime | None = Field(default=None, description="when it happened, if earlier")
    corrects: int | None = Field(default=None, description="id of a timeline entry it corrects")


class UpdateCreate(StrictModel):
    impact: Text | None = None
    theory: Text | None = None
    next_action: Text | None = None
    eta: Annotated[str, StringConstraints(max_length=32), NoNul] | None = Field(
        default=None, description="time until the next action completes, e.g. 15m"
    )


class UserRef(BaseModel):
    handle: str
    name: str


class Roles(BaseModel):
    commander: UserRef | None
    tech_lead: UserRef | None
    comms: UserRef | None


class TimelineRead(BaseModel):
    id: int
    at: datetime
    recorded_at: datetime
    actor: str | None
    kind: str
    text: str
    data: dict[str, Any]
    corrects: int | None


class IncidentRead(BaseModel):
    ref: str
    number: int
    title: str
    severity: str
    severity_level: int
    phase: Phase
    drill: bool
    customer_impact: str
    current_theory: str
    next_action: str
    roles: Roles
    services: list[str]
    declared_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ack_due_at: datetime | None
    detection_at: datetime | None
    triage_at: datetime | None
    investigating_at: datetime | None
    mitigating_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    dismissed_at: datetime | None
    next_update_due_at: datetime | None
    update_status: str
    allowed_next_phases: list[Phase]
    warnings: list[str]
    updated_at: datetime
    version: int
    timeline: list[TimelineRead] | None = None


class IncidentPage(BaseModel):
    items: list[IncidentRead]
    next_cursor: str | None


class UpdateRead(BaseModel):
    id: int
    incident: str
    posted_at: datetime
    author: str | None
    phase: str
    severity_level: int
    impact: str
    theory: str
    next_action: str
    next_action_eta_at: datetime | None
    next_update_due_at: datetime | None
    body: str


class TemplateRead(BaseModel):
    name: str
    body: str
    is_default: bool
    updated_at: datetime | None


class TemplateWrite(StrictModel):
    body: Annotated[str, StringConstraints(min_length=1, max_length=20_000), NoNul]
