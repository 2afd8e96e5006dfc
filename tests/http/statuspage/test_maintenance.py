"""Scheduled maintenance through /api/v1/statuspage/maintenances, the worker and the public page.

The organisation's zone here is Europe/Berlin (the clock's 10:00 UTC is 11:00
CET), so times without an offset and the public page's stamps both show it.
The worker is the server's (worker/main.py) on the test's FixedClock: timers
fire only when the test moves the clock past them. Without an SMTP server it
writes subscriber mail under var/mail, which is where it is read here.
"""

from __future__ import annotations

import email
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import T0
from tests.http.api import Headers, People, error_fields
from tests.http.statuspage import (
    API,
    add_component,
    document,
    drain,
    no_cache_delay,
    ok,
    parse_feed,
    post,
    public,
    strip_tags,
    unpublish,
)
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.outbox.models import OutboxMessage
from warroom.settings import Settings
from warroom.statuspage.models import ComponentStatusChange, StatusComponent, Subscriber
from warroom.worker import main as worker_main
from warroom.worker.cycle import Worker

MAINTENANCES = f"{API}/maintenances"
START = T0 + timedelta(days=1)  # Saturday 11:00 CET
END = START + timedelta(hours=2)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path, secret_key="x" * 40, time_zone="Europe/Berlin")


@pytest.fixture(autouse=True)
def _current_pages(app: FastAPI) -> None:
    no_cache_delay(app)


@pytest.fixture
def shop(client: TestClient, people: People) -> dict[str, str]:
    """Published Checkout and Search (group Shop) and API; public ids by name."""
    return {
        "Checkout": add_component(client, people.admin, "Checkout", group="Shop")["id"],
        "Search": add_component(client, people.admin, "Search", group="Shop")["id"],
        "API": add_component(client, people.admin, "API")["id"],
    }


@pytest.fixture
def worker(settings: Settings, sessions: SessionFactory, clock: FixedClock) -> Worker:
    return worker_main.build(settings, sessions, clock)


def body(**fields: Any) -> dict[str, Any]:
    made: dict[str, Any] = {
        "title": "Database upgrade",
        "message": "Checkout and search may be slow for a few minutes.",
        "components": ["Checkout", "Search"],
        "scheduled_for": START.isoformat(),
        "scheduled_until": END.isoformat(),
    }
    return made | fields


def schedule(client: TestClient, headers: Headers, **fields: Any) -> dict[str, Any]:
    made: dict[str, Any] = ok(client.post(MAINTENANCES, json=body(**fields), headers=headers), 201)
    return made


def update(
    client: TestClient, headers: Headers, made: dict[str, Any], status: str, **fields: Any
) -> Any:
    payload = {"status": status, "message": f"Now {status}.", **fields}
    return client.post(f"{MAINTENANCES}/{made['id']}/updates", json=payload, headers=headers)


