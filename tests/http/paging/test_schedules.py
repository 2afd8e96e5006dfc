"""Schedules through the API: create, replace, who is on call, overrides, previews, shifts."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import T0
from tests.http.api import People, error_fields
from tests.http.paging import (
    API,
    add_override,
    layer,
    ok,
    on_call,
    put_schedule,
    schedule,
    when,
)

SCHEDULES = f"{API}/schedules"


def test_a_schedule_is_created_then_replaced_and_shows_who_is_on_call(
    client: TestClient, people: People
) -> None:
    created = client.put(f"{SCHEDULES}/ops", json=schedule(), headers=people.admin)
    assert created.status_code == 201, created.text
    first = created.json()
    assert (first["slug"], first["name"], first["time_zone"]) == ("ops", "Ops", "Europe/London")
    assert first["revision"] == 1
    [primary] = first["layers"]
    assert primary["participants"] == ["rita", "bob"]
    assert (primary["shift_count"], primary["shift_unit"], primary["handoff"]) == (
        1,
        "weeks",
        "09:00",
    )
    assert when(primary["start"]) == when("2026-11-02T09:00:00+00:00")
    assert first["overrides"] == []
    assert first["on_call_now"] == "bob"  # the week from Monday 23 November

    replaced = client.put(
        f"{SCHEDULES}/ops",
        json=schedule(layer("bob", "rita"), name="Operations"),
        headers=people.admin,
    )
    assert replaced.status_code == 200, replaced.text
    second = replaced.json()
    assert second["name"] == "Operations"
    assert second["revision"] == 2
    assert second["layers"][0]["participants"] == ["bob", "rita"]
    assert second["on_call_now"] == "rita"

    shown = ok(client.get(f"{SCHEDULES}/ops", headers=people.viewer))
    assert {k: v for k, v in shown.items() if k != "feed_url"} == {
        k: v for k, v in second.items() if k != "feed_url"
    }
    assert shown["feed_url"].startswith("http://127.0.0.1:8080/oncall/ops.ics?token=")
    listed = ok(client.get(SCHEDULES, headers=people.viewer))
    assert [(s["slug"], s["on_call_now"]) for s in listed] == [("ops", "rita")]


def test_replacing_the_layers_keeps_the_overrides(client: TestClient, people: People) -> None:
    put_schedule(client, people.admin, "ops")
    override = add_override(
        client, people.responder, "ops", "carol", "2026-11-27T09:00:00Z", "2026-11-27T18:00:00Z"
    )
    replaced = put_schedule(client, people.admin, "ops", schedule(layer("bob", "rita")))
    assert [o["id"] for o in replaced["overrides"]] == [override["id"]]
    assert replaced["on_call_now"] == "carol"


def test_a_deleted_schedule_is_gone(client: TestClient, people: People) -> None:
    put_schedule(client, people.admin, "ops")
    assert client.delete(f"{SCHEDULES}/ops", headers=people.admin).status_code == 204
    assert client.get(f"{SCHEDULES}/ops", headers=people.viewer).status_code == 404
    assert on_call(client, people.viewer) == []
    again = client.delete(f"{SCHEDULES}/ops", headers=people.admin)
    assert again.status_code == 404
    assert "no schedule 'ops'" in again.json()["detail"]


def changed(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """The default schedule body with the value at ``path`` replaced."""
    body = copy.deepcopy(schedule())
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


def duplicate_layers() -> dict[str, Any]:
    return schedule(layer("rita", name="same"), layer("bob", name="same"))


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        (changed(("time_zone",), "Mars/Olympus"), "time_zone", "IANA time zone"),
        (changed(("time_zone",), ""), "time_zone", "IANA time zone"),
        (changed(("layers", 0, "handoff"), "25:00"), "layers.0.handoff", "pattern"),
        (changed(("layers", 0, "handoff"), "9am"), "layers.0.handoff", "pattern"),
        (changed(("layers", 0, "participants"), []), "layers.0.participants", "at least 1"),
        (changed(("layers", 0, "start"), "2026-11-02T09:00:00"), "layers.0.start", "timezone"),
        (changed(("layers", 0, "shift_unit"), "months"), "layers.0.shift_unit", "'weeks'"),
        (changed(("layers", 0, "shift_count"), 0), "layers.0.shift_count", "greater than"),
        (
            changed(("layers", 0, "restrictions"), [{"start": "09:00", "end": "17:60"}]),
            "layers.0.restrictions.0.end",
            "pattern",
        ),
        (
            changed(
                ("layers", 0, "restrictions"), [{"days": [7], "start": "09:00", "end": "17:00"}]
            ),
            "layers.0.restrictions.0.days.0",
            "less than or equal to 6",
        ),
        (changed(("layers",), []), "layers", "at least 1"),
        (changed(("name",), "  "), "name", "at least 1 character"),
        (duplicate_layers(), "layers", "layer names must be distinct"),
        (changed(("team",), "no-such-team"), "team", "unknown team 'no-such-team'"),
    ],
)
def test_bad_schedules_are_refused_by_field_and_nothing_is_written(
    client: TestClient, people: People, body: dict[str, Any], field: str, says: str
) -> None:
    response = client.put(f"{SCHEDULES}/ops", json=body, headers=people.admin)
    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == [field]
    assert says in response.json()["detail"]
    assert client.get(f"{SCHEDULES}/ops", headers=people.viewer).status_code == 404


def test_an_unknown_participant_is_named(client: TestClient, people: People) -> None:
    body = schedule(layer("rita"), layer("bob", "zed", name="secondary"))
    response = client.put(f"{SCHEDULES}/ops", json=body, headers=people.admin)
    assert response.status_code == 422, response.text
    # Counted from 1 here, unlike the 0-based names of pydantic's own errors.
    assert error_fields(response.json()) == ["layers[2].participants"]
    assert "unknown user 'zed'" in response.json()["detail"]
    assert client.get(f"{SCHEDULES}/ops", headers=people.viewer).status_code == 404


def test_an_unnamed_layer_cannot_share_the_name_it_would_get(
    client: TestClient, people: People
) -> None:
    # The first layer is called "layer 1" by default; the second asks for that name.
    body = schedule(layer("rita", name=""), layer("bob", name="layer 1"))
    response = client.put(f"{SCHEDULES}/ops", json=body, headers=people.admin)
    assert response.status_code == 422, response.text
    assert "another layer has the same name" in response.json()["detail"]


def test_a_schedule_shows_its_team(client: TestClient, people: People) -> None:
    ok(
        client.post(
            f"{API}/teams", json={"slug": "payments", "name": "Payments"}, headers=people.admin
        ),
        201,
    )
    put_schedule(client, people.admin, "ops")
    with_team = put_schedule(client, people.admin, "ops", schedule(team="payments"))
    assert with_team["team"] == "payments"
    assert ok(client.get(f"{SCHEDULES}/ops", headers=people.viewer))["team"] == "payments"
    without = put_schedule(client, people.admin, "ops", schedule())
    assert without["team"] is None


def test_a_schedule_is_created_with_its_team(client: TestClient, people: People) -> None:
    ok(
        client.post(
            f"{API}/teams", json={"slug": "payments", "name": "Payments"}, headers=people.admin
        ),
        201,
    )
    created = client.put(f"{SCHEDULES}/ops", json=schedule(team="payments"), headers=people.admin)
    assert created.status_code == 201, created.text
    assert created.json()["team"] == "payments"


@pytest.mark.parametrize("slug", ["Ops Team", "a<b>"])
def test_a_schedule_slug_must_be_a_slug(client: TestClient, people: People, slug: str) -> None:
    response = client.put(f"{SCHEDULES}/{slug}", json=schedule(), headers=people.admin)
    assert response.status_code == 422, response.text
    assert ok(client.get(SCHEDULES, headers=people.viewer)) == []


def test_a_schedule_made_under_capitals_is_found_under_them(
    client: TestClient, people: People
) -> None:
    response = client.put(f"{SCHEDULES}/OPS", json=schedule(), headers=people.admin)
    if response.status_code == 201:
        assert client.get(f"{SCHEDULES}/OPS", headers=people.viewer).status_code == 200
    else:
        assert response.status_code == 422, response.text


@pytest.mark.parametrize("who", ["viewer", "responder"])
def test_only_admins_write_schedules(client: TestClient, people: People, who: str) -> None:
    headers = getattr(people, who)
    refused = client.put(f"{SCHEDULES}/ops", json=schedule(), headers=headers)
    assert refused.status_code == 403, refused.text
    assert "admin" in refused.json()["detail"]
    assert client.get(f"{SCHEDULES}/ops", headers=people.viewer).status_code == 404
    put_schedule(client, people.admin, "ops")
    assert client.delete(f"{SCHEDULES}/ops", headers=headers).status_code == 403
    assert client.get(f"{SCHEDULES}/ops", headers=people.viewer).status_code == 200


def test_schedules_need_a_token(client: TestClient, people: People) -> None:
    assert client.get(SCHEDULES).status_code == 401
    assert client.put(f"{SCHEDULES}/ops", json=schedule()).status_code == 401
    assert client.get(f"{API}/oncall").status_code == 401


def test_an_override_puts_someone_on_call_until_it_is_removed(
    client: TestClient, people: People
) -> None:
    put_schedule(client, people.admin, "ops")
    [before] = on_call(client, people.viewer)
    assert (before["schedule"], before["user"]) == ("ops", "bob")
    assert when(before["until"]) == when("2026-11-30T09:00:00+00:00")

    override = add_override(
        client, people.responder, "ops", "carol", "2026-11-27T09:00:00Z", "2026-11-27T18:00:00Z"
    )
    assert override["user"] == "carol"
    [during] = on_call(client, people.viewer, schedule="ops")
    assert (during["user"], when(during["until"])) == ("carol", when("2026-11-27T18:00:00Z"))
    [after] = on_call(client, people.viewer, at="2026-11-27T18:00:00Z")
    assert after["user"] == "bob"
    shown = ok(client.get(f"{SCHEDULES}/ops", headers=people.viewer))
    assert shown["on_call_now"] == "carol"
    assert [(o["id"], o["user"]) for o in shown["overrides"]] == [(override["id"], "carol")]

    removed = client.delete(f"{SCHEDULES}/ops/overrides/{override['id']}", headers=people.bob)
    assert removed.status_code == 204
    [back] = on_call(client, people.viewer)
    assert back["user"] == "bob"
    assert ok(client.get(f"{SCHEDULES}/ops", headers=people.viewer))["overrides"] == []
    gone = client.delete(f"{SCHEDULES}/ops/overrides/{override['id']}", headers=people.bob)
    assert gone.status_code == 404
    assert f"no override {override['id']}" in gone.json()["detail"]


def test_overrides_that_ended_are_not_listed(client: TestClient, people: People) -> None:
    put_schedule(client, people.admin, "ops")
    add_override(
        client, people.responder, "ops", "carol", "2026-11-26T09:00:00Z", "2026-11-27T09:00:00Z"
    )
    assert ok(client.get(f"{SCHEDULES}/ops", headers=people.viewer))["overrides"] == []


@pytest.mark.parametrize(
    ("change", "status", "field", "says"),
    [
        ({"end": "2026-11-27T08:00:00Z"}, 422, "end", "must end after it starts"),
        ({"end": "2027-12-27T09:00:00Z"}, 422, "end", "at most a year"),
        ({"start": "2026-11-27T09:00:00"}, 422, "start", "timezone"),
        ({"user": "zed"}, 422, "user", "unknown user 'zed'"),
        ({"user": ""}, 422, "user", "must be 1-63 characters"),
        ({"extra": 1}, 422, "extra", "Extra inputs are not permitted"),
    ],
)
def test_bad_overrides_are_refused(
    client: TestClient,
    people: People,
    change: dict[str, Any],
    status: int,
    field: str,
    says: str,
) -> None:
    put_schedule(client, people.admin, "ops")
    body = {"user": "carol", "start": "2026-11-27T09:00:00Z", "end": "2026-11-27T18:00:00Z"}
    response = client.post(
        f"{SCHEDULES}/ops/overrides", json={**body, **change}, headers=people.responder
    )
    assert response.status_code == status, response.text
    assert error_fields(response.json()) == [field]
    assert says in response.json()["detail"]
    assert ok(client.get(f"{SCHEDULES}/ops", headers=people.viewer))["revision"] == 1


def test_viewers_cannot_add_overrides_and_unknown_schedules_are_404(
    client: TestClient, people: People
) -> None:
    put_schedule(client, people.admin, "ops")
    body = {"user": "vic", "start": "2026-11-27T09:00:00Z", "end": "2026-11-27T18:00:00Z"}
    assert (
        client.post(f"{SCHEDULES}/ops/overrides", json=body, headers=people.viewer).status_code
        == 403
    )
    missing = client.post(f"{SCHEDULES}/nope/overrides", json=body, headers=people.responder)
    assert missing.status_code == 404
    assert "no schedule 'nope'" in missing.json()["detail"]
    assert on_call(client, people.viewer)[0]["user"] == "bob"


def test_who_is_on_call_at_a_time_with_its_offset(client: TestClient, people: People) -> None:
    put_schedule(client, people.admin, "ops")
    # 09:30 in Paris is 08:30 UTC: still bob, whose week ends at 09:00 London (UTC) time.
    [before] = on_call(client, people.viewer, at="2026-11-30T09:30:00+01:00")
    assert (before["user"], when(before["until"])) == ("bob", when("2026-11-30T09:00:00Z"))
    assert when(before["at"]) == when("2026-11-30T08:30:00Z")
    [after] = on_call(client, people.viewer, at="2026-11-30T10:30:00+01:00")
    assert (after["user"], when(after["until"])) == ("rita", when("2026-12-07T09:00:00Z"))
    [before_start] = on_call(client, people.viewer, at="2026-11-01T12:00:00Z")
    assert (before_start["user"], before_start["until"]) == (None, None)


@pytest.mark.parametrize("at", ["2026-11-30T10:00:00", "2026-11-30"])
def test_a_time_without_offset_is_refused_with_an_example(
    client: TestClient, people: People, at: str
) -> None:
    put_schedule(client, people.admin, "ops")
    response = client.get(f"{API}/oncall", params={"at": at}, headers=people.viewer)
    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == ["at"]
    assert "give the time with its offset" in response.json()["detail"]


def test_a_time_that_is_not_a_time_is_refused(client: TestClient, people: People) -> None:
    response = client.get(f"{API}/oncall", params={"at": "tomorrow"}, headers=people.viewer)
    assert response.status_code == 422
    assert error_fields(response.json()) == ["at"]


def test_who_is_on_call_on_an_unknown_schedule_is_404(client: TestClient, people: People) -> None:
    response = client.get(f"{API}/oncall", params={"schedule": "nope"}, headers=people.viewer)
    assert response.status_code == 404
    assert "no schedule 'nope'" in response.json()["detail"]


def daily(*participants: str, **fields: Any) -> dict[str, Any]:
    """A daily layer handing off at 09:00 London time since 2 March 2026."""
    return layer(*participants, shift_unit="days", start="2026-03-02T09:00:00+00:00", **fields)


SPRING = {"start": "2026-03-23T00:00:00Z", "weeks": "2"}  # over the 29 March change to BST


def test_preview_over_the_spring_change_lists_it_and_no_gaps(
    client: TestClient, people: People
) -> None:
    put_schedule(client, people.admin, "ops", schedule(daily("rita", "bob")))
    preview = ok(client.get(f"{SCHEDULES}/ops/preview", params=SPRING, headers=people.viewer))
    assert (preview["schedule"], preview["time_zone"]) == ("ops", "Europe/London")
    assert when(preview["start"]) == when("2026-03-23T00:00:00Z")
    assert when(preview["end"]) == when("2026-04-06T00:00:00Z")
    assert preview["dst_changes"] == [
        {"at": "2026-03-29T01:00:00Z", "offset_before": "UTC+00:00", "offset_after": "UTC+01:00"}
    ]
    assert preview["gaps"] == []
    shifts = preview["shifts"]
    assert when(shifts[0]["start"]) == when(preview["start"])
    assert when(shifts[-1]["end"]) == when(preview["end"])
    for earlier, later in pairwise(shifts):
        assert earlier["end"] == later["start"]
        assert earlier["user"] != later["user"]
    # The handoff stays at 09:00 on the wall clock: 09:00 GMT, then 08:00 UTC (09:00 BST).
    starts = {s["start"]: s for s in shifts}
    short = starts["2026-03-28T09:00:00Z"]
    assert short["end"] == "2026-03-29T08:00:00Z"  # 23 hours
    assert starts["2026-03-29T08:00:00Z"]["end"] == "2026-03-30T08:00:00Z"
    assert {s["layer"] for s in shifts} == {"primary"}


def length(span: dict[str, str]) -> timedelta:
    return datetime.fromisoformat(span["end"]) - datetime.fromisoformat(span["start"])


def test_preview_of_a_weekday_only_layer_lists_the_gaps(client: TestClient, people: People) -> None:
    office = [{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}]
    put_schedule(client, people.admin, "ops", schedule(daily("rita", "bob", restrictions=office)))
    preview = ok(client.get(f"{SCHEDULES}/ops/preview", params=SPRING, headers=people.viewer))
    gaps = [(g["start"], g["end"]) for g in preview["gaps"]]
    # Friday 17:00 GMT to Monday 09:00 BST (08:00 UTC), across the change.
    assert ("2026-03-27T17:00:00Z", "2026-03-30T08:00:00Z") in gaps
    assert ("2026-03-23T00:00:00Z", "2026-03-23T09:00:00Z") in gaps
    assert len(preview["dst_changes"]) == 1
    for shift in preview["shifts"]:
        start, end = when(shift["start"]), when(shift["end"])
        assert start is not None
        assert end is not None
        assert start.weekday() < 5
        assert end - start == timedelta(hours=8)
    covered = sum((length(s) for s in preview["shifts"]), timedelta())
    uncovered = sum((length(g) for g in preview["gaps"]), timedelta())
    # Counted in UTC the two weeks are 336 hours: 80 covered (ten weekdays), the rest gaps.
    assert covered + uncovered == timedelta(weeks=2)
    assert covered == timedelta(hours=8 * 10)


def test_preview_defaults_to_four_weeks_from_now(client: TestClient, people: People) -> None:
    put_schedule(client, people.admin, "ops")
    preview = ok(client.get(f"{SCHEDULES}/ops/preview", headers=people.viewer))
    assert when(preview["start"]) == T0
    assert when(preview["end"]) == T0 + timedelta(weeks=4)
    assert [s["user"] for s in preview["shifts"]] == ["bob", "rita", "bob", "rita", "bob"]
    assert preview["gaps"] == []
    assert preview["dst_changes"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [({"weeks": "0"}, "weeks"), ({"weeks": "53"}, "weeks"), ({"weeks": "two"}, "weeks")],
)
def test_preview_refuses_bad_ranges(
    client: TestClient, people: People, params: dict[str, str], field: str
) -> None:
    put_schedule(client, people.admin, "ops")
    response = client.get(f"{SCHEDULES}/ops/preview", params=params, headers=people.viewer)
    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == [field]


def test_preview_refuses_a_start_without_offset(client: TestClient, people: People) -> None:
    put_schedule(client, people.admin, "ops")
    params = {"start": "2026-03-23T00:00:00"}
    response = client.get(f"{SCHEDULES}/ops/preview", params=params, headers=people.viewer)
    assert response.status_code == 422, response.text
    assert "give the time with its offset" in response.json()["detail"]


def test_preview_names_start_when_it_lacks_an_offset(client: TestClient, people: People) -> None:
    put_schedule(client, people.admin, "ops")
    params = {"start": "2026-03-23T00:00:00"}
    response = client.get(f"{SCHEDULES}/ops/preview", params=params, headers=people.viewer)
    assert error_fields(response.json()) == ["start"]


def test_preview_of_an_unknown_schedule_is_404(client: TestClient, people: People) -> None:
    assert client.get(f"{SCHEDULES}/nope/preview", headers=people.viewer).status_code == 404


def test_a_persons_shifts_across_schedules(client: TestClient, people: People) -> None:
    put_schedule(client, people.admin, "ops")
    put_schedule(client, people.admin, "db", schedule(layer("ada", "carol")))
    add_override(
        client, people.responder, "ops", "carol", "2026-11-28T09:00:00Z", "2026-11-28T18:00:00Z"
    )
    shifts = ok(client.get(f"{API}/users/carol/shifts", params={"days": 14}, headers=people.viewer))
    assert [(s["schedule"], s["layer"], s["start"], s["end"]) for s in shifts] == [
        ("db", "primary", "2026-11-27T10:00:00Z", "2026-11-30T09:00:00Z"),
        ("ops", None, "2026-11-28T09:00:00Z", "2026-11-28T18:00:00Z"),
        ("db", "primary", "2026-12-07T09:00:00Z", "2026-12-11T10:00:00Z"),
    ]
    assert {s["user"] for s in shifts} == {"carol"}
    assert ok(client.get(f"{API}/users/vic/shifts", headers=people.viewer)) == []


@pytest.mark.parametrize(
    ("handle", "params", "status"),
    [
        ("nobody", {}, 404),
        ("carol", {"days": "0"}, 422),
        ("carol", {"days": "367"}, 422),
    ],
)
def test_shifts_refuse_unknown_people_and_bad_ranges(
    client: TestClient, people: People, handle: str, params: dict[str, str], status: int
) -> None:
    response = client.get(f"{API}/users/{handle}/shifts", params=params, headers=people.viewer)
    assert response.status_code == status, response.text
