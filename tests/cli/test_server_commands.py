"""serve, db and demo: configuration is checked first, the schema before serving."""

from __future__ import annotations

import json
import stat

import httpx
import pytest

from tests.e2e.harness import Deployment, Outcome, assert_ok, assert_refused
from warroom.db.migrate import head_revision

pytestmark = pytest.mark.e2e

REAL_SECRET = "9f2c" * 16  # 64 characters, no placeholder


def assert_bad_configuration(outcome: Outcome, *names: str) -> None:
    """Exit 2 and an `invalid configuration` message naming each variable."""
    assert outcome.code == 2, outcome
    assert outcome.err.startswith("error: invalid configuration:"), outcome
    assert "Traceback" not in outcome.err, outcome
    for name in names:
        assert name in outcome.err, outcome


@pytest.mark.parametrize(
    ("args", "port"),
    [(("serve",), "abc"), (("serve",), "70000"), (("db", "upgrade"), "abc"), (("demo",), "0")],
)
def test_bad_port_is_named(offline: Deployment, args: tuple[str, ...], port: str) -> None:
    outcome = offline.warroom(*args, WARROOM_PORT=port)
    assert_bad_configuration(outcome, "WARROOM_PORT", repr(port))
    assert not (offline.root / "warroom.db").exists()  # refused before touching the database


def test_each_bad_setting_is_named(offline: Deployment) -> None:
    outcome = offline.warroom(
        "serve",
        WARROOM_PORT="http",
        WARROOM_BASE_URL="warroom.example.com",
        WARROOM_WORKERS="0",
        WARROOM_DATABASE_URL="mysql://db/warroom",
    )
    assert_bad_configuration(
        outcome, "WARROOM_PORT", "WARROOM_BASE_URL", "WARROOM_WORKERS", "WARROOM_DATABASE_URL"
    )


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (None, "WARROOM_SECRET_KEY must be set in production"),
        ("changeme", "WARROOM_SECRET_KEY is a placeholder"),
        ("CHANGEME", "WARROOM_SECRET_KEY is a placeholder"),
        ("a-real-but-short-secret", "WARROOM_SECRET_KEY must be at least 32 characters"),
    ],
)
def test_production_refuses_a_missing_or_weak_secret(
    offline: Deployment, secret: str | None, message: str
) -> None:
    env = {"WARROOM_ENV": "production"}
    if secret is not None:
        env["WARROOM_SECRET_KEY"] = secret
    outcome = offline.warroom("serve", **env)
    assert_bad_configuration(outcome, message)
    assert not (offline.var_dir / "secret_key").exists()  # no development secret made up


def test_production_with_a_real_secret_gets_past_configuration(offline: Deployment) -> None:
    # Nothing migrated here, so serve stops at the schema check instead.
    outcome = offline.warroom("serve", WARROOM_ENV="production", WARROOM_SECRET_KEY=REAL_SECRET)
    assert_refused(outcome, 1, "the database schema is not current")


def test_serve_refuses_an_unmigrated_database(deployment: Deployment) -> None:
    head = head_revision()
    assert_refused(
        deployment.warroom("serve"),
        1,
        "the database schema is not current: run `warroom db upgrade` first",
    )
    with pytest.raises(httpx.TransportError):
        httpx.get(deployment.url + "/healthz", timeout=5.0)

    behind = deployment.warroom("db", "current")
    assert behind.code == 1, behind
    assert f"database at none (behind: code needs {head})" in behind.out

    assert f"database at {head} (current)" in assert_ok(deployment.warroom("db", "upgrade")).out
    assert f"database at {head} (current)" in assert_ok(deployment.warroom("db", "current")).out
    assert_ok(deployment.warroom("db", "upgrade"))  # again: nothing to do, still fine


@pytest.mark.parametrize("backend", ["sqlite"])
def test_demo_loads_once(deployment: Deployment) -> None:
    assert_refused(deployment.warroom("demo"), 1, "run `warroom db upgrade` first")
    assert_ok(deployment.warroom("db", "upgrade"))

    first = assert_ok(deployment.warroom("demo")).out
    saved = deployment.var_dir / "demo-credentials.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    login = json.loads(saved.read_text())
    assert login["handle"] == "alice"
    assert f"Admin:    @alice  password {login['password']}" in first
    assert f"export WARROOM_URL={deployment.url} WARROOM_TOKEN={login['token']}" in first
    # The CLI credentials went to WARROOM_CONFIG_DIR, readable by the owner only.
    client = deployment.config_dir / "credentials.json"
    assert stat.S_IMODE(client.stat().st_mode) == 0o600
    assert json.loads(client.read_text()) == {"url": deployment.url, "token": login["token"]}

    assert_refused(
        deployment.warroom("demo"),
        1,
        "the database is not empty; the demo loads only into a new one",
    )
    again = assert_ok(deployment.warroom("demo", "--if-empty")).out
    assert f"password {login['password']}" in again
    assert f"Token:    {login['token']}" in again
    assert json.loads(saved.read_text()) == login
