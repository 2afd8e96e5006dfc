"""Provisioning on the database, then the server honours it; login; teams and services."""

from __future__ import annotations

import json
import stat

import pytest

from tests.e2e.harness import SQLITE_ONLY, Deployment, assert_ok, assert_refused

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"


def test_provisioned_viewer_token_works_against_the_api(deployment: Deployment) -> None:
    # No server yet: users and tokens are made on the database directly.
    assert_ok(deployment.warroom("db", "upgrade"))
    created = deployment.warroom(
        "user",
        "create",
        "dana",
        "--name",
        "Dana",
        "--email",
        "dana@example.com",
        "--role",
        "viewer",
        "--password",
        input=f"{PASSWORD}\n{PASSWORD}\n",  # prompted twice
    )
    assert assert_ok(created).out.strip().endswith("created viewer @dana")
    assert PASSWORD not in created.out + created.err
    issued = assert_ok(deployment.warroom("token", "create", "dana", "--json"))
    assert list(issued.json()) == ["token"]
    token = issued.json()["token"]
    assert token.startswith("wr_")
    assert token not in issued.err

    deployment.start()
    me = deployment.api("GET", "/api/v1/me", token=token)
    assert me.status_code == 200
    assert (me.json()["handle"], me.json()["role"], me.json()["email"]) == (
        "dana",
        "viewer",
        "dana@example.com",
    )
    listed = assert_ok(deployment.cli("ls", "--json", token=token)).json()
    assert listed == {"items": [], "next_cursor": None}
    assert_refused(
        deployment.cli("declare", "Checkout failures", "--sev", "1", token=token),
        1,
        "@dana is a viewer; this needs the responder role or higher",
    )
    assert deployment.api("GET", "/api/v1/incidents", token=token).json()["items"] == []

    config = deployment.root / "dana-cfg"
    login = deployment.cli(
        "login", "--handle", "dana", anonymous=True, config_dir=config, input=PASSWORD + "\n"
    )
    assert f"as @dana (viewer); saved in {config / 'credentials.json'}" in assert_ok(login).out


@SQLITE_ONLY
def test_login_with_a_token_saves_credentials(shared_warroom: Deployment, tmp_path) -> None:
    server = shared_warroom
    config = tmp_path / "login-cfg"
    token = server.admin_token
    logged_in = server.cli("login", "--token", token, anonymous=True, config_dir=config)
    assert f"logged in to {server.url} as @alice (admin)" in assert_ok(logged_in).out

    saved = config / "credentials.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text()) == {"url": server.url, "token": token}
    # Later commands need neither WARROOM_TOKEN nor WARROOM_URL.
    listed = server.cli("ls", "--json", anonymous=True, no_url=True, config_dir=config)
    assert assert_ok(listed).json() == server.api("GET", "/api/v1/incidents").json()


@SQLITE_ONLY
def test_login_with_handle_and_password(shared_warroom: Deployment, tmp_path) -> None:
    server = shared_warroom
    config = tmp_path / "login-cfg"
    password = server.demo_credentials()["password"]
    logged_in = server.cli(
        "login", "--handle", "alice", anonymous=True, config_dir=config, input=password + "\n"
    )
    assert_ok(logged_in)
    assert password not in logged_in.out + logged_in.err
    saved = json.loads((config / "credentials.json").read_text())
    assert saved["url"] == server.url
    assert saved["token"].startswith("wr_")
    assert saved["token"] != server.admin_token  # a new token for this login
    declared = server.cli(
        "declare", "Logged-in declare", "--sev", "4", "--json", anonymous=True, config_dir=config
    )
    assert assert_ok(declared).json()["title"] == "Logged-in declare"


@SQLITE_ONLY
def test_login_refusals_save_nothing(shared_warroom: Deployment, tmp_path) -> None:
    server = shared_warroom
    config = tmp_path / "login-cfg"
    wrong = server.cli(
        "login", "--handle", "alice", anonymous=True, config_dir=config, input="wrong-password\n"
    )
    assert wrong.code == 1, wrong
    assert "error: wrong handle or password" in wrong.err
    assert "Traceback" not in wrong.err
    bad_token = server.cli("login", "--token", "wr_nope", anonymous=True, config_dir=config)
    assert_refused(bad_token, 1, "the API token is not valid")
    assert not (config / "credentials.json").exists()


def test_admins_create_teams_and_services(shared_warroom: Deployment) -> None:
    server = shared_warroom
    team = assert_ok(
        server.cli("team", "create", "sre", "--name", "SRE", "--member", "bob", "--json")
    ).json()
    assert team["slug"] == "sre"
    assert [m["handle"] for m in team["members"]] == ["bob"]
    service = assert_ok(
        server.cli("service", "create", "db", "--name", "Database", "--team", "sre", "--json")
    ).json()
    assert service == {"slug": "db", "name": "Database", "description": "", "team": "sre"}
    assert service in server.api("GET", "/api/v1/services").json()
    assert (
        "created service queue"
        in assert_ok(server.cli("service", "create", "queue", "--name", "Queue")).out
    )
    assert_refused(
        server.cli("service", "create", "db", "--name", "Again"), 1, "service 'db' exists"
    )
    teams = assert_ok(server.cli("team", "ls")).out
    assert "sre SRE: @bob" in teams


@SQLITE_ONLY
def test_responders_may_not_create_teams_or_services(shared_warroom: Deployment) -> None:
    server = shared_warroom
    bob = server.issue_token("bob")  # on the database, while the server runs
    needs_admin = "@bob is a responder; this needs the admin role or higher"
    assert_refused(
        server.cli("team", "create", "bobs-team", "--name", "Bob's", token=bob), 1, needs_admin
    )
    assert_refused(
        server.cli("service", "create", "bobs-svc", "--name", "Bob's", token=bob), 1, needs_admin
    )
    slugs = [s["slug"] for s in server.api("GET", "/api/v1/services").json()]
    assert "bobs-svc" not in slugs
    # ... but they run incidents.
    assert_ok(server.cli("declare", "Bob's incident", "--sev", "3", token=bob))
