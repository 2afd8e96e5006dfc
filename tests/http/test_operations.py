"""Operations endpoints: liveness, readiness, Prometheus metrics and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.http.api import People, declare
from warroom.clock import FixedClock
from warroom.db import migrate
from warroom.settings import Settings
from warroom.web.app import create_app


def test_healthz_needs_nothing(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_on_a_migrated_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "migration": migrate.head_revision()}


@pytest.fixture
def unmigrated(tmp_path: Path) -> Iterator[TestClient]:
    """An app of its own over an empty SQLite file that was never migrated."""
    empty = tmp_path / "empty.db"
    empty.touch()
    settings = Settings(
        var_dir=tmp_path / "var", secret_key="x" * 40, database_url=f"sqlite:///{empty}"
    )
    app = create_app(settings)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        app.state.sessions.engine.dispose()


def test_readyz_on_an_unmigrated_database_says_what_to_do(unmigrated: TestClient) -> None:
    response = unmigrated.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert f"code needs {migrate.head_revision()}" in body["detail"]
    assert "run `warroom db upgrade`" in body["detail"]


def test_healthz_does_not_depend_on_the_database(unmigrated: TestClient) -> None:
    assert unmigrated.get("/healthz").status_code == 200


def test_api_on_an_unmigrated_database_answers_with_a_server_side_error(
    unmigrated: TestClient,
) -> None:
    response = unmigrated.get("/api/v1/me", headers={"Authorization": "Bearer wr_x"})
    assert 500 <= response.status_code < 600


def test_metrics_are_served_when_the_database_is_not(unmigrated: TestClient) -> None:
    unmigrated.get("/healthz")
    response = unmigrated.get("/metrics")
    assert response.status_code == 200
    assert 'warroom_http_requests_total{method="GET",route="/healthz",status="200"}' in (
        response.text
    )


def metric_lines(client: TestClient, name: str) -> dict[str, float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = {}
    for line in response.text.splitlines():
        if line.startswith(name + "{"):
            labels, value = line.rsplit(" ", 1)
            found[labels[len(name) :]] = float(value)
    return found


def test_request_metrics_are_labelled_by_route_template(client: TestClient, people: People) -> None:
    refs = [declare(client, people.responder)["ref"] for _ in range(2)]
    for ref in refs:
        assert client.get(f"/api/v1/incidents/{ref}", headers=people.viewer).status_code == 200
    assert client.get("/api/v1/incidents/INC-999999", headers=people.viewer).status_code == 404
    assert client.get("/nowhere/INC-5").status_code == 404

    counts = metric_lines(client, "warroom_http_requests_total")
    route = 'route="/api/v1/incidents/{ref}"'
    assert counts[f'{{method="GET",{route},status="200"}}'] == 2
    assert counts[f'{{method="GET",{route},status="404"}}'] == 1
    assert counts['{method="POST",route="/api/v1/incidents",status="201"}'] == 2
    assert counts['{method="GET",route="unmatched",status="404"}'] == 1
    assert not [labels for labels in counts if "INC-" in labels or "nowhere" in labels]
    latency = metric_lines(client, "warroom_http_request_duration_seconds_count")
    assert latency[f'{{method="GET",{route}}}'] == 3


def test_incident_gauges_count_open_and_overdue(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    declare(client, people.responder, severity=1)
    declare(client, people.responder, severity=1)
    declare(client, people.responder, severity=3, drill=True)
    resolved = declare(client, people.responder, severity=1)["ref"]
    assert client.post(f"/api/v1/incidents/{resolved}/resolve", headers=people.bob).is_success
    clock.advance(timedelta(minutes=20))

    assert metric_lines(client, "warroom_incidents_open") == {
        '{drill="false",severity="SEV-1"}': 2,
        '{drill="true",severity="SEV-3"}': 1,
    }
    assert metric_lines(client, "warroom_incidents_update_overdue") == {
        '{drill="false",severity="SEV-1"}': 2,
        '{drill="true",severity="SEV-3"}': 0,
    }


def test_openapi_lists_the_incident_api(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "warroom"
    paths = document["paths"]
    expected = {
        "/api/v1/incidents": {"get", "post"},
        "/api/v1/incidents/{ref}": {"get", "patch"},
        "/api/v1/incidents/{ref}/ack": {"post"},
        "/api/v1/incidents/{ref}/roles": {"post"},
        "/api/v1/incidents/{ref}/phase": {"post"},
        "/api/v1/incidents/{ref}/resolve": {"post"},
        "/api/v1/incidents/{ref}/severity": {"post"},
        "/api/v1/incidents/{ref}/timeline": {"get"},
        "/api/v1/incidents/{ref}/notes": {"post"},
        "/api/v1/incidents/{ref}/updates": {"get", "post"},
        "/api/v1/severities/{level}": {"put"},
        "/api/v1/templates/{name}": {"get", "put", "delete"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    created = paths["/api/v1/incidents"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"]["$ref"].endswith("/IncidentRead")
    assert "IncidentCreate" in document["components"]["schemas"]
