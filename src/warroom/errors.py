"""Domain exceptions. Free of HTTP: web/errors.py maps them to status codes."""

from __future__ import annotations


class WarroomError(Exception):
    """Base of every error a user can cause; the message is shown as is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(WarroomError):
    """The named thing does not exist."""


class Conflict(WarroomError):
    """The request clashes with the current state (duplicate, already done)."""


class InvalidTransition(Conflict):
    """A lifecycle move that the rules do not allow."""

    def __init__(self, message: str, *, allowed: list[str]) -> None:
        super().__init__(message, field="phase")
        self.allowed = allowed


class Invalid(WarroomError):
    """Input that is well-formed but not acceptable (unknown user, bad value)."""


class Unauthenticated(WarroomError):
    """No valid credentials were given."""


class Forbidden(WarroomError):
    """Valid credentials, but the role may not do this."""
