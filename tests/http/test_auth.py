"""Authentication and authorisation of every /api/v1 route."""

from __future__ import annotations

import inspect
import re

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from tests.http.api import Headers, People, bearer, declare

API = "/api/v1"
LOGIN = ("POST", f"{API}/auth/token")
Route = tuple[str, str]

# The least role of the routes that process.md's roles rest on; every other
# /api/v1 route is still checked for authentication and role below, by reading
# the app's routes.
NEEDS: dict[Route, str] = {
    ("GET", f"{API}/me"): "viewer",
    ("GET", f"{API}/users"): "viewer",
    ("POST", f"{API}/users"): "admin",
    ("GET", f"{API}/users/{{handle}}"): "viewer",
    ("PATCH", f"{API}/users/{{handle}}"): "admin",
    ("GET", f"{API}/tokens"): "viewer",
    ("POST", f"{API}/tokens"): "viewer",
    ("DELETE", f"{API}/tokens/{{token_id}}"): "viewer",
    ("GET", f"{API}/teams"): "viewer",
    ("POST", f"{API}/teams"): "admin",
    ("POST", f"{API}/teams/{{slug}}/members"): "admin",
    ("GET", f"{API}/services"): "viewer",
    ("POST", f"{API}/services"): "admin",
    ("GET", f"{API}/severities"): "viewer",
    ("PUT", f"{API}/severities/{{level}}"): "admin",
    ("GET", f"{API}/incidents"): "viewer",
    ("POST", f"{API}/incidents"): "responder",
    ("GET", f"{API}/incidents/{{ref}}"): "viewer",
    ("PATCH", f"{API}/incidents/{{ref}}"): "responder",
    ("POST", f"{API}/incidents/{{ref}}/ack"): "responder",
    ("POST", f"{API}/incidents/{{ref}}/roles"): "responder",
    ("POST", f"{API}/incidents/{{ref}}/phase"): "responder",
    ("POST", f"{API}/incidents/{{ref}}/resolve"): "responder",
    ("POST", f"{API}/incidents/{{ref}}/severity"): "responder",
    ("GET", f"{API}/incidents/{{ref}}/timeline"): "viewer",
    ("POST", f"{API}/incidents/{{ref}}/notes"): "responder",
    ("GET", f"{API}/incidents/{{ref}}/updates"): "viewer",
    ("POST", f"{API}/incidents/{{ref}}/updates"): "responder",
    ("GET", f"{API}/templates/{{name}}"): "viewer",
    ("PUT", f"{API}/templates/{{name}}"): "admin",
    ("DELETE", f"{API}/templates/{{name}}"): "admin",
}
PASSWORD = "correct horse battery staple"
PATH_VALUES = {
    "ref": "INC-1",
    "level": "2",
    "name": "internal_update",
    "handle": "rita",
    "token_id": "1",
    "slug": "checkout",
}


def required_role(route: APIRoute) -> str | None:
    """The role named by the route's ``require(...)`` dependency, if it has one."""
    stack = list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        call = dependency.call
        if call is not None and getattr(call, "__qualname__", "") == "require.<locals>.check":
            return str(inspect.getclosurevars(call).nonlocals["role"])
        stack.extend(dependency.dependencies)
    return None


def api_routes(app: FastAPI) -> dict[Route, str | None]:
    """Every (method, path template) under /api/v1, read from the app, with its role.

    FastAPI keeps included routers as such in ``app.routes``; iter_route_contexts
    yields their routes with the prefix applied, as the app matches them.
    """
    found: dict[Route, str | None] = {}
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, context.path or ""
        if isinstance(route, APIRoute) and path.startswith(API + "/"):
            for method in context.methods or ():
                found[(method, path)] = required_role(route)
    return found


def concrete(path: str, ref: str = "INC-1") -> str:
    values = {**PATH_VALUES, "ref": ref}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)


def test_process_routes_need_the_documented_role(app: FastAPI) -> None:
    found = api_routes(app)
    assert {route: found.get(route) for route in NEEDS} == NEEDS


def test_every_api_route_but_login_needs_a_role(app: FastAPI) -> None:
    found = api_routes(app)
    assert found.pop(LOGIN, "missing") is None
    assert len(found) >= len(NEEDS)
    assert [route for route, role in found.items() if role is None] == []


