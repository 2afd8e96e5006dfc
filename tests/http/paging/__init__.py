"""Helpers for the on-call and paging API suites: request bodies, calls, the worker, calendars.

The suites take the ``client``, ``people`` (admin ada, responder rita, viewer
vic, responders bob and carol; services checkout and search) and ``clock``
fixtures of tests/http/conftest.py. The clock stands at Friday 2026-11-27
10:00 UTC. Most schedules here rotate weekly from Monday 2026-11-02 09:00
London time, so with participants (rita, bob) rita has the weeks from 2 and
16 November and bob those from 9 and 23 November: bob is on call "now".
"""

from __future__ import annotations

import email
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from typing import Any

from fastapi.testclient import TestClient
from icalendar import Calendar

from tests.http.api import Headers
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.settings import Settings
from warroom.worker import main as worker_main
from warroom.worker.cycle import Worker

API = "/api/v1"
EPOCH = "2026-11-02T09:00:00+00:00"


def ok(response: Any, *statuses: int) -> Any:
    """The JSON of ``response`` (None if it has no body), asserting its status (200 unless told)."""
    assert response.status_code in (statuses or (200,)), response.text
    return response.json() if response.content else None


def when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


# Schedules


def layer(*participants: str, name: str = "primary", **fields: Any) -> dict[str, Any]:
    """A weekly layer handing off Mondays 09:00 from EPOCH, with ``fields`` changed."""
    return {
        "name": name,
        "participants": list(participants),
        "shift_count": 1,
        "shift_unit": "weeks",
        "handoff": "09:00",
        "start": EPOCH,
        **fields,
    }


def schedule(*layers: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A schedule body in Europe/London (one weekly layer of rita and bob by default)."""
    return {
        "name": "Ops",
        "time_zone": "Europe/London",
        "layers": list(layers) or [layer("rita", "bob")],
        **fields,
    }


def put_schedule(
    client: TestClient, headers: Headers, slug: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    result: dict[str, Any] = ok(
        client.put(f"{API}/schedules/{slug}", json=body or schedule(), headers=headers), 200, 201
    )
    return result


def add_override(
    client: TestClient, headers: Headers, slug: str, user: str, start: str, end: str
) -> dict[str, Any]:
    body = {"user": user, "start": start, "end": end}
    result: dict[str, Any] = ok(
        client.post(f"{API}/schedules/{slug}/overrides", json=body, headers=headers), 201
    )
    return result


def on_call(client: TestClient, headers: Headers, **params: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = ok(client.get(f"{API}/oncall", params=params, headers=headers))
    return result


# Escalation policies


def user(handle: str) -> dict[str, str]:
    return {"kind": "user", "ref": handle}


def on_schedule(slug: str) -> dict[str, str]:
    return {"kind": "schedule", "ref": slug}


def level(*targets: dict[str, str], minutes: float = 5) -> dict[str, Any]:
    return {"targets": list(targets), "timeout_minutes": minutes}


def policy(*levels: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A policy body: bob, then carol after 5 minutes each, unless ``levels`` are given."""
    return {
        "name": "Checkout",
        "repeat": 0,
        "levels": list(levels) or [level(user("bob")), level(user("carol"))],
        **fields,
    }


def put_policy(
    client: TestClient, headers: Headers, slug: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    result: dict[str, Any] = ok(
        client.put(f"{API}/escalation-policies/{slug}", json=body or policy(), headers=headers),
        200,
        201,
    )
    return result


# Incidents and their pages


def timeline(client: TestClient, headers: Headers, ref: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = ok(
        client.get(f"{API}/incidents/{ref}/timeline", headers=headers)
    )
    return result


def kinds(client: TestClient, headers: Headers, ref: str) -> list[str]:
    return [entry["kind"] for entry in timeline(client, headers, ref)]


def texts(client: TestClient, headers: Headers, ref: str, kind: str) -> list[str]:
    return [entry["text"] for entry in timeline(client, headers, ref) if entry["kind"] == kind]


def pages_of(client: TestClient, headers: Headers, ref: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = ok(client.get(f"{API}/incidents/{ref}/pages", headers=headers))
    return result


def add_contact(
    client: TestClient, headers: Headers, handle: str, kind: str, target: str, label: str = ""
) -> dict[str, Any]:
    body = {"kind": kind, "target": target, "label": label}
    result: dict[str, Any] = ok(
        client.post(f"{API}/users/{handle}/contact-methods", json=body, headers=headers), 201
    )
    return result


# The worker, driven by hand


def make_worker(
    settings: Settings, sessions: SessionFactory, clock: FixedClock, smtp_url: str | None = None
) -> Worker:
    """A worker over the test's sessions and clock, sharing the app's secret key."""
    configured = settings.model_copy(update={"smtp_url": smtp_url, "retry_base_seconds": 10.0})
    return worker_main.build(configured, sessions, clock)


def drain(worker: Worker) -> None:
    """Run the worker until nothing is due at the clock's time."""
    for _ in range(50):
        if worker.run_once() == 0:
            return
    raise AssertionError("the worker never went idle")


def spooled(settings: Settings, to: str | None = None) -> list[Message]:
    """Mail the worker wrote to var/mail (no SMTP server configured), optionally to ``to``."""
    folder = settings.var_dir / "mail"
    found = [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]
    return [m for m in found if to is None or m["To"] == to]


def body_text(message: Message) -> str:
    payload = message.get_payload(decode=True)
    return payload.decode() if isinstance(payload, bytes) else str(message.get_payload())


# Calendars


@dataclass(frozen=True)
class Event:
    uid: str
    summary: str
    start: datetime
    end: datetime
    sequence: int


def events(body: bytes) -> list[Event]:
    """The VEVENTs of an iCalendar body, parsed by icalendar, by start."""
    calendar = Calendar.from_ical(body)
    found = [
        Event(
            uid=str(item.get("uid")),
            summary=str(item.get("summary")),
            start=item.decoded("dtstart"),
            end=item.decoded("dtend"),
            sequence=int(item.get("sequence")),
        )
        for item in calendar.walk("VEVENT")
    ]
    return sorted(found, key=lambda event: event.start)


def feed_path(url: str) -> str:
    """The path and query of a feed URL (the test client talks to the app directly)."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]
