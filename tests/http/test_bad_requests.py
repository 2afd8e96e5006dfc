"""Bad requests to declare an incident, and bodies that are not JSON or too large.

Each gets a precise 4xx naming the offending field, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.http.api import People, all_refs, declare, error_fields
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.settings import Settings
from warroom.web.app import create_app

INCIDENTS = "/api/v1/incidents"
MIB = 1024 * 1024


def valid(**changes: Any) -> dict[str, Any]:
    """A valid declaration with ``changes`` applied."""
    return {"title": "Checkout down", "severity": 1, **changes}


def without(key: str) -> dict[str, Any]:
    body = valid()
    del body[key]
    return body


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        (valid(severity=9), "severity", "unknown severity 9"),
        (valid(severity="SEV-7"), "severity", "known: 1 (SEV-1)"),
        (valid(severity="critical"), "severity", "unknown severity 'critical'"),
        (valid(severity=0), "severity", "unknown severity"),
        (without("title"), "title", "Field required"),
        (without("severity"), "severity", "Field required"),
        (valid(title=""), "title", "at least 1 character"),
        (valid(title="   "), "title", "at least 1 character"),
        (valid(title="x" * 300), "title", "at most 200 characters"),
        (valid(title=123), "title", "valid string"),
        (valid(commander="nobody"), "commander", "unknown user 'nobody'"),
        (valid(services=["checkout", "no-such-service"]), "services", "'no-such-service'"),
        (valid(services="checkout"), "services", "valid list"),
        (valid(drill="maybe"), "drill", "valid boolean"),
        (valid(customer_impact="x" * 100_000), "customer_impact", "at most 10000"),
        (valid(bogus=1), "bogus", "Extra inputs are not permitted"),
        (valid(sevrity=2), "sevrity", "Extra inputs are not permitted"),
    ],
)
def test_bad_declaration_is_refused_by_field_and_writes_nothing(
    client: TestClient, people: People, body: dict[str, Any], field: str, says: str
) -> None:
    before = all_refs(client, people.viewer)
    response = client.post(INCIDENTS, json=body, headers=people.responder)
    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == [field]
    assert says in response.json()["detail"]
    assert all_refs(client, people.viewer) == before


@pytest.mark.parametrize("severity", [[1], {"level": 1}, None, 1.5])
def test_wrongly_typed_severity_is_refused(
    client: TestClient, people: People, severity: Any
) -> None:
    response = client.post(INCIDENTS, json=valid(severity=severity), headers=people.responder)
    assert response.status_code == 422
    assert all_refs(client, people.viewer) == []


@pytest.mark.parametrize("severity", [[1], None])
def test_wrongly_typed_severity_names_the_field(
    client: TestClient, people: People, severity: Any
) -> None:
    response = client.post(INCIDENTS, json=valid(severity=severity), headers=people.responder)
    assert response.status_code == 422
    assert set(error_fields(response.json())) == {"severity"}


def test_every_problem_of_a_body_is_listed(client: TestClient, people: People) -> None:
    body = {"title": "x" * 201, "severity": 1, "drill": "maybe", "extra": True}
    response = client.post(INCIDENTS, json=body, headers=people.responder)
    assert response.status_code == 422
    assert sorted(error_fields(response.json())) == ["drill", "extra", "title"]


@pytest.mark.parametrize(
    "raw",
    [b'{"title": "Checkout down", "severity": 1', b"not json", b"{'title': 'x'}", b'{"a":}'],
)
def test_malformed_json_is_a_400(client: TestClient, people: People, raw: bytes) -> None:
    headers = {**people.responder, "Content-Type": "application/json"}
    response = client.post(INCIDENTS, content=raw, headers=headers)
    assert response.status_code == 400
    assert response.json()["detail"] == "the request body is not valid JSON"
    assert all_refs(client, people.viewer) == []


@pytest.mark.parametrize("body", [[], "a string", 42, None])
def test_body_that_is_not_an_object_is_refused(
    client: TestClient, people: People, body: Any
) -> None:
    response = client.post(INCIDENTS, json=body, headers=people.responder)
    assert response.status_code == 422
    assert error_fields(response.json()) == ["body"]


def test_body_just_under_the_limit_is_read_and_judged_on_its_fields(
    client: TestClient, people: People
) -> None:
    body = valid(customer_impact="x" * (MIB - 200))
    response = client.post(INCIDENTS, json=body, headers=people.responder)
    assert response.status_code == 422
    assert error_fields(response.json()) == ["customer_impact"]


def oversized() -> bytes:
    return b'{"title": "Checkout down", "severity": 1, "customer_impact": "' + b"x" * MIB + b'"}'


def test_body_over_the_limit_with_content_length_is_a_413(
    client: TestClient, people: People
) -> None:
    raw = oversized()
    headers = {
        **people.responder,
        "Content-Type": "application/json",
        "Content-Length": str(len(raw)),
    }
    response = client.post(INCIDENTS, content=raw, headers=headers)
    assert response.status_code == 413
    assert response.json() == {"detail": f"request body is larger than {MIB} bytes"}
    assert all_refs(client, people.viewer) == []


def chunks(raw: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(raw), size):
        yield raw[start : start + size]


def test_small_chunked_body_is_accepted(client: TestClient, people: People) -> None:
    raw = b'{"title": "Checkout down", "severity": 1}'
    headers = {**people.responder, "Content-Type": "application/json"}
    response = client.post(INCIDENTS, content=chunks(raw, 8), headers=headers)
    assert response.status_code == 201
    assert response.request.headers["transfer-encoding"] == "chunked"


def test_body_over_the_limit_without_content_length_is_a_413(
    client: TestClient, people: People
) -> None:
    headers = {**people.responder, "Content-Type": "application/json"}
    response = client.post(INCIDENTS, content=chunks(oversized()), headers=headers)
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json() == {"detail": f"request body is larger than {MIB} bytes"}


def test_chunked_body_over_the_limit_is_refused_and_writes_nothing(
    client: TestClient, people: People
) -> None:
    headers = {**people.responder, "Content-Type": "application/json"}
    response = client.post(INCIDENTS, content=chunks(oversized()), headers=headers)
    assert 400 <= response.status_code < 500
    assert all_refs(client, people.viewer) == []


def test_body_limit_follows_the_settings(
    tmp_path: Path, sessions: SessionFactory, clock: FixedClock, people: People
) -> None:
    settings = Settings(var_dir=tmp_path, secret_key="x" * 40, max_body_bytes=2048)
    with TestClient(create_app(settings, sessions=sessions, clock=clock)) as small:
        ok = small.post(INCIDENTS, json=valid(customer_impact="x" * 1500), headers=people.bob)
        assert ok.status_code == 201
        big = small.post(INCIDENTS, json=valid(customer_impact="x" * 2100), headers=people.bob)
        assert big.status_code == 413
        assert big.json() == {"detail": "request body is larger than 2048 bytes"}


@pytest.mark.parametrize("ref", ["INC-999999", "INC-0", "999999", "inc-2147483647"])
def test_unknown_incident_is_a_404(client: TestClient, people: People, ref: str) -> None:
    assert declare(client, people.responder)["number"] < 999_999
    for method, suffix, body in [
        ("GET", "", None),
        ("GET", "/timeline", None),
        ("PATCH", "", {"title": "new"}),
        ("POST", "/notes", {"text": "hello"}),
        ("POST", "/ack", None),
    ]:
        response = client.request(
            method, f"{INCIDENTS}/{ref}{suffix}", json=body, headers=people.responder
        )
        assert response.status_code == 404, (method, suffix, response.text)
        assert response.json()["detail"].startswith("no incident INC-")


@pytest.mark.parametrize("spelling", ["inc-{}", "{}", "INC{}", "%20INC-{}", "INC-00{}"])
def test_reference_spellings_find_the_incident(
    client: TestClient, people: People, spelling: str
) -> None:
    # PostgreSQL sequences do not roll back, so the number is not always 1.
    number = declare(client, people.responder)["number"]
    response = client.get(f"{INCIDENTS}/{spelling.format(number)}", headers=people.viewer)
    assert response.status_code == 200
    assert response.json()["ref"] == f"INC-{number}"


@pytest.mark.parametrize("number", ["2147483648", "999999999999"])
def test_reference_beyond_any_incident_number_is_a_404(
    client: TestClient, people: People, number: str
) -> None:
    # Past PostgreSQL's 32-bit ids: must not reach the query as an out-of-range value.
    response = client.get(f"{INCIDENTS}/INC-{number}", headers=people.viewer)
    assert response.status_code == 404
    assert response.json()["detail"] == f"no incident INC-{number}"


@pytest.mark.parametrize("ref", ["INC-abc", "INC-1.5", "INC--1", "checkout"])
def test_malformed_reference_is_a_404(client: TestClient, people: People, ref: str) -> None:
    declare(client, people.responder)
    response = client.get(f"{INCIDENTS}/{ref}", headers=people.viewer)
    assert response.status_code == 404


@pytest.mark.parametrize("ref", ["INC-abc", "INC-1.5", "INC--1", "checkout"])
def test_malformed_reference_is_refused_and_named(
    client: TestClient, people: People, ref: str
) -> None:
    declare(client, people.responder)
    response = client.get(f"{INCIDENTS}/{ref}", headers=people.viewer)
    assert 400 <= response.status_code < 500
    assert "not an incident reference like INC-42" in response.json()["detail"]
