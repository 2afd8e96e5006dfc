"""NUL characters anywhere in an otherwise valid event: refused for good (400), nothing stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.http.alerts.ingest import PD_CHANGE, PD_ENQUEUE, create_integration, stored
from tests.http.api import People
from tests.unit.alerts.samples import am_alert, am_body, pd_trigger
from warroom.db.engine import SessionFactory

NUL = "a\u0000b"


def _pd_details(key: str) -> tuple[str, Any]:
    body = pd_trigger(key)
    body["payload"]["custom_details"] = {"note": NUL}
    return PD_ENQUEUE, body


def _pd_link(key: str) -> tuple[str, Any]:
    return PD_ENQUEUE, pd_trigger(key, links=[{"href": "https://x", "text": NUL}])


def _change_details(key: str) -> tuple[str, Any]:
    return PD_CHANGE, {"routing_key": key, "payload": {"summary": "deploy", "custom_details": NUL}}


def _am_generator_url(key: str) -> tuple[str, Any]:
    return f"/integrations/alertmanager/{key}", am_body(am_alert(generatorURL=NUL))


def _am_group_key(key: str) -> tuple[str, Any]:
    return f"/integrations/alertmanager/{key}", am_body(groupKey=NUL)


def _generic_source(key: str) -> tuple[str, Any]:
    return f"/integrations/generic/{key}", {"summary": "s", "source": NUL}


CASES: list[tuple[str, str, Callable[[str], tuple[str, Any]]]] = [
    ("pagerduty", "pd-custom-details", _pd_details),
    ("pagerduty", "pd-link-text", _pd_link),
    ("pagerduty", "change-custom-details", _change_details),
    ("alertmanager", "am-generator-url", _am_generator_url),
    ("alertmanager", "am-group-key", _am_group_key),
    ("generic", "generic-source", _generic_source),
]


@pytest.mark.parametrize(("type_", "build"), [pytest.param(t, b, id=name) for t, name, b in CASES])
def test_nul_is_refused_and_nothing_is_stored(
    client: TestClient,
    lenient_client: TestClient,
    people: People,
    sessions: SessionFactory,
    type_: str,
    build: Callable[[str], tuple[str, Any]],
) -> None:
    made = create_integration(client, people.admin, type_)
    path, body = build(made.key)
    response = lenient_client.post(path, json=body)
    # 400, not 5xx: senders retry 5xx forever, and this event can never be stored.
    assert response.status_code == 400, response.text
    assert stored(sessions) == (0, 0, 0)
