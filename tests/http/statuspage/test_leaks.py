"""Nothing internal reaches the public: pages, JSON, feeds, the export, subscriber mail.

An incident is run with a distinctive marker in everything internal (its
title, impact, theory, next action, a note, an internal update, the names,
handles and addresses of its responders, a linked service, an unpublished
component in its own group) and posted to the status page. Then every public
artefact is searched for every marker.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import make_user
from tests.http.api import Headers, People, bearer
from tests.http.statuspage import (
    API,
    add_component,
    build_worker,
    drain,
    every_public_body,
    header,
    leaked,
    link_path,
    links_in,
    no_cache_delay,
    ok,
    pages_of,
    post,
    public,
    unpublish,
)
from tests.smtp import Inbox, body_of, smtp_server
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.notify import service as notify_service
from warroom.settings import Settings
from warroom.statuspage import export
from warroom.users import service as user_service

PUBLIC_TEXT = "Customers may see failed payments; we are investigating."


@dataclass
class Story:
    ref: str
    markers: list[str]
    poster: Headers
    status_incident: str


@pytest.fixture
def inbox() -> Iterator[tuple[str, Inbox]]:
    with smtp_server() as server:
        yield server


def marked_people(sessions: SessionFactory, clock: FixedClock) -> dict[str, str]:
    """Three responders with marker names, handles and addresses: their tokens."""
    tokens = {}
    with unit_of_work(sessions) as session:
        for handle in ("zqxcommander", "zqxtechlead", "zqxcomms"):
            user = make_user(session, clock.now(), handle)
            user.name = f"Zqxname {handle.removeprefix('zqx').title()}"
            user.email = f"{handle}@zqx-corp.example"
            notify_service.add_contact(
                session=session, now=clock.now(), user=user, kind="email", target=user.email
            )
            tokens[handle] = user_service.create_token(
                session=session, now=clock.now(), user=user, name="tests"
            )
    return tokens


@pytest.fixture
def story(
    client: TestClient,
    app: FastAPI,
    people: People,
    sessions: SessionFactory,
    clock: FixedClock,
) -> Story:
    no_cache_delay(app)
    tokens = marked_people(sessions, clock)
    commander = bearer(tokens["zqxcommander"])
    ok(
        client.post(
            "/api/v1/services",
            json={"slug": "zqx-payments-svc", "name": "Zqx Payments Service"},
            headers=people.admin,
        ),
        201,
    )
    add_component(client, people.admin, "Checkout API", group="Shop", service="zqx-payments-svc")
    add_component(client, people.admin, "Search", group="Shop", service="search")
    hidden = add_component(
        client, people.admin, "Zqx-Unpublished Ledger", group="Zqx-Hidden Group", service="checkout"
    )
    sibling = add_component(client, people.admin, "Zqx-Unpublished Sibling", group="Shop")
    unpublish(sessions, "Zqx-Unpublished Ledger")
    unpublish(sessions, "Zqx-Unpublished Sibling")

    incident = ok(
        client.post(
            "/api/v1/incidents",
            json={
                "title": "Zqx-Title db-primary-07 failover after bad config push",
                "severity": 1,
                "services": ["zqx-payments-svc", "checkout"],
                "commander": "zqxcommander",
                "customer_impact": "Zqx-Impact 12% of card payments time out",
            },
            headers=commander,
        ),
        201,
    )
    ref = incident["ref"]
    roles = {"tech_lead": "zqxtechlead", "comms": "zqxcomms"}
    ok(client.post(f"/api/v1/incidents/{ref}/roles", json=roles, headers=commander))
    ok(
        client.patch(
            f"/api/v1/incidents/{ref}",
            json={
                "current_theory": "Zqx-Theory connection pool exhausted on db-07",
                "next_action": "Zqx-Action roll back config 4411",
            },
            headers=commander,
        )
    )
    note = {"text": "Zqx-Note paged zqxtechlead at home, customer ACME-BANK escalated"}
    ok(client.post(f"/api/v1/incidents/{ref}/notes", json=note, headers=commander), 201)
    update = {
        "impact": "Zqx-UpdImpact ACME-BANK cannot settle",
        "theory": "Zqx-UpdTheory pool size 50 too small",
        "next_action": "Zqx-UpdAction raise to 150",
        "eta": "20m",
    }
    ok(client.post(f"/api/v1/incidents/{ref}/updates", json=update, headers=commander), 201)

    first = post(
        client,
        commander,
        PUBLIC_TEXT,
        incident=ref,
        components={"Checkout API": "major_outage"},
    )
    for minutes, status in ((10, "identified"), (25, "monitoring"), (50, "resolved")):
        clock.advance(timedelta(minutes=minutes))
        post(
            client,
            bearer(tokens["zqxcomms"]),
            f"Public {status} update.",
            incident=ref,
            status=status,
        )
    # A missed promise and a late note on the internal timeline, too.
    post(client, commander, "It is back.", incident=ref, components={"Search": "partial_outage"})
    clock.advance(timedelta(hours=2))
    markers = [
        "Zqx-",  # every internal text above carries it
        "Zqxname",
        "db-07",
        "db-primary",
        "ACME-BANK",
        "4411",
        "pool",
        "config push",
        ref,
        "INC-",
        "zqxcommander",
        "zqxtechlead",
        "zqxcomms",
        "zqx-corp.example",
        "zqx-payments-svc",
        "Payments Service",
        "Hidden Group",
        "Unpublished",
        hidden["id"],
        sibling["id"],
        "Rita",
        "ada@example.com",
        "status_posted",
        "severity",
        "SEV-1",
    ]
    return Story(ref, markers, commander, first["status_incident"])


def test_the_markers_are_there_internally(client: TestClient, people: People, story: Story) -> None:
    """The search below finds nothing public because nothing is, not because nothing exists."""
    internal = str(
        client.get(f"/api/v1/incidents/{story.ref}?timeline=true", headers=people.viewer).json()
    )
    for marker in ("Zqx-Title", "Zqx-Theory", "Zqx-Note", "zqxcomms", "status_posted"):
        assert marker in internal
    listed = ok(client.get(f"{API}/components", headers=people.viewer))
    assert {c["name"]: c["published"] for c in listed}["Zqx-Unpublished Ledger"] is False


def test_no_public_page_json_or_feed_shows_anything_internal(
    client: TestClient, app: FastAPI, story: Story
) -> None:
    bodies = every_public_body(client, app)
    assert len(bodies) >= 2 * (2 + 2 + 2 + 8 + 1)
    assert leaked(story.markers, bodies) == []
    # It is all there for customers, though.
    assert PUBLIC_TEXT in bodies["/api/v2/incidents.json"]
    assert PUBLIC_TEXT in bodies[f"/incidents/{story.status_incident}"]
    assert "Public resolved update." in bodies["/history.atom"]
    assert "Major outage of Checkout API" in bodies["/history.rss"]
    assert "Checkout API" in bodies["/subscribe"]


def test_sign_up_pages_and_their_errors_show_nothing_internal(
    client: TestClient, app: FastAPI, story: Story
) -> None:
    texts = {
        "form": client.get("/status/subscribe").text,
        "bad email": client.post("/status/subscribe", data={"email": "nobody"}).text,
        "bad component": client.post(
            "/status/subscribe", data={"email": "a@example.com", "component": "zzzzzzzzzzzz"}
        ).text,
        "bad link": client.get("/status/unsubscribe/1/nonsense").text,
    }
    assert leaked(story.markers, texts) == []


def test_the_static_export_shows_nothing_internal(
    client: TestClient, app: FastAPI, story: Story, tmp_path: Path
) -> None:
    public(client, "/")
    snapshot = pages_of(app).snapshot
    assert snapshot is not None
    written = export.export(
        snapshot, tmp_path, base="https://status.example.com", host="status.example.com"
    )
    assert len(written) >= 2 + 2 + 2 + 8
    texts = {str(path.relative_to(tmp_path)): path.read_text() for path in written}
    assert leaked(story.markers, texts) == []
    assert PUBLIC_TEXT in texts["api/v2/incidents.json"]


def test_subscriber_mail_shows_nothing_internal(
    client: TestClient,
    app: FastAPI,
    people: People,
    settings: Settings,
    sessions: SessionFactory,
    clock: FixedClock,
    inbox: tuple[str, Inbox],
    story: Story,
) -> None:
    smtp_url, mail = inbox
    worker = build_worker(settings, sessions, clock, smtp_url)
    drain(worker)  # the incident's own mail (reminders to its roles) goes first
    seen = len(mail.messages)
    assert client.post("/status/subscribe", data={"email": "cust@example.com"}).status_code == 202
    drain(worker)
    [confirm] = mail.to("cust@example.com")
    [link] = [u for u in links_in(body_of(confirm)) if "/status/subscribe/" in u]
    assert client.post(link_path(link)).status_code == 200
    ref = story.ref
    for status in ("investigating", "identified", "resolved"):
        post(client, story.poster, f"Public {status} again.", incident=ref, status=status)
    drain(worker)
    sent = mail.to("cust@example.com")
    assert len(sent) == 4
    texts: dict[str, str] = {}
    for number, message in enumerate(sent):
        texts[f"mail {number}"] = message.as_string() + body_of(message)
        texts[f"subject {number}"] = header(message, "Subject")
    markers = [m for m in story.markers if m != "severity"]
    assert leaked(markers, texts) == []
    assert "Public identified again." in texts["mail 2"]
    # The incident's own reminders did go out, to its people, and they do name things.
    internal = {m["To"]: m["Subject"] for m in mail.messages if m["To"] != "cust@example.com"}
    assert "zqxcomms@zqx-corp.example" in internal, internal
    assert any("Zqx-Title" in body_of(m) for m in mail.messages[:seen])


def test_a_post_carries_only_what_its_author_wrote_for_customers(
    client: TestClient, people: People, story: Story
) -> None:
    listed: list[dict[str, Any]] = ok(client.get(f"{API}/incidents", headers=people.viewer))
    titles = {i["title"] for i in listed}
    assert titles == {"Major outage of Checkout API", "Partial outage of Search"}
    assert leaked(story.markers[:8], {"titles": str(titles)}) == []
