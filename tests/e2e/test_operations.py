"""Operations endpoints of a running `warroom serve`, and how it stops."""

from __future__ import annotations

import signal

import httpx
import pytest

from tests.e2e.harness import SQLITE_ONLY, Deployment, assert_ok
from warroom.db.migrate import head_revision

pytestmark = pytest.mark.e2e


def test_health_readiness_metrics_and_openapi(shared_warroom: Deployment) -> None:
    server = shared_warroom
    health = httpx.get(server.url + "/healthz", timeout=10.0)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = httpx.get(server.url + "/readyz", timeout=10.0)
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ready", "migration": head_revision()},
    )

    assert_ok(server.cli("ls"))  # one API request to count
    metrics = httpx.get(server.url + "/metrics", timeout=10.0)
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "# TYPE warroom_http_requests_total counter" in metrics.text
    assert 'route="/api/v1/incidents"' in metrics.text
    assert "/api/v1/incidents/INC-" not in metrics.text  # labelled by route, not raw path

    spec = httpx.get(server.url + "/openapi.json", timeout=10.0)
    assert spec.status_code == 200
    document = spec.json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "warroom"
    for path in ("/healthz", "/readyz", "/api/v1/incidents", "/api/v1/incidents/{ref}/phase"):
        assert path in document["paths"]


@SQLITE_ONLY
def test_api_answers_json_errors_without_a_token(shared_warroom: Deployment) -> None:
    answer = httpx.get(shared_warroom.url + "/api/v1/incidents", timeout=10.0)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert "warroom token create" in answer.json()["detail"]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_serve_stops_cleanly_on_sigterm(warroom: Deployment) -> None:
    log = warroom.log
    assert log is not None
    status = warroom.stop()
    assert status in (0, -signal.SIGTERM)
    output = log.read_text()
    assert f"warroom serving {warroom.url}" in output
    assert "Application shutdown complete" in output
    assert "Traceback" not in output
    with pytest.raises(httpx.TransportError):
        httpx.get(warroom.url + "/healthz", timeout=5.0)
