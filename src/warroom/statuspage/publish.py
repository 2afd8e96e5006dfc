"""Statuspage-compatible JSON documents of the public status API v2 (protocols.md §3)."""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import orjson

from warroom.errors import Invalid
from warroom.statuspage.rules import (
    ACTIVE_MAINTENANCE,
    OPEN_POST_STATUSES,
    UPCOMING_MAINTENANCE,
    ComponentStatus,
    Impact,
    MaintenanceStatus,
    PostStatus,
    page_zone,
)

# JSON objects are heterogeneous by nature; Any lets callers index into them.
Doc = dict[str, Any]
MaintenanceKind = Literal["all", "upcoming", "active"]

PAGE_ID = re.compile(r"[a-z0-9]{12}")
RECENT_LIMIT = 50


@dataclass(frozen=True)
class PageInfo:
    """The public page; ``time_zone`` decides how every timestamp is rendered."""

    id: str
    name: str
    url: str
    time_zone: str
    updated_at: datetime

    def __post_init__(self) -> None:
        if not PAGE_ID.fullmatch(self.id):
            raise Invalid("a page id is 12 lowercase letters or digits", field="id")
        page_zone(self.time_zone)

    @property
    def zone(self) -> ZoneInfo:
        """The page's IANA time zone."""
        return page_zone(self.time_zone)


@dataclass(frozen=True)
class ComponentView:
    """A component or a group container as the public API shows it."""

    id: str
    name: str
    status: ComponentStatus
    position: int
    description: str | None
    group_id: str | None
    is_group: bool
    children: list[str]
    created_at: datetime
    updated_at: datetime
    only_show_if_degraded: bool = False
    showcase: bool = True
    start_date: date | None = None


@dataclass(frozen=True)
class AffectedComponent:
    """A component state change announced by an update."""

    id: str
    name: str
    old_status: ComponentStatus
    new_status: ComponentStatus


@dataclass(frozen=True)
class UpdateView:
    """One customer post of an incident or maintenance."""

    id: str
    status: PostStatus | MaintenanceStatus
    body: str
    created_at: datetime
    updated_at: datetime
    display_at: datetime
    affected: list[AffectedComponent]
    deliver_notifications: bool = True
    # The update customers were promised next; set on the newest post of an open
    # incident only, since a later post replaces the promise of an earlier one.
    next_update_at: datetime | None = None


@dataclass(frozen=True)
class IncidentView:
    """An incident, or a maintenance when ``status`` is a MaintenanceStatus.

    ``number`` is the internal numeric id that feeds use in entry ids.
    """

    id: str
    name: str
    status: PostStatus | MaintenanceStatus
    impact: Impact
    created_at: datetime
    updated_at: datetime
    started_at: datetime
    monitoring_at: datetime | None
    resolved_at: datetime | None
    shortlink: str
    updates: list[UpdateView]
    components: list[ComponentView]
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None
    number: int = field(default=0, kw_only=True)

    @property
    def is_maintenance(self) -> bool:
        """True for a scheduled maintenance."""
        return isinstance(self.status, MaintenanceStatus)


def localise(value: datetime, zone: ZoneInfo) -> datetime:
    """``value`` in ``zone``; naive datetimes are refused, never guessed to be UTC."""
    if value.utcoffset() is None:
        raise ValueError("naive datetime: status page times must carry an offset")
    return value.astimezone(zone)


def stamp(value: datetime, zone: ZoneInfo) -> str:
    """ISO 8601 with milliseconds and the offset of ``zone``, as Statuspage renders times."""
    return localise(value, zone).isoformat(timespec="milliseconds")


def _stamp_or_none(value: datetime | None, zone: ZoneInfo) -> str | None:
    return None if value is None else stamp(value, zone)


def page_doc(page: PageInfo) -> Doc:
    """The ``page`` object every response starts with."""
    return {
        "id": page.id,
        "name": page.name,
        "url": page.url,
        "time_zone": page.time_zone,
        "updated_at": stamp(page.updated_at, page.zone),
    }


def component_doc(component: ComponentView, page: PageInfo) -> Doc:
    """One component object; groups also list their children's ids."""
    zone = page.zone
    doc: Doc = {
        "id": component.id,
        "name": component.name,
        "status": component.status.value,
        "created_at": stamp(component.created_at, zone),
        "updated_at": stamp(component.updated_at, zone),
        "position": component.position,
        "description": component.description,
        "showcase": component.showcase,
        "start_date": component.start_date.isoformat() if component.start_date else None,
        "group_id": component.group_id,
        "page_id": page.id,
        "group": component.is_group,
        "only_show_if_degraded": component.only_show_if_degraded,
    }
    if component.is_group:
        doc["components"] = list(component.children)
    return doc


def update_doc(update: UpdateView, incident_id: str, zone: ZoneInfo) -> Doc:
    """One incident_update object; ``affected_components`` is null when none changed."""
    affected = [
        {
            "code": a.id,
            "name": a.name,
            "old_status": a.old_status.value,
            "new_status": a.new_status.value,
        }
        for a in update.affected
    ]
    return {
        "id": update.id,
        "status": update.status.value,
        "body": update.body,
        "incident_id": incident_id,
        "created_at": stamp(update.created_at, zone),
        "updated_at": stamp(update.updated_at, zone),
        "display_at": stamp(update.display_at, zone),
        "affected_components": affected or None,
        "deliver_notifications": update.deliver_notifications,
        "custom_tweet": None,
        "tweet_id": None,
    }


