"""Plain builder functions for rows used across suites."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident
from warroom.incidents.schemas import IncidentCreate
from warroom.users import service as user_service
from warroom.users.models import Service, Team, User
from warroom.users.schemas import ServiceCreate, TeamCreate, UserCreate


def make_user(
    session: Session,
    now: datetime,
    handle: str = "alice",
    role: str = "responder",
    password: str | None = None,
) -> User:
    return user_service.create(
        session=session,
        now=now,
        user_in=UserCreate(
            handle=handle,
            name=handle.title(),
            email=f"{handle}@example.com",
            role=role,
            password=password,
        ),
    )


def make_service(session: Session, now: datetime, slug: str = "checkout") -> Service:
    return user_service.create_service(
        session=session, now=now, service_in=ServiceCreate(slug=slug, name=slug.title())
    )


def make_incident(
    session: Session,
    now: datetime,
    actor: User,
    *,
    title: str = "Checkout down",
    severity: int | str = 1,
    services: list[str] | None = None,
    drill: bool = False,
) -> Incident:
    return incident_service.declare(
        session=session,
        now=now,
        actor=actor,
        incident_in=IncidentCreate(
            title=title, severity=severity, services=services or [], drill=drill
        ),
    )


def make_team(
    session: Session, now: datetime, slug: str = "payments", members: list[str] | None = None
) -> Team:
    return user_service.create_team(
        session=session,
        now=now,
        team_in=TeamCreate(slug=slug, name=slug.title(), members=members or []),
    )


def postmortem_published(incident: Incident) -> None:
    """Stand-in for writing and publishing the postmortem a resolved SEV-1/2 owes, so it may
    close; the postmortem suites exercise the real thing."""
    if incident.postmortem_status is not None:
        incident.postmortem_status = "published"
