"""`warroom serve --public`: the status page, sign-up, ingest and health, and nothing else.

create_server_app builds its own database connection from settings, so this
suite runs on a migrated SQLite file of its own (routing does not depend on
the database).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import T0
from warroom.db import migrate
from warroom.db.engine import make_engine, make_session_factory
from warroom.db.uow import unit_of_work
from warroom.settings import Settings
from warroom.statuspage import rules
from warroom.statuspage import service as status_service
from warroom.web.app import create_server_app
from warroom.web.front import Front

PUBLIC = [
    ("GET", "/status"),
    ("GET", "/status/"),
    ("GET", "/status/history"),
    ("GET", "/status/history.atom"),
    ("GET", "/status/history.rss"),
    ("GET", "/status/api/v2/summary.json"),
    ("GET", "/status/api/v2/incidents/unresolved.json"),
    ("GET", "/status/subscribe"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
]
INTERNAL = [
    ("GET", "/api/v1/incidents"),
    ("POST", "/api/v1/incidents"),
    ("GET", "/api/v1/statuspage/incidents"),
    ("POST", "/api/v1/statuspage/posts"),
    ("GET", "/api/v1/statuspage/components"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/users"),
    ("GET", "/api/v1/schedules/ops/feed.ics"),
    ("GET", "/api/v1"),
    ("GET", "/docs"),
    ("GET", "/openapi.json"),
    ("GET", "/metrics"),
    ("GET", "/"),
    ("GET", "/ack/sometoken"),
    ("POST", "/ack/sometoken"),
    ("GET", "/healthz/"),
    ("GET", "/statusx"),
    ("GET", "/v2/enqueue"),
    ("GET", "/integrations/generic/somekey"),
]


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A migrated SQLite database with a component and an open public incident."""
    root = tmp_path_factory.mktemp("public")
    url = f"sqlite:///{root / 'warroom.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    with unit_of_work(sessions) as session:
        status_service.add_component(session=session, now=T0, name="API")
        status_service.post(
            session=session,
            now=T0,
            actor=None,
            request=status_service.PostRequest(
                status=rules.PostStatus.INVESTIGATING,
                message="API errors.",
                components={"API": rules.ComponentStatus.MAJOR_OUTAGE},
            ),
        )
    engine.dispose()
    return Settings(
        var_dir=Path(root),
        database_url=url,
        secret_key="p" * 40,
        run_worker=False,
    )


def closed(app: Front) -> None:
    app.state.sessions.engine.dispose()


@pytest.fixture(scope="module")
def public_server(settings: Settings) -> Iterator[TestClient]:
    app = create_server_app(settings, public=True)
    with TestClient(app) as client:
        yield client
    closed(app)


@pytest.fixture(scope="module")
def full_server(settings: Settings) -> Iterator[TestClient]:
    app = create_server_app(settings)
    with TestClient(app) as client:
        yield client
    closed(app)


def test_the_public_server_runs_no_worker(settings: Settings) -> None:
    loud = settings.model_copy(update={"run_worker": True})
    public, full = create_server_app(loud, public=True), create_server_app(loud)
    assert public.public_only is True
    assert public.state.run_worker is False
    assert full.state.run_worker is True
    closed(public)
    closed(full)


@pytest.mark.parametrize(("method", "path"), PUBLIC)
def test_the_public_server_serves_the_status_page_and_health(
    public_server: TestClient, method: str, path: str
) -> None:
    answer = public_server.request(method, path)
    assert answer.status_code == 200, answer.text


def test_the_public_server_shows_the_page(public_server: TestClient) -> None:
    summary = public_server.get("/status/api/v2/summary.json").json()
    assert [i["name"] for i in summary["incidents"]] == ["Major outage of API"]
    assert "API errors." in public_server.get("/status/").text


@pytest.mark.parametrize(("method", "path"), INTERNAL)
def test_the_public_server_answers_404_for_everything_else(
    public_server: TestClient, method: str, path: str
) -> None:
    answer = public_server.request(method, path, headers={"Authorization": "Bearer wr_x"})
    assert answer.status_code == 404, answer.text
    assert answer.json() == {"detail": "this server serves only the status page and ingest"}


def test_the_public_server_takes_sign_ups(public_server: TestClient) -> None:
    answer = public_server.post("/status/subscribe", data={"email": "cust@example.com"})
    assert answer.status_code == 202
    assert "Check your inbox" in answer.text
    bad_link = public_server.get("/status/unsubscribe/1/not-a-token")
    assert bad_link.status_code == 404
    assert "This unsubscribe link is not valid." in bad_link.text
    assert public_server.post("/status/subscribe/1/not-a-token").status_code == 404


def test_the_public_server_takes_alerts(public_server: TestClient) -> None:
    """Ingest answers (here: refuses a bad event) instead of the public server's 404."""
    answer = public_server.post("/v2/enqueue", json={"routing_key": "nope"})
    assert answer.status_code == 400, answer.text
    assert answer.json()["status"] == "invalid event"
    webhook = public_server.post("/integrations/alertmanager/nokey", json={})
    assert webhook.status_code == 403, webhook.text  # an unknown integration key


def test_the_status_page_takes_get_only_on_the_public_server(public_server: TestClient) -> None:
    assert public_server.post("/status/").status_code == 405
    assert public_server.delete("/status/api/v2/summary.json").status_code == 405


def test_the_full_server_serves_the_api_and_the_same_page(
    full_server: TestClient, public_server: TestClient
) -> None:
    assert full_server.get("/api/v1/incidents").status_code == 401
    assert full_server.get("/openapi.json").status_code == 200
    for path in ("/status/", "/status/api/v2/summary.json", "/status/history.atom"):
        assert full_server.get(path).content == public_server.get(path).content