def incident_doc(incident: IncidentView, page: PageInfo) -> Doc:
    """One incident object, plus the schedule for a maintenance."""
    zone = page.zone
    doc: Doc = {
        "id": incident.id,
        "name": incident.name,
        "status": incident.status.value,
        "created_at": stamp(incident.created_at, zone),
        "updated_at": stamp(incident.updated_at, zone),
        "monitoring_at": _stamp_or_none(incident.monitoring_at, zone),
        "resolved_at": _stamp_or_none(incident.resolved_at, zone),
        "impact": incident.impact.value,
        "shortlink": incident.shortlink,
        "started_at": stamp(incident.started_at, zone),
        "page_id": page.id,
        "incident_updates": [update_doc(u, incident.id, zone) for u in incident.updates],
        "components": [component_doc(c, page) for c in incident.components],
    }
    if incident.is_maintenance:
        doc["scheduled_for"] = _stamp_or_none(incident.scheduled_for, zone)
        doc["scheduled_until"] = _stamp_or_none(incident.scheduled_until, zone)
    return doc


def _newest_first(items: Iterable[IncidentView]) -> list[IncidentView]:
    return sorted(items, key=lambda i: i.created_at, reverse=True)


def _by_position(components: Iterable[ComponentView]) -> list[ComponentView]:
    return sorted(components, key=lambda c: c.position)


def unresolved(incidents: Iterable[IncidentView]) -> list[IncidentView]:
    """Incidents still investigating, identified or monitoring, newest first."""
    return _newest_first(i for i in incidents if i.status in OPEN_POST_STATUSES)


def maintenances_of(
    maintenances: Iterable[IncidentView], kind: MaintenanceKind
) -> list[IncidentView]:
    """Maintenances of ``kind``, newest first; "all" keeps the RECENT_LIMIT most recent."""
    if kind == "all":
        return _newest_first(maintenances)[:RECENT_LIMIT]
    wanted = {"upcoming": UPCOMING_MAINTENANCE, "active": ACTIVE_MAINTENANCE}.get(kind)
    if wanted is None:
        raise Invalid(f"unknown maintenance list {kind!r}", field="kind")
    return _newest_first(m for m in maintenances if m.status in wanted)


def summary(
    page: PageInfo,
    components: Sequence[ComponentView],
    incidents: Sequence[IncidentView],
    maintenances: Sequence[IncidentView],
    status: tuple[str, str],
) -> Doc:
    """``summary.json``: unresolved incidents and upcoming or active maintenances only."""
    current = maintenances_of(maintenances, "upcoming") + maintenances_of(maintenances, "active")
    return {
        "page": page_doc(page),
        "components": [component_doc(c, page) for c in _by_position(components)],
        "incidents": [incident_doc(i, page) for i in unresolved(incidents)],
        "scheduled_maintenances": [incident_doc(m, page) for m in _newest_first(current)],
        "status": _status(status),
    }


def _status(status: tuple[str, str]) -> Doc:
    indicator, description = status
    return {"indicator": indicator, "description": description}


def status_doc(page: PageInfo, status: tuple[str, str]) -> Doc:
    """``status.json``: the rollup only."""
    return {"page": page_doc(page), "status": _status(status)}


def components_doc(page: PageInfo, components: Sequence[ComponentView]) -> Doc:
    """``components.json``, in display order."""
    return {
        "page": page_doc(page),
        "components": [component_doc(c, page) for c in _by_position(components)],
    }


def incidents_doc(page: PageInfo, incidents: Sequence[IncidentView]) -> Doc:
    """``incidents.json``: the RECENT_LIMIT most recent incidents, any status."""
    recent = _newest_first(incidents)[:RECENT_LIMIT]
    return {"page": page_doc(page), "incidents": [incident_doc(i, page) for i in recent]}


def unresolved_doc(page: PageInfo, incidents: Sequence[IncidentView]) -> Doc:
    """``incidents/unresolved.json``."""
    return {
        "page": page_doc(page),
        "incidents": [incident_doc(i, page) for i in unresolved(incidents)],
    }


def maintenances_doc(
    page: PageInfo, maintenances: Sequence[IncidentView], kind: MaintenanceKind = "all"
) -> Doc:
    """``scheduled-maintenances.json`` and its ``upcoming`` and ``active`` variants."""
    chosen = maintenances_of(maintenances, kind)
    return {
        "page": page_doc(page),
        "scheduled_maintenances": [incident_doc(m, page) for m in chosen],
    }


def to_bytes(doc: Doc) -> bytes:
    """Serialise ``doc`` compactly, keys in insertion order (``page`` first)."""
    return orjson.dumps(doc)


def etag(body: bytes) -> str:
    """A strong, quoted ETag for ``body``."""
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def gzipped(body: bytes) -> bytes:
    """``body`` gzip-compressed with a zero mtime, so equal bodies compress identically."""
    return gzip.compress(body, compresslevel=6, mtime=0)
