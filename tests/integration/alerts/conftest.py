"""Fixtures of the alert service suites."""

from __future__ import annotations

import pytest

from tests.integration.alerts.world import World, build_world
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory


@pytest.fixture
def world(sessions: SessionFactory, clock: FixedClock) -> World:
    return build_world(sessions, clock)
