"""The public page under /status: HTML, Statuspage-compatible JSON and feeds, without sign-in.

The page here is "Acme Cloud" at https://status.acme.test, in America/New_York
(the clock's 10:00 UTC is 05:00 EST), so every time must carry that zone.
"""

from __future__ import annotations

import calendar
import html
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import T0
from tests.http.api import People, declare
from tests.http.statuspage import (
    DOCUMENTS,
    FEEDS,
    STATUS,
    add_component,
    document,
    no_cache_delay,
    parse_feed,
    post,
    public,
    public_paths,
    strip_tags,
)
from warroom.clock import FixedClock
from warroom.settings import Settings

BASE = "https://status.acme.test/status"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        var_dir=tmp_path,
        secret_key="x" * 40,
        base_url="https://status.acme.test",
        time_zone="America/New_York",
        status_page_name="Acme Cloud",
    )


@pytest.fixture(autouse=True)
def _current_pages(app: FastAPI) -> None:
    no_cache_delay(app)


@pytest.fixture
def story(client: TestClient, people: People, clock: FixedClock) -> dict[str, str]:
    """A resolved incident on Checkout yesterday, an open one on API now: their public ids."""
    clock.advance(timedelta(days=-1))
    add_component(client, people.admin, "Checkout", group="Shop", service="checkout")
    add_component(client, people.admin, "Search", group="Shop", service="search")
    add_component(client, people.admin, "API")
    old = declare(client, people.responder, title="Old internal title")["ref"]
    gone = post(
        client,
        people.responder,
        "Checkout is down.",
        incident=old,
        components={"Checkout": "major_outage"},
    )
    clock.advance(timedelta(minutes=40))
    post(client, people.responder, "Checkout works again.", incident=old, status="resolved")
    clock.advance(timedelta(days=1, minutes=-40))
    ref = declare(client, people.responder, title="New internal title")["ref"]
    now = post(
        client,
        people.responder,
        "API requests fail for some customers.",
        incident=ref,
        components={"API": "partial_outage"},
    )
    clock.advance(timedelta(minutes=12))
    post(
        client,
        people.responder,
        "We found a bad load balancer.",
        incident=ref,
        status="identified",
        next_update_minutes=30,
    )
    return {"resolved": gone["status_incident"], "open": now["status_incident"]}


def test_every_public_path_answers_without_signing_in(
    client: TestClient, app: FastAPI, story: dict[str, str]
) -> None:
    paths = public_paths(client, app)
    assert paths[:2] == ["/", "/history"]
    assert f"/incidents/{story['open']}" in paths
    assert f"/incidents/{story['resolved']}" in paths
    assert {p.removeprefix("/api/v2/") for p in paths if p.startswith("/api/v2/")} == set(DOCUMENTS)
    cached = {
        "/": "text/html; charset=utf-8",
        "/history": "text/html; charset=utf-8",
        f"/incidents/{story['open']}": "text/html; charset=utf-8",
        "/history.atom": "application/atom+xml; charset=utf-8",
        "/history.rss": "application/rss+xml; charset=utf-8",
        "/api/v2/summary.json": "application/json",
    }
    for path, kind in cached.items():
        response = public(client, path)
        assert response.headers["content-type"] == kind, path
        assert response.headers["x-content-type-options"] == "nosniff"
    assert public(client, "/subscribe").headers["content-type"] == "text/html; charset=utf-8"
    for path in paths:
        public(client, path)


