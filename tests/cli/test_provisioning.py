"""`warroom user create` and `warroom token create` work on the database, no server needed."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.harness import Deployment, assert_ok, assert_refused

pytestmark = pytest.mark.e2e


def _create(deployment: Deployment, handle: str, email: str, *extra: str):
    return deployment.warroom(
        "user", "create", handle, "--name", handle.title(), "--email", email, *extra
    )


def test_user_create_needs_a_migrated_database_and_unused_names(deployment: Deployment) -> None:
    assert_refused(
        _create(deployment, "dana", "dana@example.com"),
        1,
        "the database schema is not current: run `warroom db upgrade` first",
    )
    assert_ok(deployment.warroom("db", "upgrade"))

    dana = _create(deployment, "dana", "dana@example.com", "--role", "viewer")
    assert assert_ok(dana).out.strip() == "created viewer @dana"
    erin = _create(deployment, "Erin", "Erin@Example.com", "--tz", "Europe/Berlin", "--json")
    assert assert_ok(erin).json() == {
        "handle": "erin",
        "name": "Erin",
        "email": "erin@example.com",
        "role": "responder",
        "time_zone": "Europe/Berlin",
    }
    assert_refused(_create(deployment, "DANA", "other@example.com"), 1, "handle 'dana' is taken")
    assert_refused(
        _create(deployment, "dana2", "Dana@Example.com"),
        1,
        "email 'dana@example.com' is already used",
    )


@pytest.mark.parametrize(
    ("handle", "email", "extra", "message"),
    [
        ("frank", "frank-at-example.com", (), "email: is not a valid email address"),
        ("gina", "gina@example.com", ("--role", "boss"), "role: Input should be"),
        ("hal!", "hal@example.com", (), "handle: must be"),
        ("ivy", "ivy@example.com", ("--tz", "Mars/Olympus"), "time_zone: is not an IANA time zone"),
    ],
)
def test_user_create_rejects_bad_values_as_usage_errors(
    offline: Deployment, handle: str, email: str, extra: tuple[str, ...], message: str
) -> None:
    # Checked before the database is opened: this one was never even created.
    assert_refused(_create(offline, handle, email, *extra), 2, message)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_token_create_prints_only_the_token(deployment: Deployment) -> None:
    assert_ok(deployment.warroom("db", "upgrade"))
    assert_ok(_create(deployment, "dana", "dana@example.com", "--role", "viewer"))

    as_json = assert_ok(deployment.warroom("token", "create", "dana", "--json"))
    assert list(as_json.json()) == ["token"]
    first = as_json.json()["token"]
    assert first.startswith("wr_")

    plain = assert_ok(deployment.warroom("token", "create", "dana", "--name", "ci"))
    second = plain.out.strip()
    assert plain.out == second + "\n"  # TOKEN=$(warroom token create ...) gets just the token
    assert second.startswith("wr_")
    assert second != first
    assert "token for @dana; shown only now" in plain.err
    assert second not in plain.err

    # Stored hashed: the database holds SHA-256 digests, never the tokens.
    engine = create_engine(deployment.database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT name, token_hash FROM api_token")).all()
    engine.dispose()
    assert sorted(rows) == sorted(
        [
            ("cli", hashlib.sha256(first.encode()).hexdigest()),
            ("ci", hashlib.sha256(second.encode()).hexdigest()),
        ]
    )

    assert_refused(deployment.warroom("token", "create", "ghost"), 1, "unknown user 'ghost'")
