"""History feeds: Atom and RSS as hosted pages publish them (protocols.md §3 "Feeds")."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import feedparser  # type: ignore[import-untyped]
import pytest

from warroom.statuspage.feeds import atom_feed, content_html, head_links, rss_feed
from warroom.statuspage.publish import IncidentView, PageInfo, UpdateView
from warroom.statuspage.rules import Impact, MaintenanceStatus, PostStatus

T0 = datetime(2024, 3, 10, 9, 30, 15, tzinfo=UTC)
PAGE = PageInfo("kctbh9vrtdwd", "Acme", "https://status.acme.test", "America/New_York", T0)
HOST = "status.acme.test"
BASE = "https://status.acme.test/"
FEEDS = [atom_feed, rss_feed]


def post(
    uid: str, status: PostStatus | MaintenanceStatus, at: datetime, body: str = "Text"
) -> UpdateView:
    return UpdateView(uid, status, body, at, at, at, [])


def incident(
    iid: str,
    number: int,
    at: datetime,
    updates: list[UpdateView],
    name: str | None = None,
    status: PostStatus | MaintenanceStatus = PostStatus.RESOLVED,
) -> IncidentView:
    return IncidentView(
        id=iid,
        name=name or f"Incident {number}",
        status=status,
        impact=Impact.MINOR,
        created_at=at,
        updated_at=updates[0].updated_at if updates else at,
        started_at=at,
        monitoring_at=None,
        resolved_at=None,
        shortlink="https://stspg.io/x",
        updates=updates,
        components=[],
        number=number,
    )


OLDER = incident(
    "aaaaaaaaaaaa",
    7,
    T0 - timedelta(days=40),
    [post("a1", PostStatus.RESOLVED, T0 - timedelta(days=40))],
)
NEWER = incident(
    "bbbbbbbbbbbb",
    8,
    T0,
    [
        post("b3", PostStatus.RESOLVED, T0 + timedelta(hours=2), "Fixed."),
        post("b2", PostStatus.IDENTIFIED, T0 + timedelta(hours=1), "Found it."),
        post("b1", PostStatus.INVESTIGATING, T0, "Looking."),
    ],
)


def parse(feed_bytes: bytes) -> Any:
    parsed = feedparser.parse(feed_bytes)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


@pytest.mark.parametrize(("build", "version"), [(atom_feed, "atom10"), (rss_feed, "rss20")])
def test_feed_parses_cleanly_and_round_trips(build, version):
    parsed = parse(build(PAGE, [OLDER, NEWER], host=HOST, base_url=BASE))
    assert parsed.version == version
    assert parsed.feed.title == "Acme Status - Incident History"
    assert parsed.feed.link == "https://status.acme.test"
    assert [e.title for e in parsed.entries] == ["Incident 8", "Incident 7"]
    assert [e.id for e in parsed.entries] == [
        "tag:status.acme.test,2005:Incident/8",
        "tag:status.acme.test,2005:Incident/7",
    ]
    assert [e.link for e in parsed.entries] == [
        "https://status.acme.test/incidents/bbbbbbbbbbbb",
        "https://status.acme.test/incidents/aaaaaaaaaaaa",
    ]
    published = [calendar.timegm(e.published_parsed) for e in parsed.entries]
    assert published == [int(NEWER.created_at.timestamp()), int(OLDER.created_at.timestamp())]


def test_atom_ids_and_updated_times():
    raw = atom_feed(PAGE, [OLDER, NEWER], host=HOST, base_url=BASE)
    parsed = parse(raw)
    assert parsed.feed.id == "tag:status.acme.test,2005:/history"
    latest = int((T0 + timedelta(hours=2)).timestamp())
    assert calendar.timegm(parsed.feed.updated_parsed) == latest
    assert calendar.timegm(parsed.entries[0].updated_parsed) == latest
    assert b"<published>2024-03-10T05:30:15-04:00</published>" in raw
    assert parsed.entries[0].content[0].type == "text/html"
    links = {(link.rel, link.href) for link in parsed.feed.links}
    assert ("self", "https://status.acme.test/history.atom") in links


def test_rss_dates_are_rfc_822_in_the_page_zone():
    raw = rss_feed(PAGE, [NEWER], host=HOST, base_url=BASE)
    assert b"<pubDate>Sun, 10 Mar 2024 05:30:15 -0400</pubDate>" in raw
    assert b'<guid isPermaLink="false">tag:status.acme.test,2005:Incident/8</guid>' in raw
    parsed = parse(raw)
    assert calendar.timegm(parsed.entries[0].published_parsed) == int(T0.timestamp())


def test_content_lists_updates_newest_first():
    html = content_html(NEWER, PAGE.zone)
    assert html == (
        "<p><small>Mar 10, 2024 - 07:30 EDT</small><br>"
        "<strong>Resolved</strong> - Fixed.</p>"
        "<p><small>Mar 10, 2024 - 06:30 EDT</small><br>"
        "<strong>Identified</strong> - Found it.</p>"
        "<p><small>Mar 10, 2024 - 05:30 EDT</small><br>"
        "<strong>Investigating</strong> - Looking.</p>"
    )
    for build in FEEDS:
        entry = parse(build(PAGE, [NEWER], host=HOST, base_url=BASE)).entries[0]
        text = entry.content[0].value if build is atom_feed else entry.summary
        assert text.index("Resolved") < text.index("Identified") < text.index("Investigating")


@pytest.mark.parametrize(
    ("statuses", "words"),
    [
        ([PostStatus.INVESTIGATING], ["Investigating"]),
        ([PostStatus.INVESTIGATING, PostStatus.INVESTIGATING], ["Update", "Investigating"]),
        ([PostStatus.MONITORING, PostStatus.IDENTIFIED], ["Monitoring", "Identified"]),
        ([PostStatus.POSTMORTEM, PostStatus.RESOLVED], ["Postmortem", "Resolved"]),
        (
            [MaintenanceStatus.COMPLETED, MaintenanceStatus.VERIFYING],
            ["Completed", "Verifying"],
        ),
        (
            [MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.SCHEDULED],
            ["In progress", "Scheduled"],
        ),
    ],
)
def test_status_words(statuses, words):
    posts = [post(f"p{n}", s, T0 - timedelta(minutes=n)) for n, s in enumerate(statuses)]
    html = content_html(incident("cccccccccccc", 1, T0, posts), PAGE.zone)
    assert [part.split("</strong>")[0] for part in html.split("<strong>")[1:]] == words


HOSTILE = "<script>alert('x')</script> & \"Ünïcødé\" ☃ \x00\x07\x1b\x7f\ufffe end"


@pytest.mark.parametrize("build", FEEDS)
def test_hostile_text_is_escaped_and_cleaned(build):
    body = f"{HOSTILE}\r\nsecond line ]]> <![CDATA[ x"
    nasty = incident(
        "dddddddddddd", 9, T0, [post("d1", PostStatus.INVESTIGATING, T0, body)], name=HOSTILE
    )
    page = PageInfo("kctbh9vrtdwd", "Acme & <Co>\x0b", BASE, "America/New_York", T0)
    raw = build(page, [nasty], host=HOST, base_url=BASE)
    ET.fromstring(raw)  # noqa: S314 - our own output; proves it is well-formed
    assert b"<script" not in raw
    assert not any(bad in raw for bad in (b"\x00", b"\x07", b"\x0b", b"\x1b", b"\x7f"))
    parsed = parse(raw)
    assert parsed.feed.title == "Acme & <Co> Status - Incident History"
    cleaned = "<script>alert('x')</script> & \"Ünïcødé\" ☃  end"
    assert parsed.entries[0].title == cleaned
    text = parsed.entries[0].content[0].value if build is atom_feed else parsed.entries[0].summary
    assert "&lt;script&gt;" in text
    assert "<script" not in text
    assert "☃" in text
    assert "second line ]]&gt; &lt;![CDATA[ x" in text


@pytest.mark.parametrize("build", FEEDS)
def test_empty_feed_is_valid(build):
    parsed = parse(build(PAGE, [], host=HOST, base_url=BASE))
    assert parsed.entries == []
    assert parsed.feed.title == "Acme Status - Incident History"


def test_entry_id_falls_back_to_the_api_id_without_a_number():
    unnumbered = incident("eeeeeeeeeeee", 0, T0, [post("e1", PostStatus.INVESTIGATING, T0)])
    parsed = parse(atom_feed(PAGE, [unnumbered], host=HOST, base_url=BASE))
    assert parsed.entries[0].id == "tag:status.acme.test,2005:Incident/eeeeeeeeeeee"


def test_head_links_advertise_both_feeds():
    assert head_links(PAGE, base_url=BASE) == [
        {
            "rel": "alternate",
            "type": "application/atom+xml",
            "href": "https://status.acme.test/history.atom",
            "title": "Acme Status History - Atom Feed",
        },
        {
            "rel": "alternate",
            "type": "application/rss+xml",
            "href": "https://status.acme.test/history.rss",
            "title": "Acme Status History - RSS Feed",
        },
    ]
