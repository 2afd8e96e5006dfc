"""JSON API for the program report: metrics by group, and anti-patterns."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from warroom.db.uow import unit_of_work
from warroom.incidents.rules import format_ref
from warroom.reports import rules, service
from warroom.reports.rules import Group
from warroom.reports.schemas import ActionFigures, AntiPatternRead, GroupRead, ReportRead, StatRead
from warroom.web.deps import ClockDep, Sessions, Viewer

router = APIRouter(prefix="/api/v1", tags=["reports"])


def group_read(group: Group) -> GroupRead:
    stats = {name: StatRead(**asdict(value)) for name, value in group.stats.items()}
    return GroupRead(
        key=group.key,
        incidents=group.incidents,
        mttd_minutes=stats["mttd"],
        mtta_minutes=stats["mtta"],
        mttm_minutes=stats["mttm"],
        mttr_minutes=stats["mttr"],
        ack_compliance=group.ack_compliance,
        update_compliance=group.update_compliance,
        phase_windows_met=group.phase_windows_met,
        postmortems_on_time=group.postmortems_on_time,
    )


@router.get("/report")
def report(
    _: Viewer,
    sessions: Sessions,
    clock: ClockDep,
    since: Annotated[str, Query(max_length=40)] = "30d",
    until: Annotated[str | None, Query(max_length=40)] = None,
    by: Literal["severity", "service", "team", "all"] = "severity",
) -> ReportRead:
    """MTTD, MTTA, MTTM, MTTR (minutes: mean, median, p90), compliance, anti-patterns.

    Drills are excluded. ``since`` and ``until``: 30d, 12w, 48h or an ISO date.
    """
    now = clock.now()
    start = rules.parse_since(since, now)
    end = rules.parse_since(until, now, field="until") if until else None
    with unit_of_work(sessions, write=False) as session:
        built = service.build(session=session, now=now, since=start, until=end, by=by)
    return ReportRead(
        since=built.since,
        until=built.until,
        by=built.by,
        overall=group_read(built.overall),
        groups=[group_read(g) for g in built.groups],
        action_items=ActionFigures(
            due=built.actions_due,
            closed_on_time=built.actions_on_time,
            ratio=built.actions_on_time_ratio,
        ),
        anti_pattern_counts=built.anti_pattern_counts,
        anti_patterns=[
            AntiPatternRead(incident=format_ref(p.incident_id), kind=p.kind, detail=p.detail)
            for p in built.anti_patterns
        ],
    )
