"""Pure rules for people: roles, handles, time zones."""

from __future__ import annotations

import re
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

HANDLE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class Role(StrEnum):
    """What a user may do: admins configure, responders act, viewers read."""

    ADMIN = "admin"
    RESPONDER = "responder"
    VIEWER = "viewer"


ROLE_RANK = {Role.VIEWER: 0, Role.RESPONDER: 1, Role.ADMIN: 2}


def role_allows(have: Role, need: Role) -> bool:
    """Whether a user holding ``have`` may do what needs ``need``."""
    return ROLE_RANK[have] >= ROLE_RANK[need]


def handle_problem(handle: str) -> str | None:
    """Why ``handle`` is not acceptable, or None when it is."""
    if not HANDLE_PATTERN.fullmatch(handle):
        return (
            "must be 1-63 characters of lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return None


def slug_problem(slug: str) -> str | None:
    """Why ``slug`` is not acceptable as a team or service slug, or None."""
    if not SLUG_PATTERN.fullmatch(slug):
        return "must be 1-63 characters of lowercase letters, digits and '-'"
    return None


def email_problem(email: str) -> str | None:
    """Why ``email`` does not look like a deliverable address, or None."""
    if len(email) > 254 or not EMAIL_PATTERN.fullmatch(email):
        return "is not a valid email address"
    return None


def time_zone_problem(name: str) -> str | None:
    """Why ``name`` is not an IANA time zone, or None."""
    if len(name) > 64:
        return "is not an IANA time zone such as Europe/Berlin or UTC (too long)"
    if name not in available_timezones():
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            return "is not an IANA time zone such as Europe/Berlin or UTC"
    return None


def country_problem(code: str) -> str | None:
    """Why ``code`` is not a country the public-holiday calendar knows, or None."""
    import holidays  # imported here: a large table, needed only when hours are set

    if code.upper() not in holidays.list_supported_countries():
        return f"unknown country code {code!r} for public holidays (use ISO 3166, e.g. US, DE)"
    return None
