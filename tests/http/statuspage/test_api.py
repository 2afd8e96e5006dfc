"""Managing the status page through /api/v1/statuspage: components, posts, lateness, rollup."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import T0
from tests.http.api import People, declare
from tests.http.statuspage import (
    API,
    add_component,
    document,
    no_cache_delay,
    ok,
    post,
    post_body,
    status_incidents,
)
from warroom.clock import FixedClock


@pytest.fixture(autouse=True)
def _current_pages(app: FastAPI) -> None:
    no_cache_delay(app)


@pytest.fixture
def shop(client: TestClient, people: People) -> dict[str, dict[str, Any]]:
    """Components: Checkout and Search in group Shop (linked to their services), and API."""
    return {
        "Checkout": add_component(
            client, people.admin, "Checkout", group="Shop", service="checkout"
        ),
        "Search": add_component(client, people.admin, "Search", group="Shop", service="search"),
        "API": add_component(client, people.admin, "API", description="The public REST API"),
    }


def at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def public_incident(client: TestClient, public_id: str) -> dict[str, Any]:
    found = [i for i in document(client, "incidents.json")["incidents"] if i["id"] == public_id]
    assert len(found) == 1, found
    incident: dict[str, Any] = found[0]
    return incident


# Components


def test_components_are_listed_with_their_group_service_and_status(
    client: TestClient, people: People, shop: dict[str, dict[str, Any]]
) -> None:
    listed = ok(client.get(f"{API}/components", headers=people.viewer))
    assert [(c["name"], c["group"], c["service"], c["status"], c["published"]) for c in listed] == [
        ("Checkout", "Shop", "checkout", "operational", True),
        ("Search", "Shop", "search", "operational", True),
        ("API", None, None, "operational", True),
    ]
    assert [c["id"] for c in listed] == [shop[n]["id"] for n in ("Checkout", "Search", "API")]
    assert all(len(c["id"]) == 12 and c["id"].isalnum() and c["id"].islower() for c in listed)


def test_groups_contain_their_components_on_the_public_page(
    client: TestClient, shop: dict[str, dict[str, Any]]
) -> None:
    components = document(client, "components.json")["components"]
    by_name = {c["name"]: c for c in components}
    group = by_name["Shop"]
    assert group["group"] is True
    assert group["group_id"] is None
    assert group["components"] == [shop["Checkout"]["id"], shop["Search"]["id"]]
    assert by_name["Checkout"]["group_id"] == group["id"]
    assert by_name["Search"]["group_id"] == group["id"]
    assert by_name["API"]["group_id"] is None
    assert by_name["API"]["description"] == "The public REST API"
    assert "components" not in by_name["API"]
    positions = [c["position"] for c in components]
    assert positions == sorted(positions)
    # The group comes first: it was made with its first component.
    assert [c["name"] for c in components] == ["Shop", "Checkout", "Search", "API"]


def test_only_admins_add_components(client: TestClient, people: People) -> None:
    body = {"name": "Billing"}
    assert client.post(f"{API}/components", json=body).status_code == 401
    assert client.post(f"{API}/components", json=body, headers=people.viewer).status_code == 403
    assert client.post(f"{API}/components", json=body, headers=people.responder).status_code == 403
    assert client.get(f"{API}/components").status_code == 401
    assert ok(client.get(f"{API}/components", headers=people.admin)) == []


BAD_COMPONENTS: list[tuple[dict[str, Any], int, str]] = [
    ({"name": "Checkout"}, 409, "name"),
    ({"name": "Checkout", "group": "Other"}, 409, "name"),
    ({"name": "Mail", "service": "no-such-service"}, 422, "service"),
    ({"name": "Mail", "group": "API"}, 422, "group"),
    ({"name": ""}, 422, "name"),
    ({"name": "   "}, 422, "name"),
    ({"name": "x" * 101}, 422, "name"),
    ({"name": "Mail", "description": "d" * 501}, 422, "description"),
    ({"name": "Mail", "colour": "red"}, 422, "colour"),
    ({"name": "Mail\x00"}, 422, "name"),
    ({}, 422, "name"),
]


def test_bad_components_are_refused(
    client: TestClient, people: People, shop: dict[str, dict[str, Any]]
) -> None:
    wrong = []
    for body, status, field in BAD_COMPONENTS:
        answer = client.post(f"{API}/components", json=body, headers=people.admin)
        fields = [e["field"] for e in answer.json().get("errors", [])]
        if answer.status_code != status or field not in fields:
            wrong.append((body, answer.status_code, answer.text))
    assert wrong == []
    assert len(ok(client.get(f"{API}/components", headers=people.admin))) == 3
    assert len(document(client, "components.json")["components"]) == 4


# Posts


def test_an_incident_goes_from_investigating_to_resolved_in_posts(
    client: TestClient,
    people: People,
    clock: FixedClock,
    shop: dict[str, dict[str, Any]],
) -> None:
    ref = declare(client, people.responder, title="Checkout down", services=["checkout"])["ref"]
    first = post(
        client,
        people.responder,
        "Some customers cannot pay. We are looking into it.",
        incident=ref,
        components={"Checkout": "partial_outage"},
    )
    assert first["incident"] == ref
    assert first["status"] == "investigating"
    assert first["title"] == "Partial outage of Checkout"
    assert first["affected"] == [
        {
            "id": shop["Checkout"]["id"],
            "name": "Checkout",
            "old_status": "operational",
            "new_status": "partial_outage",
        }
    ]
    # SEV-1's internal cadence (15 minutes) is the default public promise.
    assert at(first["created_at"]) == T0
    assert at(first["next_update_at"]) == T0 + timedelta(minutes=15)
    assert first["url"] == f"http://127.0.0.1:8080/status/incidents/{first['status_incident']}"

    clock.advance(timedelta(minutes=10))
    second = post(
        client,
        people.responder,
        "We found the cause.",
        incident=ref,
        status="identified",
        next_update_minutes=45,
    )
    assert second["status_incident"] == first["status_incident"]
    assert second["title"] == first["title"]
    assert second["affected"] == []
    assert at(second["next_update_at"]) == T0 + timedelta(minutes=55)

    clock.advance(timedelta(minutes=20))
    third = post(
        client,
        people.responder,
        "A fix is out; we are watching.",
        incident=ref,
        status="monitoring",
        components={"Checkout": "operational"},
    )
    assert third["affected"][0]["old_status"] == "partial_outage"
    clock.advance(timedelta(minutes=30))
    last = post(client, people.responder, "All good again.", incident=ref, status="resolved")
    assert last["next_update_at"] is None
    assert last["status_incident"] == first["status_incident"]

    shown = public_incident(client, first["status_incident"])
    assert shown["name"] == "Partial outage of Checkout"
    assert shown["status"] == "resolved"
    assert shown["impact"] == "major"  # the worst it got: a partial outage
    assert at(shown["started_at"]) == T0
    assert at(shown["monitoring_at"]) == T0 + timedelta(minutes=30)
    assert at(shown["resolved_at"]) == T0 + timedelta(minutes=60)
    assert [u["status"] for u in shown["incident_updates"]] == [
        "resolved",
        "monitoring",
        "identified",
        "investigating",
    ]
    assert [u["body"] for u in shown["incident_updates"]][-1] == (
        "Some customers cannot pay. We are looking into it."
    )
    assert [c["name"] for c in shown["components"]] == ["Checkout"]
    assert document(client, "incidents/unresolved.json")["incidents"] == []
    assert document(client, "status.json")["status"] == {
        "indicator": "none",
        "description": "All Systems Operational",
    }


def test_the_post_is_recorded_on_the_internal_timeline(
    client: TestClient, people: People, shop: dict[str, dict[str, Any]]
) -> None:
    ref = declare(client, people.responder)["ref"]
    made = post(client, people.responder, "Looking into it.", incident=ref)
    timeline = ok(client.get(f"/api/v1/incidents/{ref}/timeline", headers=people.viewer))
    [entry] = [e for e in timeline if e["kind"] == "status_posted"]
    assert entry["actor"] == "rita"
    assert entry["text"] == "Status page (investigating): Looking into it."
    assert entry["data"] == {"status_incident": made["status_incident"], "post": made["id"]}


def test_resolving_without_naming_components_puts_the_affected_ones_back(
    client: TestClient, people: People, shop: dict[str, dict[str, Any]]
) -> None:
    ref = declare(client, people.responder)["ref"]
    post(
        client,
        people.responder,
        "Checkout and search are down.",
        incident=ref,
        components={"Checkout": "major_outage", "Search": "degraded_performance"},
    )
    resolved = post(client, people.responder, "Fixed.", incident=ref, status="resolved")
    assert sorted((a["name"], a["old_status"], a["new_status"]) for a in resolved["affected"]) == [
        ("Checkout", "major_outage", "operational"),
        ("Search", "degraded_performance", "operational"),
    ]
    listed = ok(client.get(f"{API}/components", headers=people.viewer))
    assert {c["status"] for c in listed} == {"operational"}


def test_resolving_one_incident_leaves_a_component_another_still_holds(
    client: TestClient, people: People, shop: dict[str, dict[str, Any]]
) -> None:
    first = declare(client, people.responder, title="Database slow")["ref"]
    second = declare(client, people.responder, title="Network flaps")["ref"]
    post(client, people.responder, "API slow.", incident=first, components={"API": "major_outage"})
    post(client, people.responder, "API down.", incident=second, components={"API": "major_outage"})
    post(client, people.responder, "Fixed.", incident=first, status="resolved")
    unresolved = document(client, "incidents/unresolved.json")["incidents"]
    assert [c["name"] for c in unresolved[0]["components"]] == ["API"]
    by_name = {c["name"]: c for c in document(client, "components.json")["components"]}
    assert by_name["API"]["status"] == "major_outage"


def test_a_standalone_post_opens_a_public_incident_without_an_internal_one(
    client: TestClient, people: People, shop: dict[str, dict[str, Any]]
) -> None:
    made = post(
        client,
        people.responder,
        "Our API answers slowly.",
        components={"API": "degraded_performance"},
        title="Slow API responses",
        next_update_minutes=60,
    )
    assert made["incident"] is None
    assert made["title"] == "Slow API responses"
    assert at(made["next_update_at"]) == T0 + timedelta(minutes=60)
    [listed] = status_incidents(client, people.viewer)
    assert listed["incident"] is None
    assert listed["kind"] == "incident"
    assert listed["impact"] == "minor"


def test_a_standalone_post_promises_an_update_in_half_an_hour_by_default(
    client: TestClient, people: People
) -> None:
    made = post(client, people.responder, "Looking into reports of errors.")
    assert at(made["next_update_at"]) == T0 + timedelta(minutes=30)
    assert made["title"] == "Service disruption"


def test_a_standalone_public_incident_can_be_resolved(
    client: TestClient, people: People, shop: dict[str, dict[str, Any]]
) -> None:
    opened = post(client, people.responder, "API errors.", components={"API": "major_outage"})
    # The only handle on a standalone incident is its public id.
    answer = client.post(
        f"{API}/posts",
        json={"incident": opened["status_incident"], "status": "resolved", "message": "Fixed."},
        headers=people.responder,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["status_incident"] == opened["status_incident"]
    assert document(client, "incidents/unresolved.json")["incidents"] == []


def test_a_new_post_for_a_resolved_incident_opens_a_second_public_incident(
    client: TestClient, people: People, clock: FixedClock, shop: dict[str, dict[str, Any]]
) -> None:
    ref = declare(client, people.responder)["ref"]
    first = post(
        client, people.responder, "Down.", incident=ref, components={"API": "major_outage"}
    )
    post(client, people.responder, "Fixed.", incident=ref, status="resolved")
    clock.advance(timedelta(hours=1))
    again = post(client, people.responder, "Down again.", incident=ref)
    assert again["status_incident"] != first["status_incident"]
    assert again["incident"] == ref
    unresolved = document(client, "incidents/unresolved.json")["incidents"]
    assert [i["id"] for i in unresolved] == [again["status_incident"]]


def test_a_postmortem_post_joins_the_resolved_public_incident(
    client: TestClient, people: People, shop: dict[str, dict[str, Any]]
) -> None:
    ref = declare(client, people.responder)["ref"]
    first = post(
        client, people.responder, "Down.", incident=ref, components={"API": "major_outage"}
    )
    post(client, people.responder, "Fixed.", incident=ref, status="resolved")
    after = post(
        client,
        people.responder,
        "Here is what happened and why.",
        incident=ref,
        status="postmortem",
    )
    assert after["status_incident"] == first["status_incident"]
    assert len(document(client, "incidents.json")["incidents"]) == 1


def test_the_public_title_is_built_from_components_never_from_the_incident(
    client: TestClient, people: People, shop: dict[str, dict[str, Any]]
) -> None:
    internal = "Primary db-07 failover broke payments (bad config push by bob)"
    ref = declare(client, people.responder, title=internal)["ref"]
    made = post(
        client,
        people.responder,
        "Payments fail.",
        incident=ref,
        components={"Checkout": "major_outage", "Search": "partial_outage"},
    )
    assert made["title"] == "Major outage of Checkout and Search"
    listed = status_incidents(client, people.viewer)
    assert [i["title"] for i in listed] == ["Major outage of Checkout and Search"]
    assert internal not in str(document(client, "summary.json"))


def test_a_title_names_at_most_three_components(client: TestClient, people: People) -> None:
    for name in ("One", "Two", "Three", "Four"):
        add_component(client, people.admin, name)
    three = post(
        client,
        people.responder,
        "Slow.",
        components=dict.fromkeys(("One", "Two", "Three"), "degraded_performance"),
    )
    assert three["title"] == "Degraded performance of One, Two and Three"
    four = post(
        client,
        people.responder,
        "Down.",
        components={"One": "major_outage", "Two": "partial_outage", "Four": "under_maintenance"},
    )
    assert four["title"] == "Major outage of One, Two and Four"
    many = post(
        client,
        people.responder,
        "Down.",
        components=dict.fromkeys(("One", "Two", "Three", "Four"), "partial_outage"),
    )
    assert many["title"] == "Partial outage of several services"


def test_a_later_title_renames_the_public_incident(
    client: TestClient, people: People, shop: dict[str, dict[str, Any]]
) -> None:
    ref = declare(client, people.responder)["ref"]
    first = post(
        client, people.responder, "Down.", incident=ref, components={"API": "major_outage"}
    )
    renamed = post(
        client,
        people.responder,
        "Found it.",
        incident=ref,
        status="identified",
        title="  API unavailable in Europe  ",
    )
    assert renamed["title"] == "API unavailable in Europe"
    assert public_incident(client, first["status_incident"])["name"] == "API unavailable in Europe"


def test_only_responders_post(client: TestClient, people: People) -> None:
    body = post_body("Looking into it.")
    assert client.post(f"{API}/posts", json=body).status_code == 401
    assert client.post(f"{API}/posts", json=body, headers=people.viewer).status_code == 403
    assert client.post(f"{API}/posts", json=body, headers=people.admin).status_code == 201
    assert client.get(f"{API}/incidents").status_code == 401


# The promised next update


def test_a_missed_promise_shows_as_late_until_the_next_post(
    client: TestClient, people: People, clock: FixedClock, shop: dict[str, dict[str, Any]]
) -> None:
    ref = declare(client, people.responder)["ref"]
    post(client, people.responder, "Down.", incident=ref, next_update_minutes=20)
    [listed] = status_incidents(client, people.viewer)
    assert (listed["update_late"], listed["incident"]) == (False, ref)
    assert at(listed["next_update_at"]) == T0 + timedelta(minutes=20)

    clock.advance(timedelta(minutes=20))
    assert status_incidents(client, people.viewer)[0]["update_late"] is False  # due, not late
    clock.advance(timedelta(seconds=1))
    assert status_incidents(client, people.viewer)[0]["update_late"] is True

    post(client, people.responder, "Still on it.", incident=ref, next_update_minutes=30)
    [listed] = status_incidents(client, people.viewer)
    assert listed["update_late"] is False
    assert at(listed["next_update_at"]) == clock.now() + timedelta(minutes=30)

    post(client, people.responder, "Fixed.", incident=ref, status="resolved")
    clock.advance(timedelta(days=1))
    [listed] = status_incidents(client, people.viewer)
    assert (listed["status"], listed["update_late"], listed["next_update_at"]) == (
        "resolved",
        False,
        None,
    )


# The page's overall indicator


def set_components(client: TestClient, people: People, status: str, **states: str) -> None:
    post(client, people.responder, "Update.", status=status, components=states)


@pytest.mark.parametrize(
    ("status", "states", "expected"),
    [
        # No open incident: the component rollup alone.
        ("resolved", {}, ("none", "All Systems Operational")),
        ("resolved", {"Checkout": "degraded_performance"}, ("minor", "Partially Degraded Service")),
        (
            "resolved",
            dict.fromkeys(("Checkout", "Search", "API"), "degraded_performance"),
            ("minor", "Degraded System Service"),
        ),
        ("resolved", {"Checkout": "partial_outage"}, ("minor", "Minor Service Outage")),
        ("resolved", {"Checkout": "major_outage"}, ("major", "Partial System Outage")),
        (
            "resolved",
            dict.fromkeys(("Checkout", "Search", "API"), "major_outage"),
            ("critical", "Major System Outage"),
        ),
        ("resolved", {"API": "under_maintenance"}, ("maintenance", "Service Under Maintenance")),
        (
            "resolved",
            {"API": "under_maintenance", "Search": "degraded_performance"},
            ("minor", "Partially Degraded Service"),
        ),
        # An open incident raises the headline to its impact.
        ("investigating", {}, ("none", "All Systems Operational")),
        ("investigating", {"Checkout": "partial_outage"}, ("major", "Partial System Outage")),
        ("identified", {"Checkout": "major_outage"}, ("critical", "Major Service Outage")),
        (
            "monitoring",
            dict.fromkeys(("Checkout", "Search", "API"), "major_outage"),
            ("critical", "Major System Outage"),
        ),
    ],
)
def test_the_page_status_is_rolled_up_like_statuspage(
    client: TestClient,
    people: People,
    shop: dict[str, dict[str, Any]],
    status: str,
    states: dict[str, str],
    expected: tuple[str, str],
) -> None:
    set_components(client, people, status, **states)
    indicator, description = expected
    rollup = {"indicator": indicator, "description": description}
    assert document(client, "status.json")["status"] == rollup
    assert document(client, "summary.json")["status"] == rollup


def test_a_group_shows_its_worst_component(
    client: TestClient, people: People, shop: dict[str, dict[str, Any]]
) -> None:
    set_components(client, people, "investigating", Checkout="partial_outage", API="major_outage")
    by_name = {c["name"]: c for c in document(client, "components.json")["components"]}
    assert by_name["Shop"]["status"] == "partial_outage"
    assert by_name["Checkout"]["status"] == "partial_outage"
    assert by_name["Search"]["status"] == "operational"
    assert by_name["API"]["status"] == "major_outage"


@pytest.mark.parametrize(
    ("resolved", "message"),
    [
        (False, "resolve the status page incident before posting its postmortem"),
        (None, "a postmortem follows a resolved status page incident, and there is none"),
    ],
)
def test_a_postmortem_post_needs_a_resolved_public_incident(
    client: TestClient, people: People, resolved: bool | None, message: str
) -> None:
    ref = declare(client, people.responder)["ref"]
    if resolved is not None:
        post(client, people.responder, "Down.", incident=ref)
    body = post_body("What happened.", incident=ref, status="postmortem")
    answer = client.post(f"{API}/posts", json=body, headers=people.responder)
    assert answer.status_code == 409, answer.text
    assert message in answer.text
    assert len(status_incidents(client, people.viewer)) == (0 if resolved is None else 1)


def test_an_unknown_public_incident_id_is_404(client: TestClient, people: People) -> None:
    body = post_body("Fixed.", incident="zzzzzzzzzzzz", status="resolved")
    answer = client.post(f"{API}/posts", json=body, headers=people.responder)
    assert answer.status_code == 404, answer.text
    assert "no status page incident zzzzzzzzzzzz" in answer.text
