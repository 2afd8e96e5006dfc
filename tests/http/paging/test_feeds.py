"""Calendar feeds: the token in the URL, iCalendar bodies, stable UIDs and SEQUENCE."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar

from tests.conftest import T0
from tests.http.api import People
from tests.http.paging import (
    API,
    Event,
    add_override,
    events,
    feed_path,
    layer,
    ok,
    put_schedule,
    schedule,
    when,
)
from warroom.clock import FixedClock

FEED_START = "2026-11-13T00:00:00Z"  # the feed starts 14 days back, at midnight UTC


def schedule_feed(client: TestClient, people: People, slug: str) -> str:
    url: str = ok(client.get(f"{API}/schedules/{slug}", headers=people.viewer))["feed_url"]
    return feed_path(url)


def fetch(client: TestClient, path: str) -> list[Event]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    return events(response.content)


@pytest.fixture
def ops(client: TestClient, people: People) -> str:
    """Schedule ops (rita and bob weekly) with carol covering Saturday, and its feed path."""
    put_schedule(client, people.admin, "ops")
    add_override(
        client, people.responder, "ops", "carol", "2026-11-28T09:00:00Z", "2026-11-28T18:00:00Z"
    )
    return schedule_feed(client, people, "ops")


def test_the_feed_is_an_icalendar_of_the_previewed_shifts(
    client: TestClient, people: People, ops: str
) -> None:
    response = client.get(ops)
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.content)
    assert str(calendar.get("x-wr-calname")) == "On call: Ops"
    assert str(calendar.get("version")) == "2.0"
    found = events(response.content)
    params = {"start": FEED_START, "weeks": "4"}
    preview = ok(client.get(f"{API}/schedules/ops/preview", params=params, headers=people.viewer))
    shifts = preview["shifts"]
    # The preview's last shift is cut at its end; all others are the feed's first events.
    expected = [(f"On call: {s['user']}", when(s["start"]), when(s["end"])) for s in shifts[:-1]]
    assert [(e.summary, e.start, e.end) for e in found[: len(expected)]] == expected
    assert ("On call: carol", when("2026-11-28T09:00:00Z"), when("2026-11-28T18:00:00Z")) in (
        expected
    )
    assert found[0].start == when(FEED_START)
    assert found[-1].end == T0 + timedelta(days=180)
    assert len({e.uid for e in found}) == len(found)
    assert all(e.uid.endswith("@127.0.0.1") for e in found)


def test_uids_and_sequence_are_stable_between_fetches(
    client: TestClient, people: People, clock: FixedClock, ops: str
) -> None:
    first = fetch(client, ops)
    assert fetch(client, ops) == first
    clock.advance(timedelta(hours=3))  # later the same day: the window starts at the same midnight
    later = fetch(client, ops)
    assert [(e.uid, e.start, e.end) for e in later[:-1]] == [
        (e.uid, e.start, e.end) for e in first[:-1]
    ]
    assert {e.sequence for e in later} == {e.sequence for e in first}


def test_a_change_bumps_the_sequence_and_keeps_the_slots(
    client: TestClient, people: People, ops: str
) -> None:
    before = fetch(client, ops)
    [sequence] = {e.sequence for e in before}
    put_schedule(client, people.admin, "ops", schedule(layer("bob", "rita")))
    after = fetch(client, ops)
    assert {e.sequence for e in after} == {sequence + 1}
    # Same slots (UIDs name the slot, not the person), now held by the other person.
    assert [e.uid for e in after] == [e.uid for e in before]
    monday = when("2026-11-30T09:00:00Z")
    [old] = [e for e in before if e.start == monday]
    [new] = [e for e in after if e.start == monday]
    assert (old.summary, new.summary) == ("On call: rita", "On call: bob")

    override = add_override(
        client, people.responder, "ops", "ada", "2026-12-01T09:00:00Z", "2026-12-01T12:00:00Z"
    )
    with_ada = fetch(client, ops)
    assert {e.sequence for e in with_ada} == {sequence + 2}
    assert any(e.summary == "On call: ada" for e in with_ada)
    ok(client.delete(f"{API}/schedules/ops/overrides/{override['id']}", headers=people.admin), 204)
    assert {e.sequence for e in fetch(client, ops)} == {sequence + 3}


def test_a_wrong_or_missing_token_is_404(client: TestClient, people: People, ops: str) -> None:
    put_schedule(client, people.admin, "db", schedule(layer("ada")))
    token = ops.split("token=", 1)[1]
    db_token = schedule_feed(client, people, "db").split("token=", 1)[1]
    for path in (
        "/oncall/ops.ics",
        "/oncall/ops.ics?token=",
        "/oncall/ops.ics?token=not-the-token",
        f"/oncall/ops.ics?token={token[:-1]}",
        f"/oncall/ops.ics?token={db_token}",  # another schedule's token
        f"/oncall/users/carol.ics?token={token}",
        f"/oncall/nope.ics?token={token}",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "text/calendar" not in response.headers["content-type"]
    assert "check the token" in client.get("/oncall/ops.ics").json()["detail"]
    ok(client.delete(f"{API}/schedules/ops", headers=people.admin), 204)
    assert client.get(ops).status_code == 404


def test_a_non_ascii_token_is_404(lenient_client: TestClient, people: People) -> None:
    put_schedule(lenient_client, people.admin, "ops")
    response = lenient_client.get("/oncall/ops.ics", params={"token": "é" * 24})
    assert response.status_code == 404


def test_a_token_longer_than_allowed_is_refused(client: TestClient, people: People) -> None:
    put_schedule(client, people.admin, "ops")
    response = client.get("/oncall/ops.ics", params={"token": "x" * 101})
    assert response.status_code == 422


def user_feed(client: TestClient, headers: dict[str, str], handle: str) -> str:
    url: str = ok(client.get(f"{API}/users/{handle}/feed", headers=headers))["url"]
    assert url.startswith(f"http://127.0.0.1:8080/oncall/users/{handle}.ics?token=")
    return feed_path(url)


def test_a_personal_feed_lists_only_that_persons_shifts_on_every_schedule(
    client: TestClient, people: People, ops: str
) -> None:
    put_schedule(client, people.admin, "db", schedule(layer("ada", "carol")))
    path = user_feed(client, people.carol, "carol")
    response = client.get(path)
    assert response.status_code == 200
    assert str(Calendar.from_ical(response.content).get("x-wr-calname")) == "On call: @carol"
    found = events(response.content)
    assert {e.summary for e in found} == {"On call: carol"}
    assert len({e.uid for e in found}) == len(found)
    shifts = ok(client.get(f"{API}/users/carol/shifts", params={"days": 28}, headers=people.viewer))
    end = T0 + timedelta(days=28)
    inside = [(e.start, e.end) for e in found if e.start >= T0 and e.end <= end]
    whole = [
        (when(s["start"]), when(s["end"]))
        for s in shifts
        if when(s["start"]) != T0 and when(s["end"]) != end
    ]
    assert inside == whole
    assert (when("2026-11-28T09:00:00Z"), when("2026-11-28T18:00:00Z")) in inside  # ops override
    assert (when("2026-12-07T09:00:00Z"), when("2026-12-14T09:00:00Z")) in inside  # db rotation
    assert user_feed(client, people.admin, "carol") == path  # an admin gets the same URL


def test_a_personal_feed_sequence_follows_every_schedule(
    client: TestClient, people: People, ops: str
) -> None:
    path = user_feed(client, people.carol, "carol")
    [before] = {e.sequence for e in fetch(client, path)}
    put_schedule(client, people.admin, "db", schedule(layer("ada", "carol")))
    [after] = {e.sequence for e in fetch(client, path)}
    assert after > before


def test_a_personal_feed_url_is_only_for_that_person_or_an_admin(
    client: TestClient, people: People
) -> None:
    refused = client.get(f"{API}/users/carol/feed", headers=people.bob)
    assert refused.status_code == 403
    assert "only the person themselves or an admin" in refused.json()["detail"]
    assert client.get(f"{API}/users/carol/feed", headers=people.viewer).status_code == 403
    assert client.get(f"{API}/users/nobody/feed", headers=people.admin).status_code == 404
    assert client.get(f"{API}/users/carol/feed").status_code == 401
    bob_path = user_feed(client, people.bob, "bob")
    stolen = bob_path.replace("/users/bob.ics", "/users/carol.ics")
    assert client.get(stolen).status_code == 404
