"""The demo organisation `make run` loads into an empty database."""

from __future__ import annotations

import json
import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warroom.escalation import policies
from warroom.incidents import service as incident_service
from warroom.incidents import updates
from warroom.incidents.models import Incident
from warroom.incidents.rules import Phase
from warroom.incidents.schemas import (
    IncidentCreate,
    NoteCreate,
    RolesAssign,
    UpdateCreate,
)
from warroom.notify import service as notify_service
from warroom.oncall import service as oncall_service
from warroom.statuspage import maintenance
from warroom.statuspage import service as status_service
from warroom.statuspage.rules import ComponentStatus, PostStatus
from warroom.users import service as user_service
from warroom.users.models import User
from warroom.users.schemas import ServiceCreate, TeamCreate, UserCreate

PEOPLE = [
    ("alice", "Alice Martin", "admin", "Europe/Berlin"),
    ("bob", "Bob Okafor", "responder", "Europe/London"),
    ("carol", "Carol Chen", "responder", "America/New_York"),
    ("dave", "Dave Kowalski", "responder", "Europe/Warsaw"),
    ("erin", "Erin Silva", "viewer", "America/Sao_Paulo"),
]
TEAMS = [
    ("payments", "Payments", "Europe/Berlin", ["alice", "bob", "carol"]),
    ("platform", "Platform", "Europe/London", ["dave", "erin", "bob"]),
]
SERVICES = [
    ("checkout", "Checkout", "payments", "Cart and order placement"),
    ("payments-api", "Payments API", "payments", "Card and wallet payments"),
    ("search", "Search", "platform", "Product search"),
    ("api-gateway", "API Gateway", "platform", "Public API edge"),
]


def is_empty(session: Session) -> bool:
    """Whether the database has no users yet (a fresh install)."""
    return session.scalar(select(func.count()).select_from(User)) == 0


def load(session: Session, now: datetime) -> tuple[User, str]:
    """Create the demo organisation; returns the admin and their password."""
    password = secrets.token_urlsafe(12)
    people = {}
    for handle, name, role, tz in PEOPLE:
        people[handle] = user_service.create(
            session=session,
            now=now,
            user_in=UserCreate(
                handle=handle,
                name=name,
                email=f"{handle}@demo.warroom.test",
                role=role,
                time_zone=tz,
                password=password if handle == "alice" else None,
            ),
        )
    for slug, name, tz, members in TEAMS:
        user_service.create_team(
            session=session,
            now=now,
            team_in=TeamCreate(slug=slug, name=name, time_zone=tz, members=members),
        )
    for slug, name, team, description in SERVICES:
        user_service.create_service(
            session=session,
            now=now,
            service_in=ServiceCreate(slug=slug, name=name, team=team, description=description),
        )
    _paging(session, now, people)
    payments = _payment_timeouts(session, now - timedelta(days=6, hours=3), people)
    _stale_search(session, now - timedelta(days=2, hours=5), people)
    _status_page(session, now, payments, people["carol"])
    _upcoming_maintenance(session, now, people["dave"])
    return people["alice"], password


def _paging(session: Session, now: datetime, people: dict[str, User]) -> None:
    """Email for the responders, a weekly rotation, and a two-level policy for payments."""
    for handle in ("alice", "bob", "carol", "dave"):
        user = people[handle]
        notify_service.add_contact(
            session=session, now=now, user=user, kind="email", target=user.email, label="work"
        )
    monday = (now - timedelta(days=now.weekday() + 7)).replace(hour=0, minute=0, second=0)
    oncall_service.save(
        session=session,
        now=now,
        slug="payments-primary",
        name="Payments primary",
        time_zone="Europe/Berlin",
        layers=[
            {
                "name": "weekly",
                "participants": ["bob", "carol", "alice"],
                "shift_count": 1,
                "shift_unit": "weeks",
                "handoff": "09:00",
                "start": monday,
            }
        ],
    )
    policy, _ = policies.save(
        session=session,
        now=now,
        slug="payments",
        name="Payments",
        repeat=1,
        levels=[
            {"targets": [{"kind": "schedule", "ref": "payments-primary"}], "timeout_seconds": 300},
            {"targets": [{"kind": "user", "ref": "alice"}], "timeout_seconds": 300},
        ],
    )
    for slug in ("checkout", "payments-api"):
        service = user_service.get_service_or_raise(session=session, slug=slug)
        policies.attach(session=session, service=service, policy=policy)


def _status_page(session: Session, now: datetime, incident: Incident, comms: User) -> None:
    """Components with 100 days of history, and the public side of the payments incident."""
    created = now - timedelta(days=100)
    for name, group, service in (
        ("Checkout", "Shop", "checkout"),
        ("Payments", "Shop", "payments-api"),
        ("Search", "Shop", "search"),
        ("Public API", None, "api-gateway"),
    ):
        status_service.add_component(
            session=session, now=created, name=name, group=group, service=service
        )
    t0 = incident.declared_at
    story = [
        (
            8,
            PostStatus.INVESTIGATING,
            "Some card payments fail at checkout. We are looking into it.",
            {
                "Checkout": ComponentStatus.PARTIAL_OUTAGE,
                "Payments": ComponentStatus.DEGRADED_PERFORMANCE,
            },
        ),
        (
            35,
            PostStatus.IDENTIFIED,
            "We found the cause in our payment service and are fixing it.",
            {},
        ),
        (
            70,
            PostStatus.MONITORING,
            "A fix is in place; payments succeed again. We are watching.",
            {"Checkout": ComponentStatus.OPERATIONAL, "Payments": ComponentStatus.OPERATIONAL},
        ),
        (
            110,
            PostStatus.RESOLVED,
            "Payments have worked normally for 40 minutes. Sorry for the trouble.",
            {},
        ),
    ]
    for minutes, status, message, components in story:
        status_service.post(
            session=session,
            now=t0 + timedelta(minutes=minutes),
            actor=comms,
            incident=incident,
            request=status_service.PostRequest(
                status=status, message=message, components=components
            ),
        )


