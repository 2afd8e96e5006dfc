"""Statuspage API v2 JSON documents: shapes, key order, filters, times (protocols.md §3)."""

from __future__ import annotations

import gzip
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pytest

from warroom.errors import Invalid
from warroom.statuspage.publish import (
    AffectedComponent,
    ComponentView,
    IncidentView,
    PageInfo,
    UpdateView,
    components_doc,
    etag,
    gzipped,
    incidents_doc,
    maintenances_doc,
    status_doc,
    summary,
    to_bytes,
    unresolved_doc,
)
from warroom.statuspage.rules import (
    ComponentStatus,
    Impact,
    MaintenanceStatus,
    PostStatus,
    page_status,
)

T0 = datetime(2022, 2, 15, 21, 37, 37, 407123, tzinfo=UTC)
PAGE = PageInfo("kctbh9vrtdwd", "Acme", "https://status.acme.test", "America/Tijuana", T0)
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d")

PAGE_KEYS = ["id", "name", "url", "time_zone", "updated_at"]
COMPONENT_KEYS = [
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "start_date",
    "group_id",
    "page_id",
    "group",
    "only_show_if_degraded",
]
INCIDENT_KEYS = [
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "impact",
    "shortlink",
    "started_at",
    "page_id",
    "incident_updates",
    "components",
]
UPDATE_KEYS = [
    "id",
    "status",
    "body",
    "incident_id",
    "created_at",
    "updated_at",
    "display_at",
    "affected_components",
    "deliver_notifications",
    "custom_tweet",
    "tweet_id",
]


def component(
    cid: str = "api",
    position: int = 1,
    status: ComponentStatus = ComponentStatus.OPERATIONAL,
    **kwargs: Any,
) -> ComponentView:
    fields: dict[str, Any] = {
        "id": cid,
        "name": cid.upper(),
        "status": status,
        "position": position,
        "description": None,
        "group_id": None,
        "is_group": False,
        "children": [],
        "created_at": T0,
        "updated_at": T0,
    } | kwargs
    return ComponentView(**fields)


def update(
    uid: str = "u1",
    status: PostStatus | MaintenanceStatus = PostStatus.INVESTIGATING,
    at: datetime = T0,
    affected: Sequence[AffectedComponent] = (),
) -> UpdateView:
    return UpdateView(uid, status, "Looking\r\ninto it", at, at, at, list(affected))


def incident(
    iid: str = "i1",
    status: PostStatus | MaintenanceStatus = PostStatus.INVESTIGATING,
    at: datetime = T0,
    **kwargs: Any,
) -> IncidentView:
    fields: dict[str, Any] = {
        "id": iid,
        "name": f"Incident {iid}",
        "status": status,
        "impact": Impact.MINOR,
        "created_at": at,
        "updated_at": at,
        "started_at": at,
        "monitoring_at": None,
        "resolved_at": None,
        "shortlink": f"https://stspg.io/{iid}",
        "updates": [update(f"{iid}-u", status, at)],
        "components": [],
    } | kwargs
    return IncidentView(**fields)


def maintenance(iid: str, status: MaintenanceStatus, at: datetime = T0) -> IncidentView:
    return incident(
        iid,
        status,
        at,
        impact=Impact.MAINTENANCE,
        scheduled_for=at + timedelta(days=1),
        scheduled_until=at + timedelta(days=1, hours=2),
    )


STATUS = ("none", "All Systems Operational")


@pytest.mark.parametrize(
    ("doc", "keys"),
    [
        (summary(PAGE, [], [], [], STATUS), ["components", "incidents", "scheduled_maintenances"]),
        (status_doc(PAGE, STATUS), []),
        (components_doc(PAGE, []), ["components"]),
        (incidents_doc(PAGE, []), ["incidents"]),
        (unresolved_doc(PAGE, []), ["incidents"]),
        (maintenances_doc(PAGE, [], "all"), ["scheduled_maintenances"]),
        (maintenances_doc(PAGE, [], "upcoming"), ["scheduled_maintenances"]),
        (maintenances_doc(PAGE, [], "active"), ["scheduled_maintenances"]),
    ],
)
def test_page_comes_first_and_empty_lists_are_present(doc, keys):
    assert next(iter(doc)) == "page"
    assert list(doc["page"]) == PAGE_KEYS
    for key in keys:
        assert doc[key] == []
    assert to_bytes(doc).startswith(b'{"page":{"id":"kctbh9vrtdwd",')


