"""End-to-end fixtures: a real `warroom serve` per test or per module and backend.

``warroom`` is a fresh installation for one test (migrated, demo loaded,
serving), for tests that rely on the demo's numbering (the next incident is
INC-3). ``shared_warroom`` is one such server per backend for the whole
session (per xdist worker), for tests that make their own incidents, teams
and services, look them up by what they got back and never count on the
server holding nothing else. ``deployment`` is an empty installation that is
not serving yet. Every CLI call costs a Python start (about a second of CPU),
so tests whose behaviour does not depend on the database run on SQLite only
(``SQLITE_ONLY``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import BACKENDS, Deployment, new_deployment


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def deployment(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> Iterator[Deployment]:
    with new_deployment(request.config, backend, tmp_path) as fresh:
        yield fresh


@pytest.fixture
def warroom(deployment: Deployment) -> Deployment:
    """A fresh server with the demo organisation (stopped by ``deployment``)."""
    deployment.prepare()
    deployment.start()
    return deployment


@pytest.fixture(scope="session", params=BACKENDS)
def shared_warroom(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """One server with the demo organisation for the whole session."""
    root = tmp_path_factory.mktemp(f"warroom-{request.param}")
    with new_deployment(request.config, str(request.param), root) as server:
        server.prepare()
        server.start()
        yield server