def _upcoming_maintenance(session: Session, now: datetime, author: User) -> None:
    """A maintenance announced for a night three days ahead: upcoming on the page."""
    starts = (now + timedelta(days=3)).replace(hour=2, minute=0, second=0, microsecond=0)
    maintenance.schedule(
        session=session,
        now=now,
        actor=author,
        plan=maintenance.MaintenancePlan(
            title="Search index upgrade",
            message="Search may return incomplete results for a few minutes during the upgrade.",
            components=["Search"],
            scheduled_for=starts,
            scheduled_until=starts + timedelta(hours=1),
        ),
    )


def _payment_timeouts(session: Session, t0: datetime, people: dict[str, User]) -> Incident:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    incident = incident_service.declare(
        session=session,
        now=t0,
        actor=bob,
        incident_in=(
            IncidentCreate(
                title="Card payments timing out",
                severity=2,
                services=["payments-api", "checkout"],
                customer_impact="Card payments slow or failing for some customers",
            )
        ),
    )
    incident_service.acknowledge(
        session=session, now=t0 + timedelta(minutes=3), actor=bob, incident=incident
    )
    incident_service.assign_roles(
        session=session,
        now=t0 + timedelta(minutes=6),
        actor=bob,
        incident=incident,
        roles_in=RolesAssign(commander="alice", tech_lead="bob", comms="carol"),
    )
    step = _stepper(session, incident, t0)
    step(9, alice, Phase.INVESTIGATING)
    updates.post_update(
        session=session,
        now=t0 + timedelta(minutes=12),
        actor=carol,
        incident=incident,
        update_in=UpdateCreate(
            impact="~12% of card payments time out after 30 s",
            theory="Payment provider latency after their maintenance",
            next_action="Compare provider latency with our connection pool",
            eta="20m",
        ),
    )
    incident_service.add_note(
        session=session,
        now=t0 + timedelta(minutes=25),
        actor=bob,
        incident=incident,
        note_in=NoteCreate(
            text="Connection pool to the provider saturated at 50/50", at=t0 + timedelta(minutes=21)
        ),
    )
    step(31, alice, Phase.MITIGATING)
    updates.post_update(
        session=session,
        now=t0 + timedelta(minutes=33),
        actor=carol,
        incident=incident,
        update_in=UpdateCreate(
            theory="Pool too small for the provider's slower responses",
            next_action="Raise pool to 150 and watch error rate",
            eta="10m",
        ),
    )
    step(52, alice, Phase.RESOLVED)
    return incident


def _stale_search(session: Session, t0: datetime, people: dict[str, User]) -> Incident:
    dave, bob = people["dave"], people["bob"]
    incident = incident_service.declare(
        session=session,
        now=t0,
        actor=dave,
        incident_in=(
            IncidentCreate(
                title="Search results up to an hour stale",
                severity=3,
                services=["search"],
                commander="dave",
            )
        ),
    )
    incident_service.acknowledge(
        session=session, now=t0 + timedelta(minutes=20), actor=dave, incident=incident
    )
    incident_service.assign_roles(
        session=session,
        now=t0 + timedelta(minutes=22),
        actor=dave,
        incident=incident,
        roles_in=RolesAssign(tech_lead="bob"),
    )
    step = _stepper(session, incident, t0)
    step(25, bob, Phase.INVESTIGATING)
    updates.post_update(
        session=session,
        now=t0 + timedelta(minutes=40),
        actor=dave,
        incident=incident,
        update_in=UpdateCreate(
            impact="New products missing from search for up to an hour",
            theory="Indexer stuck on a poisoned message",
            next_action="Skip the message and re-run the indexer",
            eta="30m",
        ),
    )
    step(70, bob, Phase.MITIGATING)
    step(95, dave, Phase.RESOLVED)
    return incident


def _stepper(session: Session, incident: Incident, t0: datetime):  # type: ignore[no-untyped-def]
    def step(minutes: int, actor: User, phase: Phase) -> None:
        incident_service.change_phase(
            session=session,
            now=t0 + timedelta(minutes=minutes),
            actor=actor,
            incident=incident,
            phase=phase,
        )

    return step


def save_credentials(var_dir: Path, data: dict[str, str]) -> Path:
    """Keep the demo admin's login under var/ (mode 0600) to show on each start."""
    path = var_dir / "demo-credentials.json"
    var_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    return path


def read_credentials(var_dir: Path) -> dict[str, str] | None:
    path = var_dir / "demo-credentials.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return {str(k): str(v) for k, v in data.items()}
