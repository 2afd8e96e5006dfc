"""Request dependencies as Annotated aliases, so routes read like prose."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from warroom.clock import Clock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.errors import Forbidden, Unauthenticated
from warroom.users import service as user_service
from warroom.users.auth import hash_token
from warroom.users.models import User
from warroom.users.rules import Role, role_allows


@dataclass(frozen=True)
class Principal:
    """Who is calling: enough to authorise without holding a session open."""

    user_id: int
    handle: str
    role: Role

    def load(self, session: Session) -> User:
        """This caller's row in ``session``."""
        user = session.get(User, self.user_id)
        if user is None:  # deleted between authentication and use
            raise Unauthenticated("the token's user no longer exists")
        return user


# Trivial dependencies are async: FastAPI runs plain ones in a worker thread,
# which cost more than a millisecond per request here.
async def get_sessions(request: Request) -> SessionFactory:
    factory: SessionFactory = request.app.state.sessions
    return factory


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


Sessions = Annotated[SessionFactory, Depends(get_sessions)]
ClockDep = Annotated[Clock, Depends(get_clock)]


def bearer_token(request: Request) -> str:
    """The bearer token of the request, or Unauthenticated saying what is wrong."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthenticated(
            "authentication required: send 'Authorization: Bearer <token>' "
            "(create one with `warroom token create HANDLE`)"
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return token.strip()


class PrincipalCache:
    """Tokens authenticated in the last couple of seconds.

    Looking a token up cost about 2 ms of every API request. Revocations and
    user changes made through this process clear the cache at once; other
    server processes see them within ``ttl`` seconds.
    """

    def __init__(self, ttl: float = 2.0, max_entries: int = 10_000) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, digest: str) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, digest: str, principal: Principal) -> None:
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[digest] = (time.monotonic() + self._ttl, principal)

    def clear(self) -> None:
        self._entries.clear()


def current_principal(request: Request, sessions: Sessions) -> Principal:
    """Authenticate the request's API token."""
    token = bearer_token(request)
    cache: PrincipalCache = request.app.state.principals
    digest = hash_token(token)
    principal = cache.get(digest)
    if principal is not None:
        return principal
    with unit_of_work(sessions, write=False) as session:
        user, _ = user_service.authenticate_token(session=session, plain=token)
        principal = Principal(user_id=user.id, handle=user.handle, role=Role(user.role))
    cache.put(digest, principal)
    return principal


def require(role: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets only ``role`` (or higher) through."""

    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not role_allows(principal.role, role):
            raise Forbidden(
                f"@{principal.handle} is a {principal.role.value}; this needs the "
                f"{role.value} role or higher"
            )
        return principal

    return check


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Responder = Annotated[Principal, Depends(require(Role.RESPONDER))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
