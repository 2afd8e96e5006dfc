"""HTTP API fixtures: an app over the rolled-back test sessions, and three callers.

Tests that take ``people`` get an admin (ada), a responder (rita), a viewer
(vic) and two more responders (bob, carol) with API tokens, and the services
checkout and search, all made through the service layer so that these suites
exercise only the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import make_service, make_user
from tests.http.api import People, bearer
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.settings import Settings
from warroom.users import service as user_service
from warroom.web.app import create_app


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path, secret_key="x" * 40)


@pytest.fixture
def app(settings: Settings, sessions: SessionFactory, clock: FixedClock) -> FastAPI:
    return create_app(settings, sessions=sessions, clock=clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def lenient_client(app: FastAPI) -> Iterator[TestClient]:
    """A client that shows server errors as 500 answers instead of raising them."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def people(sessions: SessionFactory, clock: FixedClock) -> People:
    now = clock.now()
    tokens: dict[str, str] = {}
    with unit_of_work(sessions) as session:
        for handle, role in [
            ("ada", "admin"),
            ("rita", "responder"),
            ("vic", "viewer"),
            ("bob", "responder"),
            ("carol", "responder"),
        ]:
            user = make_user(session, now, handle, role)
            tokens[handle] = user_service.create_token(
                session=session, now=now, user=user, name="tests"
            )
        make_service(session, now, "checkout")
        make_service(session, now, "search")
    return People(
        admin=bearer(tokens["ada"]),
        responder=bearer(tokens["rita"]),
        viewer=bearer(tokens["vic"]),
        bob=bearer(tokens["bob"]),
        carol=bearer(tokens["carol"]),
    )
