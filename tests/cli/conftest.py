"""CLI fixtures: installations that never serve (see tests/e2e/harness.py).

``deployment`` is an empty installation per backend for the commands that
work on the database directly; ``offline`` has no database and its URL is a
port nothing listens on, for client commands that must fail before (exit 2)
or at (exit 3) the network.
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
def offline(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deployment]:
    with new_deployment(request.config, "sqlite", tmp_path) as nowhere:
        yield nowhere