def test_the_front_page_says_how_things_are(client: TestClient, story: dict[str, str]) -> None:
    page = public(client, "/").text
    assert '<p class="banner major" role="status">Partial System Outage</p>' in page
    text = strip_tags(page)
    assert "Acme Cloud" in text
    for line in (
        "Checkout Operational",
        "Search Operational",
        "API Partial outage",
        "Partial outage of API",  # the open incident, with its latest update
        "Identified - We found a bad load balancer.",
        "Past incidents",
        "Major outage of Checkout",
        "Resolved - Checkout works again.",
        "Times are shown in America/New_York.",
    ):
        assert line in text, line
    assert "API requests fail" not in text  # only the latest update on the front page
    assert f'href="{BASE}/incidents/{story["open"]}"' in page
    assert (
        f'<link rel="alternate" type="application/atom+xml" href="{BASE}/history.atom" '
        'title="Acme Cloud Status History - Atom Feed">'
    ) in page
    assert (
        f'<link rel="alternate" type="application/rss+xml" href="{BASE}/history.rss" '
        'title="Acme Cloud Status History - RSS Feed">'
    ) in page
    assert f'href="{BASE}/subscribe"' in page


def test_the_front_page_draws_90_days_of_uptime(client: TestClient, story: dict[str, str]) -> None:
    page = public(client, "/").text
    bars = re.findall(r'<div class="bars" role="img" aria-label="([^"]+)"', page)
    # Checkout was fully down 40 of the 1452 minutes it has existed (since yesterday
    # 10:00 UTC, now 10:12); days before have no data.
    assert bars == [
        "Checkout: 97.25% uptime over the last 90 days",
        "Search: 100.00% uptime over the last 90 days",
        "API: 99.75% uptime over the last 90 days",  # a partial outage minute is 30 % down
    ]
    days = re.findall(r'<span class="b-([a-z_]+)" title="(\d{4}-\d\d-\d\d): ([^"]*)"></span>', page)
    assert len(days) == 3 * 90
    checkout = days[:90]
    assert checkout[0] == ("nodata", "2026-08-30", "no data")
    # Its first local day (New York) began at 10:00 UTC and ended at 05:00 UTC: 1140 minutes.
    assert checkout[-2] == ("major_outage", "2026-11-26", "96.49% up; Major outage of Checkout")
    assert checkout[-1] == ("operational", "2026-11-27", "100.00% up")
    assert days[-1] == ("partial_outage", "2026-11-27", "98.85% up; Partial outage of API")


def test_an_incident_page_shows_every_update_newest_first_in_the_page_zone(
    client: TestClient, story: dict[str, str]
) -> None:
    page = public(client, f"/incidents/{story['open']}").text
    assert "<title>Partial outage of API - Acme Cloud</title>" in page
    text = strip_tags(page)
    assert "Identified · Affected: API" in text
    newer = text.index("Identified - We found a bad load balancer.")
    older = text.index("Investigating - API requests fail for some customers.")
    assert newer < older
    # 10:00 and 10:12 UTC, shown in New York with the zone's name.
    assert "Posted Nov 27, 2026 05:12 EST" in text
    assert "Posted Nov 27, 2026 05:00 EST" in text
    assert '<time datetime="2026-11-27T10:12:00+00:00">' in page


def test_an_incident_page_says_when_the_next_update_is_due(
    client: TestClient, story: dict[str, str]
) -> None:
    text = strip_tags(public(client, f"/incidents/{story['open']}").text)
    assert "Next update by Nov 27, 2026 05:42 EST" in text


def test_the_history_lists_every_incident(client: TestClient, story: dict[str, str]) -> None:
    page = public(client, "/history").text
    text = strip_tags(page)
    assert text.index("Partial outage of API") < text.index("Major outage of Checkout")
    assert "Identified · started Nov 27, 2026 05:00 EST" in text
    assert "Resolved · started Nov 26, 2026 05:00 EST" in text
    assert f'href="{BASE}/incidents/{story["resolved"]}"' in page


def test_unknown_paths_are_404(client: TestClient, story: dict[str, str]) -> None:
    for path in (
        "/incidents/nosuchincide",
        "/incidents/",
        "/api/v2/nothing.json",
        "/api/v2/incidents/resolved.json",
        "/api/v1/summary.json",
        "/admin",
    ):
        response = client.get(f"{STATUS}{path}")
        assert response.status_code == 404, path
        assert "Internal" not in response.text
    # The page's own files also answer with a trailing slash.
    assert public(client, "/history/").text == public(client, "/history").text


