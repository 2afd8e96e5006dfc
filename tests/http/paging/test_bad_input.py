"""Bad input to every on-call and paging endpoint that writes: a precise 4xx, nothing written.

Each endpoint gets malformed JSON, a body of the wrong shape, unknown fields,
wrongly typed values, oversized and NUL-carrying strings; the state read
back through the API afterwards is unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.http.api import People, declare, error_fields
from tests.http.paging import (
    API,
    add_contact,
    layer,
    level,
    ok,
    policy,
    put_policy,
    put_schedule,
    schedule,
    user,
)

MIB = 1024 * 1024


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    body: Any  # a valid body
    who: str  # which of People sends it


# {ref} is an incident on checkout with a running page; {contact} is one of rita's methods.
ENDPOINTS = {
    "schedule": Endpoint("PUT", "/schedules/ops", schedule(), "admin"),
    "override": Endpoint(
        "POST",
        "/schedules/ops/overrides",
        {"user": "carol", "start": "2026-11-27T12:00:00Z", "end": "2026-11-27T13:00:00Z"},
        "responder",
    ),
    "policy": Endpoint("PUT", "/escalation-policies/checkout", policy(), "admin"),
    "service-policy": Endpoint(
        "PUT", "/services/search/escalation-policy", {"policy": "checkout"}, "admin"
    ),
    "reassign": Endpoint("POST", "/incidents/{ref}/reassign", {"user": "carol"}, "responder"),
    "contact": Endpoint(
        "POST",
        "/users/rita/contact-methods",
        {"kind": "email", "target": "rita@example.org", "label": "home"},
        "responder",
    ),
    "rules": Endpoint(
        "PUT",
        "/users/rita/notification-rules",
        [{"contact_id": "{contact}", "delay_minutes": 1}],
        "responder",
    ),
}


@dataclass(frozen=True)
class World:
    ref: str
    contact: int

    def fill(self, value: Any) -> Any:
        """``value`` with the {ref} and {contact} placeholders filled in."""
        if isinstance(value, str):
            if value == "{contact}":
                return self.contact
            return value.replace("{ref}", self.ref)
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        return value


@pytest.fixture
def world(client: TestClient, people: People) -> World:
    put_schedule(client, people.admin, "ops")
    put_policy(client, people.admin, "checkout", policy(services=["checkout"]))
    ref = declare(client, people.responder, services=["checkout"])["ref"]
    contact = add_contact(client, people.responder, "rita", "email", "rita@example.com")
    return World(ref=ref, contact=contact["id"])


def state(client: TestClient, people: People, world: World) -> dict[str, Any]:
    """Everything these endpoints can change, as the API shows it."""
    headers = people.admin
    return {
        "schedules": ok(client.get(f"{API}/schedules", headers=headers)),
        "policies": ok(client.get(f"{API}/escalation-policies", headers=headers)),
        "timeline": ok(client.get(f"{API}/incidents/{world.ref}/timeline", headers=headers)),
        "contacts": ok(client.get(f"{API}/users/rita/contact-methods", headers=headers)),
        "rules": ok(client.get(f"{API}/users/rita/notification-rules", headers=headers)),
    }


def send(
    client: TestClient, people: People, world: World, endpoint: Endpoint, **kwargs: Any
) -> Any:
    headers = {**getattr(people, endpoint.who), **kwargs.pop("headers", {})}
    path = API + world.fill(endpoint.path)
    return client.request(endpoint.method, path, headers=headers, **kwargs)


def test_the_valid_bodies_are_valid(client: TestClient, people: People, world: World) -> None:
    # So that every refusal below is down to the one thing changed.
    for name, endpoint in ENDPOINTS.items():
        response = send(client, people, world, endpoint, json=world.fill(endpoint.body))
        assert response.status_code in (200, 201), (name, response.text)


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_malformed_json_is_a_400_everywhere(
    client: TestClient, people: People, world: World, name: str
) -> None:
    endpoint = ENDPOINTS[name]
    before = state(client, people, world)
    for raw in (b'{"name": "Ops"', b"not json", b"{'user': 'carol'}", b'{"a":}'):
        response = send(
            client,
            people,
            world,
            endpoint,
            content=raw,
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 400, (raw, response.text)
        assert response.json()["detail"] == "the request body is not valid JSON"
    assert state(client, people, world) == before


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_a_body_of_the_wrong_shape_is_refused(
    client: TestClient, people: People, world: World, name: str
) -> None:
    endpoint = ENDPOINTS[name]
    before = state(client, people, world)
    wrong = [{}, "a string", 42, None] if isinstance(endpoint.body, list) else [[], "a string", 42]
    for body in wrong:
        response = send(client, people, world, endpoint, json=body)
        assert response.status_code == 422, (body, response.text)
        assert error_fields(response.json()) == ["body"], body
    assert state(client, people, world) == before


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_unknown_fields_are_refused_by_name(
    client: TestClient, people: People, world: World, name: str
) -> None:
    endpoint = ENDPOINTS[name]
    before = state(client, people, world)
    body = copy.deepcopy(world.fill(endpoint.body))
    if isinstance(body, list):
        body[0]["delay"] = 5
        expected = ["0.delay"]
    else:
        body |= {"colour": "red", "sevrity": 1}
        expected = ["colour", "sevrity"]
    response = send(client, people, world, endpoint, json=body)
    assert response.status_code == 422, response.text
    assert sorted(error_fields(response.json())) == expected
    assert "Extra inputs are not permitted" in response.json()["detail"]
    assert state(client, people, world) == before


def at(path: tuple[Any, ...], value: Any) -> Callable[[Any], Any]:
    """A change that puts ``value`` at ``path`` of a body."""

    def change(body: Any) -> Any:
        body = copy.deepcopy(body)
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return body

    return change


LONG = "x" * 10_000
NUL = "on\x00call"


# For each endpoint: (what is wrong, the change to its valid body, the field named).
BAD_VALUES: dict[str, list[tuple[str, Callable[[Any], Any], str]]] = {
    "schedule": [
        ("layers not a list", at(("layers",), "rita"), "layers"),
        ("a layer not an object", at(("layers", 0), "rita"), "layers.0"),
        (
            "participants not a list",
            at(("layers", 0, "participants"), "rita"),
            "layers.0.participants",
        ),
        (
            "a participant not text",
            at(("layers", 0, "participants"), [1]),
            "layers.0.participants.0",
        ),
        ("shift_count text", at(("layers", 0, "shift_count"), "one"), "layers.0.shift_count"),
        ("shift_count fractional", at(("layers", 0, "shift_count"), 1.5), "layers.0.shift_count"),
        ("start not a time", at(("layers", 0, "start"), "next monday"), "layers.0.start"),
        (
            "restrictions an object",
            at(("layers", 0, "restrictions"), {"days": [1]}),
            "layers.0.restrictions",
        ),
        ("time_zone a list", at(("time_zone",), ["UTC"]), "time_zone"),
        ("name a number", at(("name",), 42), "name"),
        ("unknown layer field", at(("layers", 0, "handof"), "10:00"), "layers.0.handof"),
        ("name too long", at(("name",), "x" * 201), "name"),
        ("layer name too long", at(("layers", 0, "name"), "x" * 101), "layers.0.name"),
        (
            "too many participants",
            at(("layers", 0, "participants"), ["rita"] * 101),
            "layers.0.participants",
        ),
        (
            "too many layers",
            at(("layers",), [layer("rita", name=f"l{n}") for n in range(21)]),
            "layers",
        ),
        ("NUL in name", at(("name",), NUL), "name"),
        ("NUL in layer name", at(("layers", 0, "name"), NUL), "layers.0.name"),
    ],
    "override": [
        ("start not a time", at(("start",), "yesterday"), "start"),
        ("user a list", at(("user",), ["carol"]), "user"),
        ("user too long", at(("user",), LONG), "user"),
        ("NUL in user", at(("user",), NUL), "user"),
    ],
    "policy": [
        ("repeat text", at(("repeat",), "many"), "repeat"),
        (
            "timeout with a unit",
            at(("levels", 0, "timeout_minutes"), "5m"),
            "levels.0.timeout_minutes",
        ),
        ("a target as text", at(("levels", 0, "targets", 0), "bob"), "levels.0.targets.0"),
        (
            "a target without ref",
            at(("levels", 0, "targets", 0), {"kind": "user"}),
            "levels.0.targets.0.ref",
        ),
        ("unknown level field", at(("levels", 0, "timeout"), 5), "levels.0.timeout"),
        ("services as text", at(("services",), "checkout"), "services"),
        ("name too long", at(("name",), LONG), "name"),
        ("too many levels", at(("levels",), [level(user("bob"))] * 21), "levels"),
        ("ref too long", at(("levels", 0, "targets", 0, "ref"), LONG), "levels.0.targets.0.ref"),
        ("too many services", at(("services",), ["checkout"] * 501), "services"),
        ("NUL in name", at(("name",), NUL), "name"),
        ("NUL in ref", at(("levels", 0, "targets", 0, "ref"), NUL), "levels.0.targets.0.ref"),
    ],
    "service-policy": [
        ("policy a number", at(("policy",), 7), "policy"),
        ("policy too long", at(("policy",), LONG), "policy"),
    ],
    "reassign": [
        ("user a number", at(("user",), 7), "user"),
        ("user too long", at(("user",), LONG), "user"),
    ],
    "contact": [
        ("unknown kind", at(("kind",), "sms"), "kind"),
        ("target an object", at(("target",), {"email": "a@b.cd"}), "target"),
        ("target too long", at(("target",), "a@b.cd" + "x" * 2000), "target"),
        ("label too long", at(("label",), "x" * 101), "label"),
        ("NUL in label", at(("label",), NUL), "label"),
        ("NUL in target", at(("target",), "rita\x00@example.com"), "target"),
    ],
    "rules": [
        ("contact_id text", at((0, "contact_id"), "first"), "0.contact_id"),
        ("a rule as a number", at((0,), 3), "0"),
    ],
}


@pytest.mark.parametrize("name", list(BAD_VALUES))
def test_bad_values_are_refused_by_field(
    client: TestClient, people: People, world: World, name: str
) -> None:
    endpoint = ENDPOINTS[name]
    before = state(client, people, world)
    problems = []
    for what, change, field in BAD_VALUES[name]:
        response = send(client, people, world, endpoint, json=change(world.fill(endpoint.body)))
        if response.status_code != 422 or error_fields(response.json()) != [field]:
            problems.append(f"{what}: {response.status_code} {response.text[:200]}")
    assert problems == []
    assert state(client, people, world) == before


def test_a_very_long_time_zone_is_refused(lenient_client: TestClient, people: People) -> None:
    body = schedule(time_zone="Europe/" + "x" * 300)
    response = lenient_client.put(f"{API}/schedules/ops", json=body, headers=people.admin)
    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == ["time_zone"]


@pytest.mark.parametrize("name", ["schedule", "policy", "contact"])
def test_a_body_over_the_limit_is_a_413(
    client: TestClient, people: People, world: World, name: str
) -> None:
    endpoint = ENDPOINTS[name]
    before = state(client, people, world)
    raw = b'{"name": "' + b"x" * MIB + b'"}'
    response = send(
        client,
        people,
        world,
        endpoint,
        content=raw,
        headers={"Content-Type": "application/json", "Content-Length": str(len(raw))},
    )
    assert response.status_code == 413
    assert state(client, people, world) == before


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/oncall", {"schedule": "x" * 64}, "schedule"),
        ("/oncall", {"at": "x" * 100}, "at"),
        ("/schedules/ops/preview", {"weeks": "1.5"}, "weeks"),
        ("/schedules/ops/preview", {"start": "soon"}, "start"),
        ("/users/rita/shifts", {"days": "many"}, "days"),
        ("/pages", {"active": "perhaps"}, "active"),
    ],
)
def test_bad_query_parameters_are_refused_by_name(
    client: TestClient, people: People, world: World, path: str, params: dict[str, str], field: str
) -> None:
    response = client.get(API + path, params=params, headers=people.viewer)
    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == [field]


@pytest.mark.parametrize(
    "path",
    [
        "/schedules/" + "x" * 64,
        "/escalation-policies/" + "x" * 64,
        "/incidents/INC-1" + "0" * 40 + "/pages",
        "/users/" + "x" * 64 + "/contact-methods",
    ],
)
def test_oversized_path_names_are_refused(
    client: TestClient, people: People, world: World, path: str
) -> None:
    response = client.get(API + path, headers=people.admin)
    assert response.status_code == 422, response.text
