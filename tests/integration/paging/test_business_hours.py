"""Low-urgency pages wait for the owning team's business hours; high urgency never waits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.factories import make_user
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.escalation import policies
from warroom.escalation import service as paging
from warroom.incidents import service as incident_service
from warroom.incidents.schemas import IncidentCreate
from warroom.users import service as user_service
from warroom.users.schemas import BusinessHours, ServiceCreate, TeamCreate, TeamUpdate


def _setup(sessions: SessionFactory, now: datetime, hours: BusinessHours | None) -> None:
    with unit_of_work(sessions) as session:
        make_user(session, now, "alice")
        team = user_service.create_team(
            session=session, now=now, team_in=TeamCreate(slug="shop", name="Shop")
        )
        if hours is not None:
            user_service.update_team(
                session=session, team=team, team_in=TeamUpdate(business_hours=hours)
            )
        service = user_service.create_service(
            session=session,
            now=now,
            service_in=ServiceCreate(slug="cart", name="Cart", team="shop"),
        )
        policy, _ = policies.save(
            session=session,
            now=now,
            slug="cart",
            name="Cart",
            repeat=0,
            levels=[{"targets": [{"kind": "user", "ref": "alice"}], "timeout_seconds": 300}],
        )
        policies.attach(session=session, service=service, policy=policy)


def _first_step(sessions: SessionFactory, now: datetime, severity: int) -> datetime | None:
    with unit_of_work(sessions) as session:
        incident = incident_service.declare(
            session=session,
            now=now,
            actor=None,
            incident_in=IncidentCreate(title="Slow cart", severity=severity, services=["cart"]),
        )
        page = paging.start(session=session, now=now, incident=incident)
        assert page is not None
        return page.next_step_at


NEW_YORK = BusinessHours(tz="America/New_York", start="09:00", end="17:00", country="US")


@pytest.mark.parametrize(
    ("now", "severity", "expected"),
    [
        # Friday 05:00 in New York: a SEV-4 waits for 09:00 EST (14:00 UTC).
        (datetime(2026, 11, 27, 10, 0, tzinfo=UTC), 4, datetime(2026, 11, 27, 14, 0, tzinfo=UTC)),
        # Friday 18:00 in New York: the next working day is Monday.
        (datetime(2026, 11, 27, 23, 0, tzinfo=UTC), 4, datetime(2026, 11, 30, 14, 0, tzinfo=UTC)),
        # Thanksgiving (a US public holiday) waits for Friday morning.
        (datetime(2026, 11, 26, 15, 0, tzinfo=UTC), 4, datetime(2026, 11, 27, 14, 0, tzinfo=UTC)),
        # Inside business hours: at once.
        (datetime(2026, 11, 27, 15, 0, tzinfo=UTC), 4, datetime(2026, 11, 27, 15, 0, tzinfo=UTC)),
        # A SEV-1 never waits.
        (datetime(2026, 11, 27, 10, 0, tzinfo=UTC), 1, datetime(2026, 11, 27, 10, 0, tzinfo=UTC)),
    ],
)
def test_low_urgency_waits_for_business_hours(
    sessions: SessionFactory, now: datetime, severity: int, expected: datetime
) -> None:
    _setup(sessions, now, NEW_YORK)
    assert _first_step(sessions, now, severity) == expected


def test_without_business_hours_low_urgency_pages_at_once(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    now = clock.now()
    _setup(sessions, now, None)
    assert _first_step(sessions, now, 4) == now


def test_business_hours_must_end_after_they_start() -> None:
    with pytest.raises(ValueError, match="end after"):
        BusinessHours(start="17:00", end="09:00")
    with pytest.raises(ValueError, match="unknown country"):
        BusinessHours(country="XX")
