"""API shapes for integrations, alerts, change events and customer reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from warroom.inputs import NoNul, StrictModel

Slug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=63), NoNul]
Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), NoNul]
IntegrationTypeName = Annotated[
    str, StringConstraints(pattern="^(alertmanager|pagerduty|grafana|generic)$")
]
RateLimit = Annotated[int, Field(ge=0, le=1_000_000)]


class IntegrationCreate(StrictModel):
    service: Slug
    type: IntegrationTypeName
    name: Name = ""
    rate_limit_per_minute: RateLimit = 0
    rules: list[dict[str, Any]] = Field(default_factory=list, max_length=100)
    config: dict[str, Any] = Field(default_factory=dict)


class IntegrationUpdate(StrictModel):
    name: Name | None = None
    rate_limit_per_minute: RateLimit | None = None
    rules: list[dict[str, Any]] | None = Field(default=None, max_length=100)
    config: dict[str, Any] | None = None


class IntegrationRead(BaseModel):
    id: int
    service: str
    type: str
    name: str
    key_prefix: str
    rate_limit_per_minute: int
    rules: list[Any]
    config: dict[str, Any]
    endpoint: str
    created_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None


class IntegrationKey(BaseModel):
    """The one answer that carries an integration key in plain text."""

    id: int
    key: str
    endpoint: str


class AlertRead(BaseModel):
    id: int
    dedup_key: str
    status: str
    summary: str
    source: str
    severity: str
    urgency: str
    service: str
    integration: str
    incident: str | None
    count: int
    labels: dict[str, str]
    details: Any
    links: list[Any]
    first_seen_at: datetime
    last_seen_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    grouping_reason: str
    matched_rule: str | None


class AlertPage(BaseModel):
    items: list[AlertRead]
    next_cursor: str | None


class ChangeRead(BaseModel):
    id: int
    service: str
    summary: str
    source: str
    occurred_at: datetime
    details: Any
    links: list[Any]


class AlertSettingsWrite(StrictModel):
    rules: list[dict[str, Any]] = Field(default_factory=list, max_length=100)
    auto_resolve: bool = True


class AlertSettingsRead(BaseModel):
    service: str
    rules: list[Any]
    auto_resolve: bool


class ReportCreate(StrictModel):
    text: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000), NoNul
    ]
    service: Slug | None = None
    reporter: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), NoNul] = ""


class ReportRead(BaseModel):
    incident: str
    joined: bool
