"""Use-cases for users, tokens, teams and services. Flushes, never commits."""

from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.errors import Conflict, Invalid, NotFound, Unauthenticated
from warroom.users import auth, rules
from warroom.users.models import ApiToken, Service, Team, User
from warroom.users.schemas import (
    ServiceCreate,
    ServiceUpdate,
    TeamCreate,
    TeamUpdate,
    UserCreate,
    UserUpdate,
)

HANDLES_KEY = "warroom.users_by_handle"


def get_by_handle(*, session: Session, handle: str) -> User | None:
    """The user with ``handle``, or None."""
    return session.scalars(select(User).where(User.handle == handle.lower())).first()


def get_by_handle_cached(*, session: Session, handle: str) -> User | None:
    """get_by_handle(), each handle looked up once per transaction.

    For jobs that page the same people over and over in one transaction (a
    batch of escalation steps); a unit of work's session lives for one.
    """
    cache: dict[str, User | None] = session.info.setdefault(HANDLES_KEY, {})
    key = handle.lower()
    if key not in cache:
        cache[key] = get_by_handle(session=session, handle=key)
    return cache[key]


def get_by_handle_or_raise(*, session: Session, handle: str, field: str = "user") -> User:
    """The user with ``handle``, or Invalid naming the field that referred to it."""
    user = get_by_handle(session=session, handle=handle.removeprefix("@"))
    if user is None or not user.active:
        raise Invalid(f"unknown user {handle!r}", field=field)
    return user


def get_or_404(*, session: Session, handle: str) -> User:
    """The user with ``handle``, or NotFound."""
    user = get_by_handle(session=session, handle=handle)
    if user is None:
        raise NotFound(f"no user {handle!r}")
    return user


def list_users(*, session: Session) -> list[User]:
    """Every user, by handle."""
    return list(session.scalars(select(User).order_by(User.handle)))


def create(*, session: Session, now: datetime, user_in: UserCreate) -> User:
    """Create a user; handle and email must be unused."""
    if get_by_handle(session=session, handle=user_in.handle) is not None:
        raise Conflict(f"handle {user_in.handle!r} is taken", field="handle")
    if session.scalars(select(User).where(User.email == user_in.email)).first() is not None:
        raise Conflict(f"email {user_in.email!r} is already used", field="email")
    user = User(
        handle=user_in.handle,
        name=user_in.name,
        email=user_in.email,
        time_zone=user_in.time_zone,
        role=user_in.role.value,
        password_hash=auth.hash_password(user_in.password) if user_in.password else None,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def update(*, session: Session, user: User, user_in: UserUpdate) -> User:
    """Change a user's profile, role or password."""
    changes = user_in.model_dump(exclude_unset=True, exclude={"password"})
    email = changes.get("email")
    if email and email != user.email:
        taken = session.scalars(select(User).where(User.email == email)).first()
        if taken is not None:
            raise Conflict(f"email {email!r} is already used", field="email")
    for field, value in changes.items():
        setattr(user, field, value.value if isinstance(value, rules.Role) else value)
    if user_in.password:
        user.password_hash = auth.hash_password(user_in.password)
    session.flush()
    return user


def create_token(*, session: Session, now: datetime, user: User, name: str) -> str:
    """Issue an API token for ``user``; returns the plain token, shown only once."""
    issued = auth.issue_token()
    session.add(
        ApiToken(
            user_id=user.id,
            name=name,
            token_hash=issued.digest,
            prefix=issued.prefix,
            created_at=now,
        )
    )
    session.flush()
    return issued.plain


def list_tokens(*, session: Session, user: User) -> list[ApiToken]:
    """The user's tokens (never their secret), newest first."""
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    return list(session.scalars(query))


def revoke_token(*, session: Session, now: datetime, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's tokens."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(f"no token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()
    return token


def authenticate_token(*, session: Session, plain: str) -> tuple[User, ApiToken]:
    """The active user behind an API token, or Unauthenticated saying why."""
    token = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == auth.hash_token(plain))
    ).first()
    if token is None:
        raise Unauthenticated("the API token is not valid")
    if token.revoked_at is not None:
        raise Unauthenticated("the API token was revoked")
    if not token.user.active:
        raise Unauthenticated("the token's user is deactivated")
    return token.user, token