def check_page_object(doc: dict[str, Any]) -> None:
    assert next(iter(doc)) == "page"
    page = doc["page"]
    assert list(page) == ["id", "name", "url", "time_zone", "updated_at"]
    assert re.fullmatch(r"[a-z0-9]{12}", page["id"])
    assert (page["name"], page["url"], page["time_zone"]) == (
        "Acme Cloud",
        BASE,
        "America/New_York",
    )
    assert STAMP.match(page["updated_at"]), page["updated_at"]


def test_an_empty_page_has_every_document_with_empty_lists(client: TestClient) -> None:
    expected = {
        "summary.json": ["page", "components", "incidents", "scheduled_maintenances", "status"],
        "status.json": ["page", "status"],
        "components.json": ["page", "components"],
        "incidents.json": ["page", "incidents"],
        "incidents/unresolved.json": ["page", "incidents"],
        "scheduled-maintenances.json": ["page", "scheduled_maintenances"],
        "scheduled-maintenances/upcoming.json": ["page", "scheduled_maintenances"],
        "scheduled-maintenances/active.json": ["page", "scheduled_maintenances"],
    }
    for name, keys in expected.items():
        doc = document(client, name)
        assert list(doc) == keys, name
        check_page_object(doc)
        for key in keys[1:]:
            if key != "status":
                assert doc[key] == [], (name, key)
    assert document(client, "status.json")["status"] == {
        "indicator": "none",
        "description": "All Systems Operational",
    }
    text = strip_tags(public(client, "/").text)
    assert "All Systems Operational" in text
    assert "No incidents reported." in text


def test_every_document_starts_with_the_same_page(
    client: TestClient, story: dict[str, str]
) -> None:
    pages = []
    for name in DOCUMENTS:
        doc = document(client, name)
        check_page_object(doc)
        pages.append(doc["page"])
    assert all(p == pages[0] for p in pages)
    # The latest change: the identified post at 10:12 UTC.
    assert pages[0]["updated_at"] == "2026-11-27T05:12:00.000-05:00"


def test_summary_holds_components_and_only_unresolved_incidents(
    client: TestClient, story: dict[str, str]
) -> None:
    summary = document(client, "summary.json")
    assert [c["name"] for c in summary["components"]] == ["Shop", "Checkout", "Search", "API"]
    assert [i["id"] for i in summary["incidents"]] == [story["open"]]
    assert summary["scheduled_maintenances"] == []
    assert summary["status"] == {"indicator": "major", "description": "Partial System Outage"}
    unresolved = document(client, "incidents/unresolved.json")["incidents"]
    assert [i["id"] for i in unresolved] == [story["open"]]
    listed = document(client, "incidents.json")["incidents"]
    assert [i["id"] for i in listed] == [story["open"], story["resolved"]]


