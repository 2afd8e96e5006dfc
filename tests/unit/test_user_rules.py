"""Pure rules for people: handles, slugs, emails, time zones and role ranks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warroom.users.rules import (
    Role,
    email_problem,
    handle_problem,
    role_allows,
    slug_problem,
    time_zone_problem,
)


@pytest.mark.parametrize(
    "handle", ["alice", "a", "7", "bob.smith", "carol_d", "dave-e", "x" * 63, "0ops", "a..b"]
)
def test_good_handles(handle):
    assert handle_problem(handle) is None


@pytest.mark.parametrize(
    "handle",
    ["", "Alice", "-alice", ".alice", "_alice", "al ice", "al@ice", "x" * 64, "émile", "a/b"],
)
def test_bad_handles(handle):
    problem = handle_problem(handle)
    assert problem is not None
    assert "lowercase letters" in problem


@pytest.mark.parametrize(
    ("check", "value"),
    [(handle_problem, "alice\n"), (slug_problem, "checkout\n"), (email_problem, "a@example.com\n")],
)
def test_trailing_newline_is_refused(check, value):
    assert check(value) is not None


@pytest.mark.parametrize("slug", ["checkout", "a", "api-gateway", "team-42", "x" * 63])
def test_good_slugs(slug):
    assert slug_problem(slug) is None


@pytest.mark.parametrize("slug", ["", "Checkout", "-api", "api_gateway", "api.gw", "x" * 64, "a b"])
def test_bad_slugs(slug):
    problem = slug_problem(slug)
    assert problem is not None
    assert "lowercase letters" in problem


@pytest.mark.parametrize(
    "email", ["alice@example.com", "a.b+tag@sub.example.org", "x@y.io", "o'neil@example.ie"]
)
def test_good_emails(email):
    assert email_problem(email) is None


@pytest.mark.parametrize(
    "email",
    [
        "",
        "alice",
        "alice@",
        "@example.com",
        "alice@example",
        "a b@example.com",
        "a@b@example.com",
        "a" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_bad_emails(email):
    assert email_problem(email) == "is not a valid email address"


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires"])
def test_good_time_zones(name):
    assert time_zone_problem(name) is None


@pytest.mark.parametrize("name", ["", "Mars/Olympus", "Europe/Berlinn", "../etc/passwd", "utc"])
def test_bad_time_zones(name):
    problem = time_zone_problem(name)
    assert problem is not None
    assert "IANA time zone" in problem


@pytest.mark.parametrize(
    ("have", "need", "allowed"),
    [
        (Role.ADMIN, Role.ADMIN, True),
        (Role.ADMIN, Role.RESPONDER, True),
        (Role.ADMIN, Role.VIEWER, True),
        (Role.RESPONDER, Role.ADMIN, False),
        (Role.RESPONDER, Role.RESPONDER, True),
        (Role.RESPONDER, Role.VIEWER, True),
        (Role.VIEWER, Role.ADMIN, False),
        (Role.VIEWER, Role.RESPONDER, False),
        (Role.VIEWER, Role.VIEWER, True),
    ],
)
def test_role_allows(have, need, allowed):
    assert role_allows(have, need) is allowed


@settings(deadline=None)
@given(st.from_regex(r"[a-z0-9][a-z0-9._-]{0,62}", fullmatch=True))
def test_every_handle_of_the_documented_shape_is_accepted(handle):
    assert handle_problem(handle) is None
