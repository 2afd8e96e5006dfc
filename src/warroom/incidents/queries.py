"""Incident queries: the filtered list, cursors, counts for metrics. Reads only."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from warroom.errors import Invalid
from warroom.incidents import rules
from warroom.incidents.models import Incident, Severity, incident_service
from warroom.incidents.rules import Phase
from warroom.users import service as user_service
from warroom.users.models import User

MAX_PAGE = 200
# What reading an incident touches, joined into the same statement: lazy loading
# them row by row made a page of 50 incidents cost ~130 statements.
INCIDENT_LOADS = (
    joinedload(Incident.severity),
    joinedload(Incident.commander),
    joinedload(Incident.tech_lead),
    joinedload(Incident.comms),
    joinedload(Incident.acknowledged_by),
)
MAX_ID = 2**31 - 1  # ids are 32-bit INTEGER columns on PostgreSQL


@dataclass(frozen=True)
class IncidentFilter:
    """Filters of the incident list; None means "any"."""

    phases: tuple[Phase, ...] = ()
    severity_levels: tuple[int, ...] = ()
    service: str | None = None
    open: bool | None = None
    drill: bool | None = None


def encode_cursor(last_id: int) -> str:
    """An opaque cursor pointing after incident ``last_id``."""
    return base64.urlsafe_b64encode(f"i:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The incident id inside ``cursor``, or Invalid."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, value = raw.split(":", 1)
        number = int(value)
        if kind != "i" or not 0 < number <= MAX_ID + 1:
            raise ValueError(kind)
        return number
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid("cursor is not one this API handed out", field="cursor") from None


def list_incidents(
    *, session: Session, filters: IncidentFilter, cursor: str | None = None, limit: int = 50
) -> tuple[list[Incident], str | None]:
    """A page of incidents, newest first, and the cursor of the next page."""
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    query = select(Incident).order_by(Incident.id.desc()).limit(limit + 1)
    if cursor:
        query = query.where(Incident.id < decode_cursor(cursor))
    if filters.phases:
        query = query.where(Incident.phase.in_([p.value for p in filters.phases]))
    if filters.open is not None:
        open_values = [p.value for p in rules.OPEN_PHASES]
        query = query.where(
            Incident.phase.in_(open_values) if filters.open else Incident.phase.not_in(open_values)
        )
    if filters.severity_levels:
        query = query.where(Incident.severity_level.in_(filters.severity_levels))
    if filters.drill is not None:
        query = query.where(Incident.drill.is_(filters.drill))
    if filters.service:
        service = user_service.get_service_or_raise(session=session, slug=filters.service)
        query = query.where(
            exists().where(
                incident_service.c.incident_id == Incident.id,
                incident_service.c.service_id == service.id,
            )
        )
    rows = list(session.scalars(query))
    _load_people_and_severities(session, rows)
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


PEOPLE = ("commander", "tech_lead", "comms", "acknowledged_by")


def _load_people_and_severities(session: Session, incidents: list[Incident]) -> None:
    """Fill in the users and severity of each incident of a page from two small queries.

    Joining the user table four times into the page query made every row ~50
    columns wide, and turning those columns into objects was a third of the cost
    of a page.
    """
    severities = {row.level: row for row in session.scalars(select(Severity))}
    user_ids = {getattr(i, f"{role}_id") for i in incidents for role in PEOPLE} - {None}
    users = (
        {user.id: user for user in session.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    for incident in incidents:
        set_committed_value(incident, "severity", severities[incident.severity_level])
        for role in PEOPLE:
            user_id = getattr(incident, f"{role}_id")
            set_committed_value(incident, role, users[user_id] if user_id is not None else None)


def open_counts(*, session: Session, now: datetime) -> list[tuple[str, bool, int, int]]:
    """Per severity name and drill flag: open incidents, and those with an overdue update."""
    open_values = [p.value for p in rules.OPEN_PHASES]
    overdue = func.sum(case((Incident.next_update_due_at < now, 1), else_=0))
    query = (
        select(Severity.name, Incident.drill, func.count(), overdue)
        .join(Severity, Severity.level == Incident.severity_level)
        .where(Incident.phase.in_(open_values))
        .group_by(Severity.name, Incident.drill)
    )
    return [
        (name, bool(drill), int(n), int(late or 0))
        for name, drill, n, late in session.execute(query)
    ]


def open_incident_for_service(*, session: Session, service_id: int) -> Incident | None:
    """The newest open, non-drill incident affecting the service, if any."""
    query = (
        select(Incident)
        .join(incident_service, incident_service.c.incident_id == Incident.id)
        .where(
            incident_service.c.service_id == service_id,
            Incident.phase.in_([p.value for p in rules.OPEN_PHASES]),
            Incident.drill.is_(False),
        )
        .order_by(Incident.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()
