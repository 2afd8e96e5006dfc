"""Helpers for the alert HTTP suites: integrations made through the API, stored counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.http.api import Headers
from warroom.alerts.models import Alert, ChangeEvent
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.incidents.models import Incident

PD_ENQUEUE = "/v2/enqueue"
PD_CHANGE = "/v2/change/enqueue"
PD_INVALID = {"status": "invalid event", "message": "Event object is invalid"}


@dataclass(frozen=True)
class Made:
    """An integration as its create answer shows it."""

    id: int
    key: str
    endpoint: str


def create_integration(
    client: TestClient, admin: Headers, type_: str, service: str = "checkout", **extra: Any
) -> Made:
    """Create an integration through the API and return its id and key."""
    response = client.post(
        "/api/v1/integrations", json={"service": service, "type": type_, **extra}, headers=admin
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Made(body["id"], body["key"], body["endpoint"])


def patch_integration(client: TestClient, admin: Headers, made: Made, **fields: Any) -> Any:
    response = client.patch(f"/api/v1/integrations/{made.id}", json=fields, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


def stored(sessions: SessionFactory) -> tuple[int, int, int]:
    """How many alerts, incidents and change events the database holds."""
    with unit_of_work(sessions, write=False) as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Alert, Incident, ChangeEvent)
        )


def alerts(client: TestClient, headers: Headers, **params: Any) -> list[dict[str, Any]]:
    """Every alert the list shows with ``params``, following the cursor."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/alerts", params=query, headers=headers)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items
