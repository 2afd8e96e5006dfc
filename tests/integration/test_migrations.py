"""Migrations that fill new columns from existing rows fill them as the code keeps them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import Database
from tests.factories import make_incident, make_user
from tests.integration.alerts.world import build_world, event
from warroom.clock import FixedClock
from warroom.db import migrate
from warroom.db.engine import make_session_factory
from warroom.db.uow import unit_of_work
from warroom.incidents import updates
from warroom.incidents.models import Incident
from warroom.incidents.schemas import UpdateCreate

BACKENDS = pytest.mark.parametrize("committed_database", ["sqlite", "postgresql"], indirect=True)
BEFORE_UPDATES_ON_TIME = "72be4eba8b65"
BEFORE_FIRST_ALERT_AT = "5b0e7c2d9a41"
MIN = timedelta(minutes=1)


def test_the_head_read_from_the_files_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    assert (
        migrate.head_revision() == ScriptDirectory.from_config(migrate._config()).get_current_head()
    )


@BACKENDS
def test_the_current_revision_is_read_without_alembic(committed_database: Database) -> None:
    from alembic.runtime.migration import MigrationContext

    with committed_database.engine.connect() as connection:
        expected = MigrationContext.configure(connection).get_current_revision()
    assert (
        migrate.current_revision(committed_database.engine) == expected == migrate.head_revision()
    )
    migrate.downgrade(committed_database.engine, "base")
    assert migrate.current_revision(committed_database.engine) is None


@BACKENDS
def test_updates_on_time_are_counted_from_the_updates_already_posted(
    committed_database: Database, clock: FixedClock
) -> None:
    # Posted (minutes after declaring) on a SEV-1's 15-minute cadence: on time,
    # late (due at 25), on time (due at 41): 2; and one incident without updates.
    offsets = {"twice": [10, 26, 40], "none": []}
    sessions = make_session_factory(committed_database.engine)
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        for title, minutes in offsets.items():
            incident = make_incident(session, clock.now(), alice, title=title, severity=1)
            for minute in minutes:
                updates.post_update(
                    session=session,
                    now=clock.now() + minute * MIN,
                    actor=alice,
                    incident=incident,
                    update_in=UpdateCreate(),
                )
    migrate.downgrade(committed_database.engine, BEFORE_UPDATES_ON_TIME)
    migrate.upgrade(committed_database.engine)
    with unit_of_work(sessions, write=False) as session:
        counted = dict(session.execute(select(Incident.title, Incident.updates_on_time)).all())
    assert counted == {"twice": 2, "none": 0}


@BACKENDS
def test_first_alert_times_are_taken_from_the_alerts_already_grouped(
    committed_database: Database, clock: FixedClock
) -> None:
    world = build_world(make_session_factory(committed_database.engine), clock)
    for key, minutes_ago in (("late", 2), ("early", 7), ("unknown", None)):
        at = None if minutes_ago is None else clock.now() - minutes_ago * MIN
        world.ingest(replace(event(key=key), occurred_at=at))
    migrate.downgrade(committed_database.engine, BEFORE_FIRST_ALERT_AT)
    migrate.upgrade(committed_database.engine)
    with unit_of_work(world.sessions, write=False) as session:
        kept = session.scalars(select(Incident.first_alert_at)).one()
    assert kept == clock.now() - 7 * MIN