def test_summary_key_order_and_status():
    doc = summary(PAGE, [], [], [], page_status([ComponentStatus.MAJOR_OUTAGE]))
    assert list(doc) == ["page", "components", "incidents", "scheduled_maintenances", "status"]
    assert doc["status"] == {"indicator": "critical", "description": "Major System Outage"}
    assert list(status_doc(PAGE, STATUS)) == ["page", "status"]


@pytest.mark.parametrize(
    ("at", "rendered"),
    [
        (T0, "2022-02-15T13:37:37.407-08:00"),
        (datetime(2022, 7, 1, 12, 0, tzinfo=UTC), "2022-07-01T05:00:00.000-07:00"),
        (datetime(2022, 3, 13, 10, 0, 0, 999999, tzinfo=UTC), "2022-03-13T03:00:00.999-07:00"),
    ],
)
def test_times_have_milliseconds_and_the_page_zone_offset(at, rendered):
    page = PageInfo("kctbh9vrtdwd", "Acme", "https://s.test", "America/Tijuana", at)
    doc = status_doc(page, STATUS)
    assert doc["page"]["updated_at"] == rendered


def test_every_time_in_an_incident_is_rendered_in_the_page_zone():
    resolved = incident(
        "i1",
        PostStatus.RESOLVED,
        monitoring_at=T0 + timedelta(minutes=5),
        resolved_at=T0 + timedelta(minutes=9),
    )
    doc = incidents_doc(PAGE, [resolved])["incidents"][0]
    times = [doc[k] for k in ("created_at", "updated_at", "started_at")]
    times += [doc["monitoring_at"], doc["resolved_at"]]
    times += [doc["incident_updates"][0][k] for k in ("created_at", "updated_at", "display_at")]
    assert all(STAMP.fullmatch(t) and t.endswith("-08:00") for t in times)
    assert doc["resolved_at"] == "2022-02-15T13:46:37.407-08:00"


def test_incident_and_update_shapes():
    moved = AffectedComponent(
        "api", "API", ComponentStatus.OPERATIONAL, ComponentStatus.PARTIAL_OUTAGE
    )
    updates = [
        update("u2", PostStatus.IDENTIFIED, T0 + timedelta(minutes=3), [moved]),
        update("u1"),
    ]
    affected_api = component(status=ComponentStatus.PARTIAL_OUTAGE)
    shown = incident("i1", PostStatus.IDENTIFIED, updates=updates, components=[affected_api])
    doc = unresolved_doc(PAGE, [shown])["incidents"][0]
    assert list(doc) == INCIDENT_KEYS
    assert doc["page_id"] == PAGE.id
    assert doc["monitoring_at"] is None
    assert doc["resolved_at"] is None
    assert [u["id"] for u in doc["incident_updates"]] == ["u2", "u1"]
    newest, oldest = doc["incident_updates"]
    assert list(newest) == UPDATE_KEYS
    assert newest["incident_id"] == "i1"
    assert newest["body"] == "Looking\r\ninto it"
    assert newest["affected_components"] == [
        {"code": "api", "name": "API", "old_status": "operational", "new_status": "partial_outage"}
    ]
    assert oldest["affected_components"] is None
    assert (newest["deliver_notifications"], newest["custom_tweet"], newest["tweet_id"]) == (
        True,
        None,
        None,
    )
    assert doc["components"][0]["status"] == "partial_outage"


def test_component_shapes_and_display_order():
    group = component("grp", position=1, is_group=True, children=["api", "web"], description="Core")
    api = component("api", position=2, group_id="grp", start_date=date(2020, 1, 31), showcase=False)
    web = component("web", position=3, group_id="grp", only_show_if_degraded=True)
    docs = components_doc(PAGE, [web, api, group])["components"]
    assert [d["id"] for d in docs] == ["grp", "api", "web"]
    assert list(docs[0]) == [*COMPONENT_KEYS, "components"]
    assert docs[0]["components"] == ["api", "web"]
    assert docs[0]["group"] is True
    assert list(docs[1]) == COMPONENT_KEYS
    assert docs[1]["start_date"] == "2020-01-31"
    assert docs[1]["showcase"] is False
    assert docs[1]["group_id"] == "grp"
    assert docs[2]["only_show_if_degraded"] is True
    assert docs[2]["page_id"] == PAGE.id
    assert docs[2]["created_at"] == "2022-02-15T13:37:37.407-08:00"


def test_incidents_json_keeps_the_50_most_recent_of_any_status():
    statuses = list(PostStatus)
    many = [
        incident(f"i{n}", statuses[n % len(statuses)], T0 + timedelta(hours=n)) for n in range(60)
    ]
    docs = incidents_doc(PAGE, many)["incidents"]
    assert len(docs) == 50
    assert [d["id"] for d in docs] == [f"i{n}" for n in range(59, 9, -1)]
    assert {d["status"] for d in docs} == {s.value for s in PostStatus}