def test_components_have_the_statuspage_fields(client: TestClient, story: dict[str, str]) -> None:
    page_id = document(client, "status.json")["page"]["id"]
    for component in document(client, "components.json")["components"]:
        assert list(component)[:13] == [
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
        assert component["page_id"] == page_id
        assert component["status"] in {
            "operational",
            "degraded_performance",
            "partial_outage",
            "major_outage",
            "under_maintenance",
        }
        assert STAMP.match(component["created_at"])
        assert STAMP.match(component["updated_at"])


def test_incidents_have_the_statuspage_fields(client: TestClient, story: dict[str, str]) -> None:
    [shown] = document(client, "incidents/unresolved.json")["incidents"]
    page_id = document(client, "status.json")["page"]["id"]
    assert shown["name"] == "Partial outage of API"
    assert shown["status"] == "identified"
    assert shown["impact"] == "major"
    assert shown["page_id"] == page_id
    assert shown["shortlink"] == f"{BASE}/incidents/{story['open']}"
    assert shown["created_at"] == "2026-11-27T05:00:00.000-05:00"
    assert shown["started_at"] == "2026-11-27T05:00:00.000-05:00"
    assert shown["updated_at"] == "2026-11-27T05:12:00.000-05:00"
    assert (shown["monitoring_at"], shown["resolved_at"]) == (None, None)
    assert [c["name"] for c in shown["components"]] == ["API"]
    assert "scheduled_for" not in shown
    newer, older = shown["incident_updates"]
    assert newer["status"] == "identified"
    assert newer["body"] == "We found a bad load balancer."
    assert newer["incident_id"] == story["open"]
    assert newer["display_at"] == "2026-11-27T05:12:00.000-05:00"
    assert newer["affected_components"] is None
    assert newer["deliver_notifications"] is True
    assert (newer["custom_tweet"], newer["tweet_id"]) == (None, None)
    api_id = shown["components"][0]["id"]
    assert older["affected_components"] == [
        {
            "code": api_id,
            "name": "API",
            "old_status": "operational",
            "new_status": "partial_outage",
        }
    ]
    resolved = next(
        i for i in document(client, "incidents.json")["incidents"] if i["id"] == story["resolved"]
    )
    assert resolved["status"] == "resolved"
    assert resolved["impact"] == "critical"
    assert resolved["resolved_at"] == "2026-11-26T05:40:00.000-05:00"


def test_incidents_json_holds_the_50_most_recent(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    made = []
    for number in range(53):
        clock.advance(timedelta(minutes=1))
        made.append(post(client, people.responder, f"Post {number}.")["status_incident"])
    listed = [i["id"] for i in document(client, "incidents.json")["incidents"]]
    assert listed == made[::-1][:50]
    # Every one is still open, and open incidents are never left out.
    unresolved = [i["id"] for i in document(client, "incidents/unresolved.json")["incidents"]]
    assert unresolved == made[::-1]


def test_maintenance_documents_are_empty_lists(client: TestClient, story: dict[str, str]) -> None:
    for name in DOCUMENTS:
        if name.startswith("scheduled-maintenances"):
            assert document(client, name)["scheduled_maintenances"] == []


@pytest.mark.parametrize("feed", FEEDS)
def test_feeds_parse_cleanly_with_one_entry_per_incident(
    client: TestClient, story: dict[str, str], feed: str
) -> None:
    parsed = parse_feed(public(client, f"/{feed}").content)
    assert parsed.version == ("atom10" if feed.endswith("atom") else "rss20")
    assert parsed.feed.title == "Acme Cloud Status - Incident History"
    assert parsed.feed.link == BASE
    assert [e.title for e in parsed.entries] == [
        "Partial outage of API",
        "Major outage of Checkout",
    ]
    assert [e.link for e in parsed.entries] == [
        f"{BASE}/incidents/{story['open']}",
        f"{BASE}/incidents/{story['resolved']}",
    ]
    assert all(e.id.startswith("tag:status.acme.test,2005:Incident/") for e in parsed.entries)
    published = [calendar.timegm(e.published_parsed) for e in parsed.entries]
    assert published == [int(T0.timestamp()), int((T0 - timedelta(days=1)).timestamp())]
    content = [e.content[0].value if feed.endswith("atom") else e.summary for e in parsed.entries]
    first_word = [re.search(r"<strong>([^<]+)</strong>", c) for c in content]
    assert [m.group(1) if m else None for m in first_word] == ["Identified", "Resolved"]
    assert "Nov 27, 2026 - 05:12 EST" in content[0]
    assert content[0].index("We found a bad load balancer.") < content[0].index(
        "API requests fail for some customers."
    )


def test_the_atom_feed_is_dated_by_its_latest_update(
    client: TestClient, story: dict[str, str]
) -> None:
    raw = public(client, "/history.atom").content
    assert raw.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert b"<updated>2026-11-27T05:12:00-05:00</updated>" in raw
    parsed = parse_feed(raw)
    assert parsed.feed.id == "tag:status.acme.test,2005:/history"
    links = {(link.rel, link.href) for link in parsed.feed.links}
    assert ("self", f"{BASE}/history.atom") in links


def test_an_empty_page_has_empty_feeds(client: TestClient) -> None:
    for feed in FEEDS:
        assert parse_feed(public(client, f"/{feed}").content).entries == []


# Hostile text

HOSTILE = (
    "<script>alert('x')</script> & <b>bold</b> \"quoted\" 'single' "
    "ünïcödé 日本語 مرحبا 🔥👩‍💻 \U0001d518 {{ 7*7 }} ]]> &amp; &#x41;"
)


def test_hostile_text_is_escaped_in_html_and_exact_in_json_and_feeds(
    client: TestClient, people: People
) -> None:
    add_component(client, people.admin, "API")
    made = post(
        client,
        people.responder,
        f"Line one: {HOSTILE}\r\nLine two.",
        title=f"Title {HOSTILE}",
        components={"API": "major_outage"},
    )
    shown_id = made["status_incident"]
    for path in ("/", "/history", f"/incidents/{shown_id}"):
        page = public(client, path).text
        assert "<script>alert" not in page, path
        assert "<b>bold</b>" not in page, path
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page, path
        assert "&amp;amp; &amp;#x41;" in page, path
        assert f"Title {HOSTILE}" in html.unescape(page), path
    [incident] = document(client, "incidents.json")["incidents"]
    assert incident["name"] == f"Title {HOSTILE}"
    assert incident["incident_updates"][0]["body"] == f"Line one: {HOSTILE}\r\nLine two."
    raw = public(client, "/api/v2/incidents.json").content
    assert json.loads(raw)["incidents"][0]["name"] == f"Title {HOSTILE}"
    for feed in FEEDS:
        parsed = parse_feed(public(client, f"/{feed}").content)
        [entry] = parsed.entries
        assert entry.title == f"Title {HOSTILE}"
        content = entry.content[0].value if feed.endswith("atom") else entry.summary
        # The HTML content holds the message as text: feedparser's sanitiser has nothing to drop.
        assert "&lt;script&gt;" in content
        assert "ünïcödé 日本語" in content
        assert "Line two." in content


def test_control_characters_keep_the_json_valid_and_the_feeds_parseable(
    client: TestClient, people: People
) -> None:
    message = "Bell\x07 escape\x1b[31m vtab\x0b del\x7f c1\x85 ls\u2028ps\u2029 bom\ufeff end"
    made = post(client, people.responder, message, title="Odd\x0bcharacters\x1b")
    [incident] = document(client, "incidents.json")["incidents"]
    assert incident["name"] == "Odd\x0bcharacters\x1b"
    assert incident["incident_updates"][0]["body"] == message
    for feed in FEEDS:
        # XML cannot hold these characters: the feeds leave them out.
        [entry] = parse_feed(public(client, f"/{feed}").content).entries
        assert entry.title == "Oddcharacters"
    for path in ("/", f"/incidents/{made['status_incident']}"):
        assert "Bell\x07 escape" in public(client, path).text  # the HTML shows what was posted
    public(client, "/history")


def test_a_lone_surrogate_is_refused_and_the_page_keeps_working(
    client: TestClient, people: People
) -> None:
    raw = '{"new": true, "status": "investigating", "message": "broken \\ud800 text"}'
    answer = client.post(
        "/api/v1/statuspage/posts",
        content=raw.encode(),
        headers={**people.responder, "Content-Type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "message"
    for path in ("/", "/api/v2/summary.json", "/history.atom"):
        public(client, path)
    assert document(client, "incidents.json")["incidents"] == []