def shown(client: TestClient, people: People, made: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = ok(client.get(f"{MAINTENANCES}/{made['id']}", headers=people.viewer))
    return found


def statuses(client: TestClient) -> dict[str, str]:
    """Leaf components' statuses on the public page."""
    listed = document(client, "components.json")["components"]
    return {c["name"]: c["status"] for c in listed if not c["group"]}


def public_ids(client: TestClient, name: str) -> list[str]:
    return [m["id"] for m in document(client, name)["scheduled_maintenances"]]


def at(clock: FixedClock, when: datetime, worker: Worker) -> None:
    """Move the clock to ``when`` and let the worker do what is due."""
    clock.advance(when - clock.now())
    drain(worker)


def history(sessions: SessionFactory, name: str) -> list[tuple[datetime, str]]:
    with unit_of_work(sessions, write=False) as session:
        component = session.scalars(select(StatusComponent).filter_by(name=name)).one()
        rows = session.scalars(
            select(ComponentStatusChange)
            .filter_by(component_id=component.id)
            .order_by(ComponentStatusChange.id)
        )
        return [(row.at, row.status) for row in rows]


def timers(sessions: SessionFactory) -> list[tuple[str, str, str]]:
    """(key, status, last_error) of every maintenance timer."""
    with unit_of_work(sessions, write=False) as session:
        rows = session.scalars(
            select(OutboxMessage).filter_by(kind="status_maintenance").order_by(OutboxMessage.id)
        )
        return [(row.key, row.status, row.last_error) for row in rows]


# Announcing


def test_scheduling_announces_it_ahead_and_leaves_the_components_alone(
    client: TestClient, people: People, shop: dict[str, str]
) -> None:
    before = public(client, "/").text
    made = schedule(client, people.responder)
    assert made["status"] == "scheduled"
    assert made["impact"] == "maintenance"
    assert made["title"] == "Database upgrade"
    assert made["components"] == ["Checkout", "Search"]
    assert datetime.fromisoformat(made["scheduled_for"]) == START
    assert datetime.fromisoformat(made["scheduled_until"]) == END
    assert made["completed_at"] is None
    assert made["url"].endswith(f"/status/incidents/{made['id']}")
    [announced] = made["updates"]
    assert (announced["status"], announced["message"], announced["affected"]) == (
        "scheduled",
        "Checkout and search may be slow for a few minutes.",
        [],
    )
    assert shown(client, people, made) == made
    assert statuses(client) == {
        "Checkout": "operational",
        "Search": "operational",
        "API": "operational",
    }

    assert public_ids(client, "scheduled-maintenances.json") == [made["id"]]
    assert public_ids(client, "scheduled-maintenances/upcoming.json") == [made["id"]]
    assert public_ids(client, "scheduled-maintenances/active.json") == []
    [doc] = document(client, "summary.json")["scheduled_maintenances"]
    assert doc["scheduled_for"] == "2026-11-28T11:00:00.000+01:00"  # the page's zone
    assert doc["scheduled_until"] == "2026-11-28T13:00:00.000+01:00"
    assert (doc["status"], doc["impact"]) == ("scheduled", "maintenance")
    assert [c["name"] for c in doc["components"]] == ["Checkout", "Search"]
    assert [u["status"] for u in doc["incident_updates"]] == ["scheduled"]
    assert document(client, "incidents.json")["incidents"] == []
    assert document(client, "status.json")["status"]["indicator"] == "none"
    page = strip_tags(public(client, "/").text)
    assert "Database upgrade" not in strip_tags(before)
    assert "Database upgrade (scheduled maintenance, Nov 28, 2026 11:00 CET to" in page
    assert "Checkout and search may be slow" in strip_tags(
        public(client, f"/incidents/{made['id']}").text
    )
    [entry] = parse_feed(public(client, "/history.atom").content).entries
    assert entry.title == "Database upgrade"
    assert "<strong>Scheduled</strong>" in entry.content[0].value


def test_only_responders_schedule_and_viewers_read(
    client: TestClient, people: People, shop: dict[str, str]
) -> None:
    refused = client.post(MAINTENANCES, json=body(), headers=people.viewer)
    assert refused.status_code == 403, refused.text
    assert client.get(MAINTENANCES).status_code == 401
    made = schedule(client, people.admin)
    assert update(client, people.viewer, made, "in_progress").status_code == 403
    assert [m["id"] for m in ok(client.get(MAINTENANCES, headers=people.viewer))] == [made["id"]]


LATER = (T0 + timedelta(hours=1)).isoformat()
BAD = {
    "start in the past": (
        body(scheduled_for=(T0 - timedelta(minutes=1)).isoformat()),
        "scheduled_for",
    ),
    "start now exactly": (body(scheduled_for=T0.isoformat()), "scheduled_for"),
    "no start": (body(scheduled_for=None), "scheduled_for"),
    "start and start_now": (body(start_now=True), "scheduled_for"),
    "end before start": (
        body(scheduled_until=(START - timedelta(hours=1)).isoformat()),
        "scheduled_until",
    ),
    "end at start": (body(scheduled_until=START.isoformat()), "scheduled_until"),
    "not a time": (body(scheduled_for="next Tuesday"), "scheduled_for"),
    "year one": (body(scheduled_for="0001-01-01T00:00"), "scheduled_for"),
    "year one with offset": (body(scheduled_for="0001-01-01T00:00+05:00"), "scheduled_for"),
    "over a year ahead": (
        body(
            scheduled_for=(T0 + timedelta(days=367)).isoformat(),
            scheduled_until=(T0 + timedelta(days=368)).isoformat(),
        ),
        "scheduled_for",
    ),
    "year 9999": (
        body(scheduled_for=START.isoformat(), scheduled_until="9999-12-31T23:30:00-05:00"),
        "scheduled_until",
    ),
    "no end": ({k: v for k, v in body().items() if k != "scheduled_until"}, "scheduled_until"),
    "unknown component": (body(components=["Checkout", "Nope"]), "components"),
    "a group": (body(components=["Shop"]), "components"),
    "unpublished": (body(components=["API"]), "components"),
    "no component": (body(components=[]), "components"),
    "empty title": (body(title="  "), "title"),
    "long title": (body(title="x" * 201), "title"),
    "empty message": (body(message=""), "message"),
    "NUL in message": (body(message="a\x00b"), "message"),
    "unknown field": (body(impact="major"), "impact"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_maintenances_are_refused_naming_the_field(
    client: TestClient, people: People, shop: dict[str, str], sessions: SessionFactory, case: str
) -> None:
    unpublish(sessions, "API")
    wanted, field = BAD[case]
    answer = client.post(MAINTENANCES, json=wanted, headers=people.responder)
    assert answer.status_code == 422, answer.text
    assert error_fields(answer.json()) == [field]
    assert field in answer.json()["detail"] or "component" in answer.json()["detail"]
    assert ok(client.get(MAINTENANCES, headers=people.viewer)) == []
    assert timers(sessions) == []


def test_a_time_without_offset_is_read_in_the_organisation_zone(
    client: TestClient, people: People, shop: dict[str, str]
) -> None:
    made = schedule(
        client,
        people.responder,
        scheduled_for="2026-11-28T02:00",
        scheduled_until="2026-11-28T04:00:00",
    )
    assert datetime.fromisoformat(made["scheduled_for"]) == datetime.fromisoformat(
        "2026-11-28T01:00Z"
    )
    assert datetime.fromisoformat(made["scheduled_until"]) == datetime.fromisoformat(
        "2026-11-28T03:00Z"
    )
    # 02:30 on the last Sunday of March does not happen in Berlin: refused, not shifted.
    skipped = client.post(
        MAINTENANCES,
        json=body(scheduled_for="2027-03-28T02:30", scheduled_until="2027-03-28T05:00"),
        headers=people.responder,
    )
    assert skipped.status_code == 422, skipped.text
    assert error_fields(skipped.json()) == ["scheduled_for"]
    assert "Europe/Berlin" in skipped.json()["detail"]


def test_unknown_maintenances_are_404(
    client: TestClient, people: People, shop: dict[str, str]
) -> None:
    incident = post(client, people.responder, "Slow.", components={"API": "degraded_performance"})
    for missing in ("aaaaaaaaaaaa", incident["status_incident"]):
        answer = client.get(f"{MAINTENANCES}/{missing}", headers=people.viewer)
        assert answer.status_code == 404, answer.text
        posted = update(client, people.responder, {"id": missing}, "in_progress")
        assert posted.status_code == 404, posted.text


# The worker's timers


def test_the_worker_starts_it_on_time_and_completes_it_at_the_end(
    client: TestClient,
    people: People,
    shop: dict[str, str],
    clock: FixedClock,
    worker: Worker,
    sessions: SessionFactory,
) -> None:
    made = schedule(client, people.responder)
    at(clock, START - timedelta(seconds=1), worker)
    assert shown(client, people, made)["status"] == "scheduled"
    assert document(client, "status.json")["status"]["indicator"] == "none"  # page read, cached

    at(clock, START, worker)
    running = shown(client, people, made)
    assert running["status"] == "in_progress"
    started = running["updates"][0]
    assert started["status"] == "in_progress"
    assert started["message"].startswith("Scheduled maintenance is currently in progress")
    assert [(a["name"], a["old_status"], a["new_status"]) for a in started["affected"]] == [
        ("Checkout", "operational", "under_maintenance"),
        ("Search", "operational", "under_maintenance"),
    ]
    assert statuses(client) == {
        "Checkout": "under_maintenance",
        "Search": "under_maintenance",
        "API": "operational",
    }
    assert document(client, "status.json")["status"] == {
        "indicator": "maintenance",
        "description": "Service Under Maintenance",
    }
    assert public_ids(client, "scheduled-maintenances/active.json") == [made["id"]]
    assert public_ids(client, "scheduled-maintenances/upcoming.json") == []
    assert "Scheduled maintenance is currently in progress" in strip_tags(public(client, "/").text)

    at(clock, END, worker)
    done = shown(client, people, made)
    assert done["status"] == "completed"
    assert datetime.fromisoformat(done["completed_at"]) == END
    assert [u["status"] for u in done["updates"]] == ["completed", "in_progress", "scheduled"]
    assert done["updates"][0]["message"] == "The scheduled maintenance has been completed."
    assert statuses(client) == {
        "Checkout": "operational",
        "Search": "operational",
        "API": "operational",
    }
    assert document(client, "status.json")["status"]["indicator"] == "none"
    assert public_ids(client, "scheduled-maintenances/active.json") == []
    [listed] = document(client, "scheduled-maintenances.json")["scheduled_maintenances"]
    assert listed["status"] == "completed"
    assert listed["resolved_at"] == "2026-11-28T13:00:00.000+01:00"
    # The uptime bars are drawn from these changes.
    for name in ("Checkout", "Search"):
        assert history(sessions, name)[1:] == [(START, "under_maintenance"), (END, "operational")]
    assert history(sessions, "API")[1:] == []
    assert [status for _, status, _ in timers(sessions)] == ["done", "done"]


def test_the_page_writes_in_progress_in_words(
    client: TestClient, people: People, shop: dict[str, str], clock: FixedClock, worker: Worker
) -> None:
    made = schedule(client, people.responder)
    at(clock, START, worker)
    for path in ("/", f"/incidents/{made['id']}"):
        page = strip_tags(public(client, path).text)
        assert "In progress - Scheduled maintenance is currently in progress" in page
        assert "In_progress" not in page


def test_a_retried_timer_does_nothing_twice(
    client: TestClient,
    people: People,
    shop: dict[str, str],
    clock: FixedClock,
    worker: Worker,
    sessions: SessionFactory,
) -> None:
    made = schedule(client, people.responder)
    at(clock, START, worker)
    # As if the worker died after committing the start and the timer ran again.
    with unit_of_work(sessions) as session:
        for row in session.scalars(select(OutboxMessage).filter_by(kind="status_maintenance")):
            if row.status == "done":
                row.status, row.finished_at = "pending", None
    drain(worker)
    assert [u["status"] for u in shown(client, people, made)["updates"]] == [
        "in_progress",
        "scheduled",
    ]
    assert history(sessions, "Checkout")[1:] == [(START, "under_maintenance")]
    started = [t for t in timers(sessions) if "-start-" in t[0]]
    assert started == [
        (started[0][0], "cancelled", "the maintenance was started or completed already")
    ]


def test_a_worker_back_after_the_window_completes_it_without_starting_it(
    client: TestClient,
    people: People,
    shop: dict[str, str],
    clock: FixedClock,
    worker: Worker,
    sessions: SessionFactory,
) -> None:
    made = schedule(client, people.responder)
    at(clock, END + timedelta(hours=1), worker)
    done = shown(client, people, made)
    assert [u["status"] for u in done["updates"]] == ["completed", "scheduled"]
    assert history(sessions, "Checkout")[1:] == []  # never under maintenance
    assert statuses(client)["Checkout"] == "operational"


# Posting by hand


def test_a_manual_lifecycle_and_stale_timers_after_it(
    client: TestClient,
    people: People,
    shop: dict[str, str],
    clock: FixedClock,
    worker: Worker,
    sessions: SessionFactory,
) -> None:
    made = schedule(client, people.responder)
    refused = update(client, people.responder, made, "verifying")
    assert refused.status_code == 409, refused.text
    assert error_fields(refused.json()) == ["status"]
    assert "in_progress" in refused.json()["detail"]

    clock.advance(timedelta(hours=3))  # started early by hand
    running = ok(update(client, people.bob, made, "in_progress"), 201)
    assert running["status"] == "in_progress"
    assert statuses(client)["Checkout"] == "under_maintenance"
    verifying = ok(update(client, people.bob, made, "verifying"), 201)
    assert verifying["updates"][0]["affected"] == []  # still under maintenance while verifying
    assert statuses(client)["Search"] == "under_maintenance"
    assert public_ids(client, "scheduled-maintenances/active.json") == [made["id"]]
    assert document(client, "scheduled-maintenances/active.json")["scheduled_maintenances"][0][
        "monitoring_at"
    ]
    ok(update(client, people.bob, made, "in_progress"), 201)  # the check failed
    finished = ok(update(client, people.bob, made, "completed"), 201)
    assert [a["new_status"] for a in finished["updates"][0]["affected"]] == ["operational"] * 2
    assert statuses(client)["Checkout"] == "operational"
    again = update(client, people.bob, made, "in_progress")
    assert again.status_code == 409, again.text
    assert "completed" in again.json()["detail"]

    at(clock, END + timedelta(minutes=1), worker)
    assert len(shown(client, people, made)["updates"]) == 5
    assert {status for _, status, _ in timers(sessions)} == {"cancelled"}
    assert statuses(client)["Checkout"] == "operational"


def test_completing_before_the_start_calls_it_off(
    client: TestClient, people: People, shop: dict[str, str], clock: FixedClock, worker: Worker
) -> None:
    made = schedule(client, people.responder)
    off = ok(update(client, people.responder, made, "completed", message="Called off."), 201)
    assert (off["status"], off["updates"][0]["affected"]) == ("completed", [])
    assert public_ids(client, "scheduled-maintenances/upcoming.json") == []
    at(clock, START, worker)
    assert statuses(client)["Checkout"] == "operational"
    assert shown(client, people, made)["status"] == "completed"


def test_starting_now_puts_the_components_under_maintenance_at_once(
    client: TestClient, people: People, shop: dict[str, str], clock: FixedClock, worker: Worker
) -> None:
    made = schedule(
        client,
        people.responder,
        scheduled_for=None,
        start_now=True,
        scheduled_until=LATER,
        components=["API"],
    )
    assert made["status"] == "in_progress"
    assert datetime.fromisoformat(made["scheduled_for"]) == T0
    assert [u["status"] for u in made["updates"]] == ["in_progress"]
    assert statuses(client)["API"] == "under_maintenance"
    at(clock, datetime.fromisoformat(LATER), worker)
    assert shown(client, people, made)["status"] == "completed"
    assert statuses(client)["API"] == "operational"


def test_moving_the_window_leaves_the_old_timers_stale(
    client: TestClient,
    people: People,
    shop: dict[str, str],
    clock: FixedClock,
    worker: Worker,
    sessions: SessionFactory,
) -> None:
    made = schedule(client, people.responder)
    later, later_end = START + timedelta(days=1), END + timedelta(days=1)
    moved = update(
        client,
        people.responder,
        made,
        "scheduled",
        scheduled_for=later.isoformat(),
        scheduled_until=later_end.isoformat(),
    )
    assert datetime.fromisoformat(ok(moved, 201)["scheduled_for"]) == later
    refused = update(client, people.responder, made, "in_progress", scheduled_for=later.isoformat())
    assert (refused.status_code, error_fields(refused.json())) == (422, ["scheduled_for"])
    at(clock, END, worker)
    assert shown(client, people, made)["status"] == "scheduled"
    at(clock, later, worker)
    assert shown(client, people, made)["status"] == "in_progress"
    # Running long: the end moves out, and the first end timer is ignored.
    longer = later_end + timedelta(hours=1)
    ok(update(client, people.bob, made, "in_progress", scheduled_until=longer.isoformat()), 201)
    at(clock, later_end, worker)
    assert shown(client, people, made)["status"] == "in_progress"
    at(clock, longer, worker)
    assert shown(client, people, made)["status"] == "completed"
    stale = [error for _, status, error in timers(sessions) if status == "cancelled"]
    assert sorted(stale) == [
        "the maintenance was moved; a newer timer completes it",
        "the maintenance was moved; a newer timer completes it",
        "the maintenance was moved; a newer timer starts it",
    ]


def test_bad_updates_are_refused_naming_the_field(
    client: TestClient, people: People, shop: dict[str, str]
) -> None:
    made = schedule(client, people.responder)
    cases = [
        ({"status": "resolved"}, "status", 422),
        ({"message": " "}, "message", 422),
        ({"scheduled_for": (T0 - timedelta(hours=1)).isoformat()}, "scheduled_for", 422),
        ({"scheduled_until": (START - timedelta(minutes=5)).isoformat()}, "scheduled_until", 422),
        ({"status": "completed", "scheduled_until": LATER}, "scheduled_until", 422),
    ]
    for fields, field, code in cases:
        payload = {"status": "scheduled", "message": "Moved.", **fields}
        answer = client.post(
            f"{MAINTENANCES}/{made['id']}/updates", json=payload, headers=people.bob
        )
        assert (answer.status_code, error_fields(answer.json())) == (code, [field]), answer.text
    assert len(shown(client, people, made)["updates"]) == 1


def test_a_scheduled_maintenance_takes_other_components(
    client: TestClient, people: People, shop: dict[str, str], clock: FixedClock, worker: Worker
) -> None:
    made = schedule(client, people.responder)
    moved = ok(update(client, people.bob, made, "scheduled", components=["API", "Search"]), 201)
    assert sorted(moved["components"]) == ["API", "Search"]
    [listed] = document(client, "scheduled-maintenances/upcoming.json")["scheduled_maintenances"]
    assert sorted(c["name"] for c in listed["components"]) == ["API", "Search"]
    at(clock, START, worker)
    assert statuses(client) == {
        "Checkout": "operational",
        "Search": "under_maintenance",
        "API": "under_maintenance",
    }
    # Started, its components carry its status: they no longer change.
    answer = update(client, people.bob, made, "in_progress", components=["Checkout"])
    assert (answer.status_code, error_fields(answer.json())) == (422, ["components"])
    at(clock, END, worker)
    assert set(statuses(client).values()) == {"operational"}


def test_components_of_an_update_are_checked(
    client: TestClient, people: People, shop: dict[str, str]
) -> None:
    made = schedule(client, people.responder)
    for components in ([], ["Nope"], ["API"] * 201):
        answer = update(client, people.bob, made, "scheduled", components=components)
        assert answer.status_code in (404, 422), answer.text
        assert error_fields(answer.json()) == ["components"], answer.text
    assert shown(client, people, made)["components"] == ["Checkout", "Search"]
    answer = update(client, people.bob, made, "in_progress", components=["API"])
    assert (answer.status_code, error_fields(answer.json())) == (422, ["components"])
    assert shown(client, people, made)["status"] == "scheduled"  # refused whole: not started


# Components shared with other incidents and maintenances


def test_components_another_one_holds_keep_their_status(
    client: TestClient,
    people: People,
    shop: dict[str, str],
    clock: FixedClock,
    worker: Worker,
) -> None:
    post(client, people.responder, "Search is slow.", components={"Search": "degraded_performance"})
    first = schedule(client, people.responder)
    second = schedule(
        client,
        people.responder,
        title="Cache rollout",
        components=["Checkout", "API"],
        scheduled_until=(END + timedelta(hours=1)).isoformat(),
    )
    at(clock, START, worker)
    # An outage is not hidden behind a planned-work label.
    assert statuses(client) == {
        "Checkout": "under_maintenance",
        "Search": "degraded_performance",
        "API": "under_maintenance",
    }
    at(clock, END, worker)
    assert shown(client, people, first)["status"] == "completed"
    assert statuses(client) == {
        "Checkout": "under_maintenance",
        "Search": "degraded_performance",
        "API": "under_maintenance",
    }
    at(clock, END + timedelta(hours=1), worker)
    assert shown(client, people, second)["status"] == "completed"
    assert statuses(client) == {
        "Checkout": "operational",
        "Search": "degraded_performance",
        "API": "operational",
    }


def test_the_list_is_filtered_by_status(
    client: TestClient, people: People, shop: dict[str, str]
) -> None:
    later = schedule(
        client,
        people.responder,
        title="Later",
        scheduled_for=(START + timedelta(days=1)).isoformat(),
        scheduled_until=(END + timedelta(days=1)).isoformat(),
    )
    now = schedule(client, people.responder, title="Now", scheduled_for=None, start_now=True)
    every = ok(client.get(MAINTENANCES, headers=people.viewer))
    assert [m["title"] for m in every] == ["Later", "Now"]  # latest start first
    running = ok(client.get(MAINTENANCES, params={"status": "in_progress"}, headers=people.viewer))
    assert [m["id"] for m in running] == [now["id"]]
    assert later["id"] not in [m["id"] for m in running]
    bad = client.get(MAINTENANCES, params={"status": "resolved"}, headers=people.viewer)
    assert (bad.status_code, error_fields(bad.json())) == (422, ["status"])


# Subscribers


def test_subscribers_hear_of_it_when_announced_started_and_completed(
    client: TestClient,
    people: People,
    shop: dict[str, str],
    clock: FixedClock,
    worker: Worker,
    sessions: SessionFactory,
    settings: Settings,
) -> None:
    with unit_of_work(sessions) as session:
        api_id = session.scalars(select(StatusComponent.id).filter_by(name="API")).one()
        session.add(Subscriber(email="all@example.com", confirmed_at=T0, created_at=T0))
        session.add(
            Subscriber(
                email="api@example.com", component_ids=[api_id], confirmed_at=T0, created_at=T0
            )
        )
        session.add(Subscriber(email="unconfirmed@example.com", created_at=T0))
    made = schedule(client, people.responder)
    drain(worker)
    assert mails(settings) == [("all@example.com", "[warroom] Database upgrade: Scheduled")]
    [announcement] = (settings.var_dir / "mail").glob("*.eml")
    body_text = announcement.read_text()
    assert "Checkout and search may be slow" in body_text
    assert f"/status/incidents/{made['id']}" in body_text
    at(clock, START, worker)
    at(clock, END, worker)
    assert sorted(mails(settings)) == [
        ("all@example.com", "[warroom] Database upgrade: Completed"),
        ("all@example.com", "[warroom] Database upgrade: In progress"),
        ("all@example.com", "[warroom] Database upgrade: Scheduled"),
    ]


def mails(settings: Settings) -> list[tuple[str, str]]:
    """(To, Subject) of the mail the worker wrote under var/mail."""
    found = []
    for path in sorted((settings.var_dir / "mail").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes())
        found.append((str(message["To"]), str(message["Subject"])))
    return found