def test_every_api_route_but_login_refuses_a_request_without_token(
    app: FastAPI, client: TestClient
) -> None:
    wrong = []
    for method, path in sorted(set(api_routes(app)) - {LOGIN}):
        response = client.request(method, concrete(path))
        body = response.json()
        if (
            response.status_code != 401
            or response.headers.get("www-authenticate") != "Bearer"
            or "Authorization: Bearer" not in body.get("detail", "")
        ):
            wrong.append((method, path, response.status_code, body))
    assert wrong == []


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Basic cml0YTpwYXNzd29yZA==", "must be 'Bearer <token>'"),
        ("Bearer", "must be 'Bearer <token>'"),
        ("Bearer    ", "must be 'Bearer <token>'"),
        ("Token wr_abc", "must be 'Bearer <token>'"),
        ("wr_abc", "must be 'Bearer <token>'"),
        ("Bearer wr_not-a-token-we-issued", "not valid"),
    ],
)
def test_malformed_or_unknown_credentials_are_refused_with_the_reason(
    client: TestClient, people: People, header: str, reason: str
) -> None:
    response = client.get(f"{API}/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert reason in response.json()["detail"]


def test_bearer_scheme_is_case_insensitive(client: TestClient, people: People) -> None:
    token = people.viewer["Authorization"].removeprefix("Bearer ")
    response = client.get(f"{API}/me", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200
    assert response.json()["handle"] == "vic"


# A person's contact methods, rules and feed are theirs (or an admin's) to see.
SELF_OR_ADMIN = frozenset(
    {
        "/api/v1/users/{handle}/contact-methods",
        "/api/v1/users/{handle}/notification-rules",
        "/api/v1/users/{handle}/feed",
    }
)


def test_viewer_reads_every_get_route(app: FastAPI, client: TestClient, people: People) -> None:
    ref = declare(client, people.responder)["ref"]
    wrong = []
    for (method, path), role in sorted(api_routes(app).items()):
        if method != "GET" or role != "viewer" or path in SELF_OR_ADMIN:
            continue
        response = client.get(concrete(path, ref), headers=people.viewer)
        if (method, path) in NEEDS:
            ok = response.status_code == 200
        else:  # a newer route: its path values may name nothing, but it must let vic in
            ok = response.status_code not in (401, 403)
        if not ok:
            wrong.append((path, response.status_code, response.text))
    assert wrong == []


def test_viewer_cannot_change_anything(app: FastAPI, client: TestClient, people: People) -> None:
    ref = declare(client, people.responder)["ref"]
    before = client.get(f"{API}/incidents/{ref}?timeline=true", headers=people.viewer).json()
    changing = {k: role for k, role in api_routes(app).items() if role in ("responder", "admin")}
    assert {k for k, role in NEEDS.items() if role != "viewer"} <= set(changing)
    wrong = []
    for (method, path), role in sorted(changing.items()):
        response = client.request(method, concrete(path, ref), headers=people.viewer, json={})
        expected = f"@vic is a viewer; this needs the {role} role or higher"
        if response.status_code != 403 or response.json()["detail"] != expected:
            wrong.append((method, path, response.status_code, response.text))
    assert wrong == []
    after = client.get(f"{API}/incidents/{ref}?timeline=true", headers=people.viewer).json()
    assert after == before


def test_responder_cannot_use_admin_routes(
    app: FastAPI, client: TestClient, people: People
) -> None:
    admin_only = sorted(k for k, role in api_routes(app).items() if role == "admin")
    assert len(admin_only) >= 8
    wrong = []
    for method, path in admin_only:
        response = client.request(method, concrete(path), headers=people.responder, json={})
        expected = "@rita is a responder; this needs the admin role or higher"
        if response.status_code != 403 or response.json()["detail"] != expected:
            wrong.append((method, path, response.status_code, response.text))
    assert wrong == []


def test_admin_routes_named_in_the_process_are_admin_only() -> None:
    for method, path in [
        ("POST", "/users"),
        ("POST", "/teams"),
        ("POST", "/services"),
        ("PUT", "/severities/{level}"),
        ("PUT", "/templates/{name}"),
    ]:
        assert NEEDS[(method, API + path)] == "admin"


@pytest.fixture
def with_password(client: TestClient, people: People) -> People:
    """``people``, where rita has a password (set by an admin through the API)."""
    response = client.patch(f"{API}/users/rita", json={"password": PASSWORD}, headers=people.admin)
    assert response.status_code == 200, response.text
    return people


def login(client: TestClient, handle: str, password: str) -> tuple[int, dict[str, str]]:
    response = client.post(f"{API}/auth/token", json={"handle": handle, "password": password})
    return response.status_code, response.json()


def test_password_login_issues_a_working_token(client: TestClient, with_password: People) -> None:
    status, body = login(client, "RITA", PASSWORD)
    assert status == 201
    assert body["user"] == "rita"
    assert body["token"].startswith("wr_")
    me = client.get(f"{API}/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.json()["handle"] == "rita"


@pytest.mark.parametrize(
    ("handle", "password"),
    [
        ("rita", "wrong password"),
        ("rita", PASSWORD.upper()),
        ("nobody", PASSWORD),
        ("ada", PASSWORD),  # ada has no password: tokens only
    ],
)
def test_failed_login_says_the_same_whatever_was_wrong(
    client: TestClient, with_password: People, handle: str, password: str
) -> None:
    response = client.post(f"{API}/auth/token", json={"handle": handle, "password": password})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "wrong handle or password"}


def test_deactivated_user_can_neither_log_in_nor_use_a_token(
    client: TestClient, with_password: People
) -> None:
    people = with_password
    deactivate = client.patch(f"{API}/users/rita", json={"active": False}, headers=people.admin)
    assert deactivate.status_code == 200
    assert deactivate.json()["active"] is False
    assert login(client, "rita", PASSWORD) == (401, {"detail": "wrong handle or password"})
    response = client.get(f"{API}/me", headers=people.responder)
    assert response.status_code == 401
    assert "deactivated" in response.json()["detail"]


def token_id(client: TestClient, headers: Headers, name: str) -> int:
    listed = client.get(f"{API}/tokens", headers=headers)
    assert listed.status_code == 200
    ids = [t["id"] for t in listed.json() if t["name"] == name]
    assert len(ids) == 1
    return int(ids[0])


def test_token_list_never_shows_secrets(client: TestClient, people: People) -> None:
    created = client.post(f"{API}/tokens", json={"name": "laptop"}, headers=people.viewer)
    assert created.status_code == 201
    secret = created.json()["token"]
    listed = client.get(f"{API}/tokens", headers=people.viewer)
    assert {t["name"] for t in listed.json()} == {"tests", "laptop"}
    assert secret not in listed.text
    assert all(
        set(t) == {"id", "name", "prefix", "created_at", "revoked_at"} for t in listed.json()
    )


def test_revoked_token_is_refused_and_others_keep_working(
    client: TestClient, people: People
) -> None:
    created = client.post(f"{API}/tokens", json={"name": "laptop"}, headers=people.viewer)
    laptop = bearer(created.json()["token"])
    assert client.get(f"{API}/me", headers=laptop).status_code == 200

    revoked = client.delete(
        f"{API}/tokens/{token_id(client, people.viewer, 'laptop')}", headers=laptop
    )
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None

    response = client.get(f"{API}/me", headers=laptop)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == "the API token was revoked"
    assert client.get(f"{API}/me", headers=people.viewer).status_code == 200


def test_nobody_revokes_another_users_token(client: TestClient, people: People) -> None:
    ritas = token_id(client, people.responder, "tests")
    response = client.delete(f"{API}/tokens/{ritas}", headers=people.admin)
    assert response.status_code == 404
    assert client.get(f"{API}/me", headers=people.responder).status_code == 200


def test_revoking_a_token_takes_effect_at_once_despite_the_auth_cache(client, people):
    made = client.post("/api/v1/tokens", json={"name": "short-lived"}, headers=people.viewer)
    token = made.json()["token"]
    own = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=own).status_code == 200  # now cached
    listed = client.get("/api/v1/tokens", headers=own).json()
    token_id = next(t["id"] for t in listed if t["name"] == "short-lived")
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=own).status_code == 200
    assert client.get("/api/v1/me", headers=own).status_code == 401


def test_a_role_change_takes_effect_at_once_despite_the_auth_cache(client, people):
    assert client.get("/api/v1/me", headers=people.responder).json()["role"] == "responder"
    handle = client.get("/api/v1/me", headers=people.responder).json()["handle"]
    changed = client.patch(f"/api/v1/users/{handle}", json={"role": "viewer"}, headers=people.admin)
    assert changed.status_code == 200
    declared = client.post(
        "/api/v1/incidents", json={"title": "x", "severity": 3}, headers=people.responder
    )
    assert declared.status_code == 403
