"""API shapes of the program report."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class StatRead(BaseModel):
    count: int
    mean: float | None
    median: float | None
    p90: float | None


class GroupRead(BaseModel):
    key: str
    incidents: int
    mttd_minutes: StatRead
    mtta_minutes: StatRead
    mttm_minutes: StatRead
    mttr_minutes: StatRead
    ack_compliance: float | None
    update_compliance: float | None
    phase_windows_met: dict[str, float | None]
    postmortems_on_time: float | None


class AntiPatternRead(BaseModel):
    incident: str
    kind: str
    detail: str


class ActionFigures(BaseModel):
    due: int
    closed_on_time: int
    ratio: float | None


class ReportRead(BaseModel):
    since: datetime
    until: datetime
    by: str
    overall: GroupRead
    groups: list[GroupRead]
    action_items: ActionFigures
    anti_pattern_counts: dict[str, int]
    anti_patterns: list[AntiPatternRead]  # the latest 100 incidents showing one
