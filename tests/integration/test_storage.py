"""Storage: UTC timestamps on both backends, migrations, the unit of work."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, StatementError

from tests.factories import make_user
from warroom.db import engine as engine_module
from warroom.db import migrate
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.users import service as user_service
from warroom.users.models import ApiToken, User

NEW_YORK_WINTER = timezone(timedelta(hours=-5))


def _user(handle: str, created_at: datetime) -> User:
    return User(
        handle=handle,
        name=handle.title(),
        email=f"{handle}@example.com",
        role="responder",
        created_at=created_at,
    )


def _insert(sessions: SessionFactory, user: User) -> None:
    with unit_of_work(sessions) as session:
        session.add(user)
        session.flush()


def test_naive_datetime_is_refused(sessions):
    naive = datetime(2026, 11, 27, 10, 0)
    with pytest.raises(StatementError, match="naive datetime"):
        _insert(sessions, _user("naive", naive))
    with unit_of_work(sessions, write=False) as session:
        assert session.scalars(select(User).where(User.handle == "naive")).first() is None


def test_datetimes_come_back_aware_utc(sessions, clock):
    local = datetime(2026, 11, 27, 5, 30, 15, 123456, tzinfo=NEW_YORK_WINTER)
    with unit_of_work(sessions) as session:
        session.add(_user("newyork", local))
        make_user(session, clock.now(), "utc")
    with unit_of_work(sessions, write=False) as session:
        users = {u.handle: u for u in session.scalars(select(User))}
        stored = users["newyork"].created_at
        assert stored == local
        assert stored.utcoffset() == timedelta(0)
        assert stored.tzinfo is UTC
        assert (stored.hour, stored.minute, stored.microsecond) == (10, 30, 123456)
        assert users["utc"].created_at == clock.now()
        assert users["utc"].created_at.tzinfo is UTC


def test_datetimes_compare_and_order_in_sql_by_instant(sessions, clock):
    with unit_of_work(sessions) as session:
        session.add(_user("early", clock.now() - timedelta(hours=1)))
        # Later as an instant, though its wall-clock hour is smaller.
        session.add(_user("late", (clock.now() + timedelta(hours=1)).astimezone(NEW_YORK_WINTER)))
    with unit_of_work(sessions, write=False) as session:
        ordered = session.scalars(select(User).order_by(User.created_at)).all()
        assert [u.handle for u in ordered] == ["early", "late"]
        after = session.scalars(select(User).where(User.created_at > clock.now())).all()
        assert [u.handle for u in after] == ["late"]


def test_null_datetime_stays_null(sessions, clock):
    with unit_of_work(sessions) as session:
        user = make_user(session, clock.now())
        user_service.create_token(session=session, now=clock.now(), user=user, name="cli")
    with unit_of_work(sessions, write=False) as session:
        token = session.scalars(select(ApiToken)).one()
        assert token.revoked_at is None
        assert token.created_at == clock.now()


def test_fixture_database_is_at_the_newest_migration(database):
    assert migrate.head_revision() is not None
    assert migrate.current_revision(database.engine) == migrate.head_revision()
    assert migrate.is_current(database.engine)


def test_upgrading_a_current_database_changes_nothing(database):
    migrate.upgrade(database.engine)
    assert migrate.is_current(database.engine)


def test_unit_of_work_rolls_back_on_error(sessions, clock):
    def failing_change() -> None:
        with unit_of_work(sessions) as session:
            make_user(session, clock.now(), "ghost")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing_change()
    with unit_of_work(sessions, write=False) as session:
        assert session.scalars(select(User)).first() is None


def test_read_only_unit_of_work_does_not_commit(sessions, clock):
    with unit_of_work(sessions, write=False) as session:
        make_user(session, clock.now(), "reader")
    with unit_of_work(sessions, write=False) as session:
        assert session.scalars(select(User)).first() is None


def test_a_busy_sqlite_write_lock_is_an_operational_error(tmp_path, monkeypatch):
    # Callers answer 503 or retry on OperationalError; BEGIN goes straight to
    # the driver, so its "database is locked" must still arrive as one.
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 50)
    path = tmp_path / "busy.db"
    engine = engine_module.make_engine(f"sqlite:///{path}")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        session = engine_module.make_session_factory(engine)(write=True)
        with pytest.raises(OperationalError, match="database is locked"):
            session.connection()
        session.close()
        holder.execute("ROLLBACK")
        with unit_of_work(engine_module.make_session_factory(engine)) as session:
            assert session.connection().exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        holder.close()
        engine.dispose()