def test_unresolved_keeps_open_incidents_only():
    shown = [incident(f"i-{s}", s, T0 + timedelta(minutes=n)) for n, s in enumerate(PostStatus)]
    ids = [d["id"] for d in unresolved_doc(PAGE, shown)["incidents"]]
    assert ids == ["i-monitoring", "i-identified", "i-investigating"]
    ids = [d["id"] for d in summary(PAGE, [], shown, [], STATUS)["incidents"]]
    assert ids == ["i-monitoring", "i-identified", "i-investigating"]


MAINTENANCES = [
    maintenance(f"m-{s}", s, T0 + timedelta(minutes=n)) for n, s in enumerate(MaintenanceStatus)
]


@pytest.mark.parametrize(
    ("kind", "ids"),
    [
        ("all", ["m-completed", "m-verifying", "m-in_progress", "m-scheduled"]),
        ("upcoming", ["m-scheduled"]),
        ("active", ["m-verifying", "m-in_progress"]),
    ],
)
def test_maintenance_lists(kind, ids):
    docs = maintenances_doc(PAGE, MAINTENANCES, kind)["scheduled_maintenances"]
    assert [d["id"] for d in docs] == ids
    assert all(list(d) == [*INCIDENT_KEYS, "scheduled_for", "scheduled_until"] for d in docs)
    assert all(d["impact"] == "maintenance" for d in docs)


def test_maintenance_schedule_is_rendered_in_the_page_zone():
    (doc,) = maintenances_doc(PAGE, MAINTENANCES[:1])["scheduled_maintenances"]
    assert doc["scheduled_for"] == "2022-02-16T13:37:37.407-08:00"
    assert doc["scheduled_until"] == "2022-02-16T15:37:37.407-08:00"


def test_all_maintenances_are_capped_at_50():
    many = [
        maintenance(f"m{n}", MaintenanceStatus.COMPLETED, T0 + timedelta(days=n)) for n in range(55)
    ]
    assert len(maintenances_doc(PAGE, many)["scheduled_maintenances"]) == 50


def test_summary_shows_upcoming_and_active_maintenances_only():
    docs = summary(PAGE, [], [], MAINTENANCES, STATUS)["scheduled_maintenances"]
    assert [d["id"] for d in docs] == ["m-verifying", "m-in_progress", "m-scheduled"]


def test_unknown_maintenance_list_is_refused():
    with pytest.raises(Invalid) as caught:
        maintenances_doc(PAGE, [], "past")  # type: ignore[arg-type]
    assert caught.value.field == "kind"


@pytest.mark.parametrize(
    ("page_id", "zone", "field"),
    [
        ("KCTBH9VRTDWD", "UTC", "id"),
        ("kctbh9vrtdw", "UTC", "id"),
        ("kctbh9vrtdwd1", "UTC", "id"),
        ("kctbh9-rtdwd", "UTC", "id"),
        ("kctbh9vrtdwd", "Mars/Olympus", "time_zone"),
    ],
)
def test_page_info_is_checked(page_id, zone, field):
    with pytest.raises(Invalid) as caught:
        PageInfo(page_id, "Acme", "https://s.test", zone, T0)
    assert caught.value.field == field


def test_naive_times_are_refused_not_guessed():
    page = PageInfo("kctbh9vrtdwd", "Acme", "https://s.test", "UTC", datetime(2022, 1, 1))
    with pytest.raises(ValueError, match="naive"):
        status_doc(page, STATUS)


def test_bytes_keep_insertion_order_and_round_trip():
    doc = summary(PAGE, [component()], [incident()], MAINTENANCES, STATUS)
    body = to_bytes(doc)
    assert orjson.loads(body) == doc
    assert list(orjson.loads(body)) == list(doc)
    assert body.index(b'"page"') < body.index(b'"components"') < body.index(b'"status":{')


def test_etag_is_strong_quoted_and_content_based():
    body = to_bytes(status_doc(PAGE, STATUS))
    tag = etag(body)
    assert re.fullmatch(r'"[0-9a-f]{32}"', tag)
    assert etag(body) == tag
    assert etag(body + b" ") != tag


def test_gzip_is_deterministic():
    body = to_bytes(summary(PAGE, [component()], [incident()], [], STATUS))
    packed = gzipped(body)
    assert packed == gzipped(body)
    assert packed[4:8] == b"\x00\x00\x00\x00"
    assert gzip.decompress(packed) == body
