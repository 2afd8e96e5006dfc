"""Users, API tokens, password login, teams and services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_service, make_team, make_user
from warroom.clock import FixedClock
from warroom.db.uow import unit_of_work
from warroom.errors import Conflict, Invalid, NotFound, Unauthenticated
from warroom.users import auth
from warroom.users import service as user_service
from warroom.users.models import ApiToken, User
from warroom.users.schemas import ServiceCreate, TeamCreate, UserCreate, UserUpdate


def _create(session: Session, clock: FixedClock, **fields: Any) -> User:
    values = {"handle": "alice", "name": "Alice", "email": "alice@example.com", **fields}
    return user_service.create(session=session, now=clock.now(), user_in=UserCreate(**values))


def test_create_user(sessions, clock):
    with unit_of_work(sessions) as session:
        user = _create(session, clock, handle="  Alice ", email="Alice@Example.COM", role="admin")
        assert user.handle == "alice"
        assert user.email == "alice@example.com"
        assert user.role == "admin"
        assert user.time_zone == "UTC"
        assert user.active is True
        assert user.password_hash is None
        assert user.created_at == clock.now()
    with unit_of_work(sessions, write=False) as session:
        assert user_service.get_or_404(session=session, handle="alice").name == "Alice"
        assert [u.handle for u in user_service.list_users(session=session)] == ["alice"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"handle": "ALICE", "email": "other@example.com"}, "handle"),
        ({"handle": "alice2", "email": "ALICE@example.com"}, "email"),
    ],
)
def test_duplicate_user_is_a_conflict_naming_the_field(sessions, clock, fields, field):
    with unit_of_work(sessions) as session:
        _create(session, clock)
        with pytest.raises(Conflict) as caught:
            _create(session, clock, **fields)
        assert caught.value.field == field
        assert len(user_service.list_users(session=session)) == 1


def test_lookup_by_handle(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = _create(session, clock)
        assert user_service.get_by_handle(session=session, handle="ALICE") is alice
        assert user_service.get_by_handle_or_raise(session=session, handle="@alice") is alice
        assert user_service.get_by_handle(session=session, handle="bob") is None
        with pytest.raises(Invalid) as caught:
            user_service.get_by_handle_or_raise(session=session, handle="bob", field="owner")
        assert caught.value.field == "owner"
        with pytest.raises(NotFound):
            user_service.get_or_404(session=session, handle="bob")


def test_update_profile_role_and_password(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = _create(session, clock, password="first-password")
        user_service.update(
            session=session,
            user=alice,
            user_in=UserUpdate(name="Alice A.", role="viewer", password="second-password"),
        )
        assert alice.name == "Alice A."
        assert alice.role == "viewer"
        assert alice.email == "alice@example.com"
        assert alice.password_hash is not None
        assert auth.verify_password(alice.password_hash, "second-password")
        assert not auth.verify_password(alice.password_hash, "first-password")


def test_update_to_a_used_email_is_a_conflict(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        make_user(session, clock.now(), "bob")
    with unit_of_work(sessions) as session:
        alice = session.merge(alice)
        with pytest.raises(Conflict) as caught:
            user_service.update(
                session=session, user=alice, user_in=UserUpdate(email="bob@example.com")
            )
        assert caught.value.field == "email"


def test_token_create_authenticate_revoke(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        plain = user_service.create_token(session=session, now=clock.now(), user=alice, name="cli")
        assert plain.startswith(auth.TOKEN_PREFIX)
        stored = session.scalars(select(ApiToken)).one()
        assert stored.token_hash != plain
        assert plain not in stored.token_hash
        assert stored.prefix == plain[:10]
        assert stored.name == "cli"
        user, token = user_service.authenticate_token(session=session, plain=plain)
        assert user is alice
        assert token is stored
        clock.advance(timedelta(hours=1))
        revoked = user_service.revoke_token(
            session=session, now=clock.now(), user=alice, token_id=stored.id
        )
        assert revoked.revoked_at == clock.now()
        with pytest.raises(Unauthenticated, match="revoked"):
            user_service.authenticate_token(session=session, plain=plain)
        # Revoking again keeps the first revocation time.
        clock.advance(timedelta(hours=1))
        user_service.revoke_token(session=session, now=clock.now(), user=alice, token_id=stored.id)
        assert stored.revoked_at == clock.now() - timedelta(hours=1)


def test_unknown_token_is_unauthenticated(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        plain = user_service.create_token(session=session, now=clock.now(), user=alice, name="cli")
        for wrong in ("", plain + "x", plain[:-1], auth.hash_token(plain)):
            with pytest.raises(Unauthenticated, match="not valid"):
                user_service.authenticate_token(session=session, plain=wrong)


def test_token_of_a_deactivated_user_is_refused(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        plain = user_service.create_token(session=session, now=clock.now(), user=alice, name="ci")
        user_service.update(session=session, user=alice, user_in=UserUpdate(active=False))
        with pytest.raises(Unauthenticated, match="deactivated"):
            user_service.authenticate_token(session=session, plain=plain)


def test_tokens_are_listed_newest_first_and_only_revocable_by_their_owner(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        bob = make_user(session, clock.now(), "bob")
        for name in ("one", "two"):
            user_service.create_token(session=session, now=clock.now(), user=alice, name=name)
        bobs = user_service.create_token(session=session, now=clock.now(), user=bob, name="b")
        listed = user_service.list_tokens(session=session, user=alice)
        assert [t.name for t in listed] == ["two", "one"]
        with pytest.raises(NotFound):
            user_service.revoke_token(
                session=session, now=clock.now(), user=bob, token_id=listed[0].id
            )
        with pytest.raises(NotFound):
            user_service.revoke_token(
                session=session, now=clock.now(), user=alice, token_id=listed[0].id + 1000
            )
        assert listed[0].revoked_at is None
        assert user_service.authenticate_token(session=session, plain=bobs)[0] is bob


def test_password_authentication(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now(), password="correct horse")
        make_user(session, clock.now(), "bob")  # no password: token-only user
        assert (
            user_service.authenticate_password(
                session=session, handle="alice", password="correct horse"
            )
            is alice
        )
        assert (
            user_service.authenticate_password(
                session=session, handle="ALICE", password="correct horse"
            )
            is alice
        )
        for handle, password in [
            ("alice", "wrong horse"),
            ("alice", ""),
            ("carol", "correct horse"),
            ("bob", "correct horse"),
            ("bob", ""),
        ]:
            with pytest.raises(Unauthenticated) as caught:
                user_service.authenticate_password(
                    session=session, handle=handle, password=password
                )
            assert caught.value.message == "wrong handle or password"
        user_service.update(session=session, user=alice, user_in=UserUpdate(active=False))
        with pytest.raises(Unauthenticated):
            user_service.authenticate_password(
                session=session, handle="alice", password="correct horse"
            )


def test_teams(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        bob = make_user(session, clock.now(), "bob")
        team = make_team(session, clock.now(), "payments", members=["bob", "alice"])
        assert sorted(m.handle for m in team.members) == ["alice", "bob"]
        assert team.created_at == clock.now()
        carol = make_user(session, clock.now(), "carol")
        user_service.add_member(session=session, team=team, user=carol)
        user_service.add_member(session=session, team=team, user=carol)
        assert sorted(m.handle for m in team.members) == ["alice", "bob", "carol"]
        make_team(session, clock.now(), "infra")
        assert [t.slug for t in user_service.list_teams(session=session)] == ["infra", "payments"]
        assert user_service.get_team_or_raise(session=session, slug="payments") is team
        assert team in alice.teams
        assert team in bob.teams
        with pytest.raises(Conflict) as conflict:
            make_team(session, clock.now(), "payments")
        assert conflict.value.field == "slug"
        with pytest.raises(Invalid) as caught:
            user_service.create_team(
                session=session,
                now=clock.now(),
                team_in=TeamCreate(slug="search", name="Search", members=["ghost"]),
            )
        assert caught.value.field == "members"
        with pytest.raises(Invalid) as caught:
            user_service.get_team_or_raise(session=session, slug="nope")
        assert caught.value.field == "team"


def test_team_member_given_twice_is_added_once(sessions, clock):
    with unit_of_work(sessions) as session:
        make_user(session, clock.now(), "bob")
        team = make_team(session, clock.now(), "payments", members=["bob", "Bob"])
        assert [m.handle for m in team.members] == ["bob"]


def test_services(sessions, clock):
    with unit_of_work(sessions) as session:
        team = make_team(session, clock.now(), "payments")
        owned = user_service.create_service(
            session=session,
            now=clock.now(),
            service_in=ServiceCreate(slug="checkout", name="Checkout", team="payments"),
        )
        assert owned.team is team
        make_service(session, clock.now(), "api")
        assert [s.slug for s in user_service.list_services(session=session)] == ["api", "checkout"]
        assert user_service.get_service_or_raise(session=session, slug="checkout") is owned
        with pytest.raises(Conflict) as conflict:
            make_service(session, clock.now(), "checkout")
        assert conflict.value.field == "slug"
        with pytest.raises(Invalid) as caught:
            user_service.create_service(
                session=session,
                now=clock.now(),
                service_in=ServiceCreate(slug="search", name="Search", team="ghosts"),
            )
        assert caught.value.field == "team"
        with pytest.raises(Invalid) as caught:
            user_service.get_service_or_raise(session=session, slug="nope", field="services")
        assert caught.value.field == "services"
        assert "'nope'" in caught.value.message