def authenticate_password(*, session: Session, handle: str, password: str) -> User:
    """The user whose handle and password match, or Unauthenticated."""
    user = get_by_handle(session=session, handle=handle)
    hashed = user.password_hash if user is not None else None
    # Verify against a dummy hash for unknown users so timing does not tell.
    ok = auth.verify_password(hashed or _dummy_hash(), password)
    if user is None or hashed is None or not ok or not user.active:
        raise Unauthenticated("wrong handle or password")
    return user


@functools.cache
def _dummy_hash() -> str:
    # Made on first use: hashing takes 64 MiB for a moment, not worth paying at import.
    return auth.hash_password("warroom-dummy-password")


def list_teams(*, session: Session) -> list[Team]:
    """Every team, by slug."""
    return list(session.scalars(select(Team).order_by(Team.slug)))


def get_team_or_raise(*, session: Session, slug: str, field: str = "team") -> Team:
    """The team with ``slug``, or Invalid naming the field."""
    team = session.scalars(select(Team).where(Team.slug == slug)).first()
    if team is None:
        raise Invalid(f"unknown team {slug!r}", field=field)
    return team


def create_team(*, session: Session, now: datetime, team_in: TeamCreate) -> Team:
    """Create a team with optional members."""
    if session.scalars(select(Team).where(Team.slug == team_in.slug)).first() is not None:
        raise Conflict(f"team {team_in.slug!r} exists", field="slug")
    members = [
        get_by_handle_or_raise(session=session, handle=h, field="members")
        for h in dict.fromkeys(team_in.members)
    ]
    team = Team(slug=team_in.slug, name=team_in.name, time_zone=team_in.time_zone, created_at=now)
    team.members = members
    session.add(team)
    session.flush()
    return team


def add_member(*, session: Session, team: Team, user: User) -> Team:
    """Add ``user`` to ``team`` (no-op if already a member)."""
    if user not in team.members:
        team.members.append(user)
        session.flush()
    return team


def update_team(*, session: Session, team: Team, team_in: TeamUpdate) -> Team:
    """Change a team's name, zone, members (replaced) or business hours."""
    if team_in.name is not None:
        team.name = team_in.name
    if team_in.time_zone is not None:
        team.time_zone = team_in.time_zone
    if team_in.members is not None:
        team.members = [
            get_by_handle_or_raise(session=session, handle=h, field="members")
            for h in dict.fromkeys(team_in.members)
        ]
    if team_in.clear_business_hours:
        team.business_hours = None
    elif team_in.business_hours is not None:
        team.business_hours = team_in.business_hours.model_dump()
    session.flush()
    return team


def update_service(*, session: Session, service: Service, service_in: ServiceUpdate) -> Service:
    """Change a service's name, description or owning team."""
    if service_in.name is not None:
        service.name = service_in.name
    if service_in.description is not None:
        service.description = service_in.description
    if service_in.team is not None:
        service.team = get_team_or_raise(session=session, slug=service_in.team)
    session.flush()
    return service


def list_services(*, session: Session) -> list[Service]:
    """Every service, by slug."""
    return list(session.scalars(select(Service).order_by(Service.slug)))


def get_service_or_raise(*, session: Session, slug: str, field: str = "service") -> Service:
    """The service with ``slug``, or Invalid naming the field."""
    service = session.scalars(select(Service).where(Service.slug == slug)).first()
    if service is None:
        raise Invalid(f"unknown service {slug!r}", field=field)
    return service


def create_service(*, session: Session, now: datetime, service_in: ServiceCreate) -> Service:
    """Create a service, optionally owned by a team."""
    if session.scalars(select(Service).where(Service.slug == service_in.slug)).first():
        raise Conflict(f"service {service_in.slug!r} exists", field="slug")
    team = get_team_or_raise(session=session, slug=service_in.team) if service_in.team else None
    service = Service(
        slug=service_in.slug,
        name=service_in.name,
        description=service_in.description,
        team=team,
        created_at=now,
    )
    session.add(service)
    session.flush()
    return service
