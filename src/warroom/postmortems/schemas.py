"""API shapes for postmortems and action items."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from warroom.inputs import NoNul, StrictModel
from warroom.users.schemas import Handle

LongText = Annotated[str, StringConstraints(max_length=50_000), NoNul]
Figure = Annotated[float, Field(ge=0, le=1e15)]


class TimelineItem(StrictModel):
    at: AwareDatetime
    text: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), NoNul
    ]


class ImpactIn(StrictModel):
    failed_requests: Figure | None = None
    failed_transactions: Figure | None = None
    revenue_estimate: Figure | None = None
    minutes_degraded: Figure | None = None
    notes: Annotated[str, StringConstraints(max_length=5000), NoNul] | None = None


class PostmortemPatch(StrictModel):
    summary: LongText | None = None
    root_cause: LongText | None = None
    contributing_factors: LongText | None = None
    lessons: LongText | None = None
    impact: ImpactIn | None = None
    timeline: list[TimelineItem] | None = Field(default=None, max_length=2000)


class MarkdownIn(StrictModel):
    markdown: Annotated[str, StringConstraints(max_length=200_000), NoNul]


class ActionRead(BaseModel):
    id: int
    incident: str
    title: str
    category: str
    priority: str
    owner: str
    due: date
    status: str
    reason: str
    tracker_url: str
    overdue: bool
    created_at: datetime
    closed_at: datetime | None


class PostmortemRead(BaseModel):
    incident: str
    title: str
    status: str
    due_at: datetime | None
    overdue: bool
    summary: str
    timeline: list[dict[str, Any]]
    root_cause: str
    contributing_factors: str
    lessons: str
    impact: dict[str, Any]
    duration_minutes: float | None
    action_items: list[ActionRead]
    markdown: str
    updated_at: datetime
    published_at: datetime | None


class ActionCreate(StrictModel):
    title: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), NoNul
    ]
    category: Literal["fix", "detect", "prevent", "process"]
    priority: Literal["P0", "P1", "P2"]
    owner: Handle
    due: date
    tracker_url: Annotated[
        str, StringConstraints(max_length=2000, pattern=r"^(https?://\S+)?$")
    ] = ""


class ActionClose(StrictModel):
    status: Literal["done", "wont_do"] = "done"
    reason: Annotated[str, StringConstraints(max_length=2000), NoNul] = ""


class Finding(BaseModel):
    section: str
    start: int
    end: int
    text: str
    rule: str
    message: str
    suggestion: str
