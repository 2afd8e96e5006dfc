"""Fixtures for the alert-ingestion end-to-end suite.

``warroom`` is a fresh installation per test (migrated, demo loaded, serving),
for tests that watch incidents open and resolve on the demo's ``checkout``
service. ``shared_warroom`` is one per module and backend, for tests that only
compare counts before and after. ``alertmanager`` is Debian's Alertmanager
sending every alert group to both of ``integrations``: the webhook receiver
and the PagerDuty receiver pointed at warroom's /v2/enqueue.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_PROBLEM, PG_URL, fresh_pg_database
from tests.e2e_alerts.harness import (
    Alertmanager,
    Warroom,
    alertmanager_binary,
    alertmanager_config,
)

BACKENDS = [pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.pg)]
_databases = itertools.count(1)


@dataclass(frozen=True)
class Keys:
    """The integration keys (and ids) of the checkout service's two integrations."""

    alertmanager: str
    alertmanager_id: int
    pagerduty: str
    pagerduty_id: int


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist registers this too; repeated here so `-p no:xdist` still collects.
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one xdist worker")


def _worker(config: pytest.Config) -> str:
    return str(getattr(config, "workerinput", {}).get("workerid", "main"))


def _drop_pg_database(name: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def serving(config: pytest.Config, backend: str, root: Path) -> Iterator[Warroom]:
    """A migrated warroom with the demo, serving; stopped and its database dropped after."""
    pg_name = None
    if backend == "postgresql":
        if PG_PROBLEM:
            pytest.skip(f"PostgreSQL unreachable: {PG_PROBLEM}")
        # Worker and pid: parallel workers and concurrent sessions never share one.
        pg_name = f"warroom_e2e_alerts_{_worker(config)}_{os.getpid()}_{next(_databases)}"
        url = fresh_pg_database(pg_name)
    else:
        url = f"sqlite:///{root / 'warroom.db'}"
    root.mkdir(parents=True, exist_ok=True)
    server = Warroom(root=root, backend=backend, database_url=url)
    try:
        server.prepare_and_start()
        yield server
    finally:
        server.stop()
        if pg_name:
            _drop_pg_database(pg_name)


def make_keys(server: Warroom, sets: int = 1) -> list[Keys]:
    """``sets`` pairs of integrations, made with `warroom integration create ... --json`."""
    made = server.create_integrations(*["alertmanager", "pagerduty"] * sets)
    pairs = zip(made[::2], made[1::2], strict=True)
    return [Keys(am["key"], am["id"], pd["key"], pd["id"]) for am, pd in pairs]


@pytest.fixture(params=BACKENDS)
def warroom(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warroom]:
    with serving(request.config, str(request.param), tmp_path / "warroom") as server:
        yield server


@pytest.fixture(scope="module", params=BACKENDS)
def shared_warroom(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Warroom]:
    root = tmp_path_factory.mktemp(f"warroom-{request.param}")
    with serving(request.config, str(request.param), root) as server:
        yield server


@pytest.fixture
def integrations(warroom: Warroom) -> Keys:
    (keys,) = make_keys(warroom)
    return keys


@pytest.fixture(scope="session")
def alertmanager_path() -> str:
    """Checked before any server starts, so a missing binary skips (or fails) at once."""
    return alertmanager_binary()


@pytest.fixture
def alertmanager(
    alertmanager_path: str, warroom: Warroom, integrations: Keys, tmp_path: Path
) -> Iterator[Alertmanager]:
    root = tmp_path / "alertmanager"
    root.mkdir()
    manager = Alertmanager(alertmanager_path, root)
    try:
        manager.start(
            alertmanager_config(warroom.url, integrations.alertmanager, integrations.pagerduty)
        )
        yield manager
    finally:
        manager.stop()
