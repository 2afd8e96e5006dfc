"""Everything the public page shows, read once per page version: the snapshot.

Only public tables are read here (components, public incidents and their
posts); internal incidents, notes and people never enter the snapshot, so
no renderer can leak them.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.statuspage import rules
from warroom.statuspage.models import ComponentStatusChange, StatusComponent, StatusIncident
from warroom.statuspage.publish import (
    AffectedComponent,
    ComponentView,
    IncidentView,
    PageInfo,
    UpdateView,
)
from warroom.statuspage.rules import ComponentStatus, DayBar, Impact, MaintenanceStatus, PostStatus

DAYS = 90
RECENT = 50


@dataclass(frozen=True)
class PageConfig:
    name: str
    url: str  # the public page, e.g. https://status.example.com/status
    time_zone: str
    secret: str  # only to derive a stable page id


@dataclass(frozen=True)
class Uptime:
    days: list[DayBar]
    overall: float


@dataclass(frozen=True)
class Snapshot:
    version: int
    page: PageInfo
    components: list[ComponentView]  # groups and leaves, published only
    leaves: list[ComponentView]
    incidents: list[IncidentView]  # the latest, and every unresolved one
    maintenances: list[IncidentView]
    status: tuple[str, str]
    uptime: dict[str, Uptime]

    def find(self, public_id: str) -> IncidentView | None:
        return next((i for i in [*self.incidents, *self.maintenances] if i.id == public_id), None)


def page_id(secret: str) -> str:
    return hashlib.sha256(f"warroom-status-page:{secret}".encode()).hexdigest()[:12]


def _components(session: Session) -> tuple[list[StatusComponent], dict[int, StatusComponent]]:
    rows = list(
        session.scalars(
            select(StatusComponent).order_by(StatusComponent.position, StatusComponent.id)
        )
    )
    shown = [r for r in rows if r.published and not r.is_group]
    groups = {r.id: r for r in rows if r.is_group and any(c.group_id == r.id for c in shown)}
    return [*groups.values(), *shown], {r.id: r for r in rows}


def _view(
    row: StatusComponent, rows: list[StatusComponent], by_id: dict[int, StatusComponent]
) -> ComponentView:
    children = [c.public_id for c in rows if c.group_id == row.id and not c.is_group]
    status = ComponentStatus(row.status)
    if row.is_group:
        statuses = [
            ComponentStatus(c.status) for c in rows if c.group_id == row.id and not c.is_group
        ]
        status = rules.worst_status(statuses) if statuses else ComponentStatus.OPERATIONAL
    parent = by_id.get(row.group_id) if row.group_id else None
    return ComponentView(
        id=row.public_id,
        name=row.name,
        status=status,
        position=row.position,
        description=row.description or None,
        group_id=parent.public_id if parent else None,
        is_group=row.is_group,
        children=children,
        created_at=row.created_at,
        updated_at=row.updated_at,
        only_show_if_degraded=row.only_show_if_degraded,
    )


def _incident_view(
    row: StatusIncident, components: dict[int, ComponentView], base: str
) -> IncidentView:
    maintenance = row.kind == "maintenance"
    updates = [
        UpdateView(
            id=p.public_id,
            status=MaintenanceStatus(p.status) if maintenance else PostStatus(p.status),
            body=p.message,
            created_at=p.created_at,
            updated_at=p.created_at,
            display_at=p.display_at,
            affected=[
                AffectedComponent(
                    a["id"],
                    a["name"],
                    ComponentStatus(a["old_status"]),
                    ComponentStatus(a["new_status"]),
                )
                for a in p.affected
            ],
            next_update_at=p.next_update_at if position == 0 else None,
        )
        for position, p in enumerate(row.posts)  # newest first
    ]
    return IncidentView(
        id=row.public_id,
        name=row.title,
        status=MaintenanceStatus(row.status) if maintenance else PostStatus(row.status),
        impact=Impact(row.impact),
        created_at=row.created_at,
        updated_at=row.updated_at,
        started_at=row.started_at,
        monitoring_at=row.monitoring_at,
        resolved_at=row.resolved_at,
        shortlink=f"{base}/incidents/{row.public_id}",
        updates=updates,
        components=[components[c] for c in row.component_ids if c in components],
        scheduled_for=row.scheduled_for,
        scheduled_until=row.scheduled_until,
        number=row.id,
    )


def _public_incidents(session: Session, kind: str) -> list[StatusIncident]:
    recent = list(
        session.scalars(
            select(StatusIncident)
            .where(StatusIncident.kind == kind)
            .order_by(StatusIncident.id.desc())
            .limit(RECENT)
        )
    )
    known = {r.id for r in recent}
    open_ones = session.scalars(
        select(StatusIncident).where(
            StatusIncident.kind == kind,
            StatusIncident.resolved_at.is_(None),
            StatusIncident.id.not_in(known),
        )
    )
    return [*recent, *open_ones]


def _uptime(
    session: Session,
    component: StatusComponent,
    now: datetime,
    zone: str,
    incidents_by_day: dict[date, list[str]],
) -> Uptime:
    since = now - timedelta(days=DAYS + 2)
    before = session.scalars(
        select(ComponentStatusChange.status)
        .where(ComponentStatusChange.component_id == component.id, ComponentStatusChange.at < since)
        .order_by(ComponentStatusChange.at.desc())
        .limit(1)
    ).first()
    changes = [
        rules.StatusChange(at, ComponentStatus(status))
        for at, status in session.execute(
            select(ComponentStatusChange.at, ComponentStatusChange.status)
            .where(
                ComponentStatusChange.component_id == component.id,
                ComponentStatusChange.at >= since,
            )
            .order_by(ComponentStatusChange.at)
        )
    ]
    bars = rules.uptime_bars(
        changes,
        initial=ComponentStatus(before or "operational"),
        end=now,
        days=DAYS,
        tz=zone,
        created=component.created_at,
        incidents_by_day=incidents_by_day,
    )
    return Uptime(days=bars, overall=rules.overall_uptime(bars))


def _incidents_by_day(
    rows: list[StatusIncident], component_id: int, zone: str, now: datetime
) -> dict[date, list[str]]:
    tz = rules.page_zone(zone)
    found: dict[date, list[str]] = defaultdict(list)
    for row in rows:
        if component_id not in row.component_ids:
            continue
        day, last = (
            row.started_at.astimezone(tz).date(),
            (row.resolved_at or now).astimezone(tz).date(),
        )
        while day <= last:
            found[day].append(row.title)
            day += timedelta(days=1)
    return found


def snapshot(session: Session, config: PageConfig, now: datetime, version: int) -> Snapshot:
    rows, by_id = _components(session)
    views = [_view(r, rows, by_id) for r in rows]
    by_row = {r.id: v for r, v in zip(rows, views, strict=True)}
    incidents = _public_incidents(session, "incident")
    maintenances = _public_incidents(session, "maintenance")
    leaves = [v for v in views if not v.is_group]
    open_impacts = [Impact(r.impact) for r in incidents if r.resolved_at is None]
    updated = max(
        [
            now - timedelta(days=DAYS),
            *(r.updated_at for r in incidents),
            *(c.updated_at for c in rows),
        ]
    )
    page = PageInfo(
        id=page_id(config.secret),
        name=config.name,
        url=config.url,
        time_zone=config.time_zone,
        updated_at=updated,
    )
    uptime = {
        by_row[r.id].id: _uptime(
            session,
            r,
            now,
            config.time_zone,
            _incidents_by_day(incidents, r.id, config.time_zone, now),
        )
        for r in rows
        if not r.is_group
    }
    return Snapshot(
        version=version,
        page=page,
        components=views,
        leaves=leaves,
        incidents=[_incident_view(r, by_row, config.url) for r in incidents],
        maintenances=[_incident_view(r, by_row, config.url) for r in maintenances],
        status=rules.page_status([v.status for v in leaves], open_impacts=open_impacts),
        uptime=uptime,
    )
