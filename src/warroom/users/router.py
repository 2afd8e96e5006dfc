"""JSON API for the caller, users, tokens, teams and services."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from warroom.db.uow import unit_of_work
from warroom.users import service as user_service
from warroom.users.models import Service, Team, User
from warroom.users.schemas import (
    PasswordLogin,
    ServiceCreate,
    ServiceRead,
    ServiceUpdate,
    TeamCreate,
    TeamMemberAdd,
    TeamRead,
    TeamUpdate,
    TokenCreate,
    TokenCreated,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from warroom.web.deps import Admin, ClockDep, Sessions, Viewer

router = APIRouter(prefix="/api/v1")


def user_read(user: User) -> UserRead:
    return UserRead(
        handle=user.handle,
        name=user.name,
        email=user.email,
        time_zone=user.time_zone,
        role=user.role,
        active=user.active,
        teams=[t.slug for t in user.teams],
    )


def team_read(team: Team) -> TeamRead:
    return TeamRead.model_validate(team)


def service_read(service: Service) -> ServiceRead:
    return ServiceRead(
        slug=service.slug,
        name=service.name,
        description=service.description,
        team=service.team.slug if service.team else None,
    )


@router.get("/me", tags=["users"])
def me(principal: Viewer, sessions: Sessions) -> UserRead:
    """The authenticated user."""
    with unit_of_work(sessions, write=False) as session:
        return user_read(principal.load(session))


@router.post("/auth/token", status_code=status.HTTP_201_CREATED, tags=["users"])
def login(body: PasswordLogin, sessions: Sessions, clock: ClockDep) -> TokenCreated:
    """Exchange a handle and password for a new API token (used by `warroom login`)."""
    with unit_of_work(sessions) as session:
        user = user_service.authenticate_password(
            session=session, handle=body.handle, password=body.password
        )
        token = user_service.create_token(
            session=session, now=clock.now(), user=user, name=body.token_name
        )
        return TokenCreated(token=token, user=user.handle)


@router.get("/users", tags=["users"])
def list_users(_: Viewer, sessions: Sessions) -> list[UserRead]:
    """Every user."""
    with unit_of_work(sessions, write=False) as session:
        return [user_read(u) for u in user_service.list_users(session=session)]


@router.post("/users", status_code=status.HTTP_201_CREATED, tags=["users"])
def create_user(body: UserCreate, _: Admin, sessions: Sessions, clock: ClockDep) -> UserRead:
    """Create a user (admins only)."""
    with unit_of_work(sessions) as session:
        return user_read(user_service.create(session=session, now=clock.now(), user_in=body))


@router.get("/users/{handle}", tags=["users"])
def get_user(handle: str, _: Viewer, sessions: Sessions) -> UserRead:
    """One user."""
    with unit_of_work(sessions, write=False) as session:
        return user_read(user_service.get_or_404(session=session, handle=handle))


@router.patch("/users/{handle}", tags=["users"])
def update_user(
    handle: str, body: UserUpdate, request: Request, _: Admin, sessions: Sessions
) -> UserRead:
    """Change a user's profile, role or password (admins only)."""
    with unit_of_work(sessions) as session:
        user = user_service.get_or_404(session=session, handle=handle)
        shown = user_read(user_service.update(session=session, user=user, user_in=body))
    request.app.state.principals.clear()  # a role change or deactivation counts at once
    return shown


@router.get("/tokens", tags=["users"])
def list_tokens(principal: Viewer, sessions: Sessions) -> list[TokenRead]:
    """The caller's API tokens (never their secrets)."""
    with unit_of_work(sessions, write=False) as session:
        tokens = user_service.list_tokens(session=session, user=principal.load(session))
        return [TokenRead.model_validate(t) for t in tokens]


@router.post("/tokens", status_code=status.HTTP_201_CREATED, tags=["users"])
def create_token(
    body: TokenCreate, principal: Viewer, sessions: Sessions, clock: ClockDep
) -> TokenCreated:
    """Issue another token for the caller; the token is shown only in this answer."""
    with unit_of_work(sessions) as session:
        user = principal.load(session)
        token = user_service.create_token(
            session=session, now=clock.now(), user=user, name=body.name
        )
        return TokenCreated(token=token, user=user.handle)


@router.delete("/tokens/{token_id}", tags=["users"])
def revoke_token(
    token_id: int, request: Request, principal: Viewer, sessions: Sessions, clock: ClockDep
) -> TokenRead:
    """Revoke one of the caller's tokens."""
    with unit_of_work(sessions) as session:
        token = user_service.revoke_token(
            session=session, now=clock.now(), user=principal.load(session), token_id=token_id
        )
        shown = TokenRead.model_validate(token)
    request.app.state.principals.clear()  # the revoked token stops working at once
    return shown


@router.get("/teams", tags=["teams"])
def list_teams(_: Viewer, sessions: Sessions) -> list[TeamRead]:
    """Every team with its members."""
    with unit_of_work(sessions, write=False) as session:
        return [team_read(t) for t in user_service.list_teams(session=session)]


@router.post("/teams", status_code=status.HTTP_201_CREATED, tags=["teams"])
def create_team(body: TeamCreate, _: Admin, sessions: Sessions, clock: ClockDep) -> TeamRead:
    """Create a team (admins only)."""
    with unit_of_work(sessions) as session:
        return team_read(user_service.create_team(session=session, now=clock.now(), team_in=body))


@router.patch("/teams/{slug}", tags=["teams"])
def update_team(slug: str, body: TeamUpdate, _: Admin, sessions: Sessions) -> TeamRead:
    """Change a team: name, time zone, members (the list replaces), business hours."""
    with unit_of_work(sessions) as session:
        team = user_service.get_team_or_raise(session=session, slug=slug)
        return team_read(user_service.update_team(session=session, team=team, team_in=body))


@router.post("/teams/{slug}/members", tags=["teams"])
def add_team_member(slug: str, body: TeamMemberAdd, _: Admin, sessions: Sessions) -> TeamRead:
    """Add a user to a team (admins only)."""
    with unit_of_work(sessions) as session:
        team = user_service.get_team_or_raise(session=session, slug=slug)
        user = user_service.get_by_handle_or_raise(
            session=session, handle=body.handle, field="handle"
        )
        return team_read(user_service.add_member(session=session, team=team, user=user))


@router.get("/services", tags=["services"])
def list_services(_: Viewer, sessions: Sessions) -> list[ServiceRead]:
    """Every service."""
    with unit_of_work(sessions, write=False) as session:
        return [service_read(s) for s in user_service.list_services(session=session)]


@router.patch("/services/{slug}", tags=["services"])
def update_service(slug: str, body: ServiceUpdate, _: Admin, sessions: Sessions) -> ServiceRead:
    """Change a service's name, description or owning team."""
    with unit_of_work(sessions) as session:
        service = user_service.get_service_or_raise(session=session, slug=slug)
        return service_read(
            user_service.update_service(session=session, service=service, service_in=body)
        )


@router.post("/services", status_code=status.HTTP_201_CREATED, tags=["services"])
def create_service(
    body: ServiceCreate, _: Admin, sessions: Sessions, clock: ClockDep
) -> ServiceRead:
    """Create a service (admins only)."""
    with unit_of_work(sessions) as session:
        return service_read(
            user_service.create_service(session=session, now=clock.now(), service_in=body)
        )
