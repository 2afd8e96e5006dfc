"""Email subscribers: double opt-in, per-component choice, one-click unsubscribe, the worker.

Sign-up and links go through the HTTP app; mail goes out through the outbox
and the worker to a real SMTP server (aiosmtpd), as in production. The
worker shares the app's settings (secret, base URL), so the links it writes
work against the app here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import Message
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.http.api import People, declare
from tests.http.statuspage import (
    API,
    STATUS,
    add_component,
    build_worker,
    drain,
    header,
    link_path,
    links_in,
    no_cache_delay,
    ok,
    post,
    status_incidents,
    strip_tags,
    unpublish,
)
from tests.smtp import Inbox, body_of, smtp_server
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.outbox.models import OutboxMessage
from warroom.settings import Settings
from warroom.statuspage.models import Subscriber
from warroom.statuspage.subscribers import SUBSCRIBER_MAIL
from warroom.worker.cycle import Worker

SUBSCRIBE = f"{STATUS}/subscribe"


@pytest.fixture(autouse=True)
def _current_pages(app: FastAPI) -> None:
    no_cache_delay(app)


@pytest.fixture
def inbox() -> Iterator[tuple[str, Inbox]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def worker(
    settings: Settings, sessions: SessionFactory, clock: FixedClock, inbox: tuple[str, Inbox]
) -> Worker:
    return build_worker(settings, sessions, clock, inbox[0])


@pytest.fixture
def mail(inbox: tuple[str, Inbox]) -> Inbox:
    return inbox[1]


@pytest.fixture
def components(client: TestClient, people: People) -> dict[str, str]:
    """Published components Checkout, Search and API, and an unpublished Billing: public ids."""
    made = {
        name: add_component(client, people.admin, name)["id"]
        for name in ("Checkout", "Search", "API", "Billing")
    }
    return made


def subscribe(client: TestClient, email: str, *components: str) -> Any:
    data: dict[str, Any] = {"email": email}
    if components:
        data["component"] = list(components)
    return client.post(SUBSCRIBE, data=data)


def text_of(message: Message) -> str:
    return body_of(message).replace("\r\n", "\n")


def reminders(mail: Inbox, email: str) -> list[Message]:
    """Status page reminders only (the incident's internal update reminders go there too)."""
    return [m for m in mail.to(email) if "status page update" in m["Subject"]]


def confirmation_link(message: Message) -> str:
    [link] = [url for url in links_in(text_of(message)) if "/status/subscribe/" in url]
    return link


def signed_up(
    client: TestClient, worker: Worker, mail: Inbox, email: str, *components: str
) -> None:
    """Subscribe, then confirm with the link of the confirmation mail."""
    seen = len(mail.to(email))
    assert subscribe(client, email, *components).status_code == 202
    drain(worker)
    confirm = mail.to(email)[seen:]
    assert len(confirm) == 1, [m["Subject"] for m in confirm]
    answer = client.post(link_path(confirmation_link(confirm[0])))
    assert answer.status_code == 200, answer.text
    assert "Subscribed" in answer.text


def posts_to(mail: Inbox, email: str) -> list[Message]:
    return [m for m in mail.to(email) if not m["Subject"].startswith("Confirm")]


# Sign-up


def test_the_sign_up_form_offers_only_published_components(
    client: TestClient, sessions: SessionFactory, components: dict[str, str]
) -> None:
    unpublish(sessions, "Billing")
    page = client.get(SUBSCRIBE)  # no sign-in
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "Get status updates by email" in strip_tags(page.text)
    assert '<form method="post">' in page.text
    assert 'name="email" type="email"' in page.text
    offered = re.findall(r'name="component" value="([a-z0-9]{12})"> ([^<]+)<', page.text)
    assert offered == [
        (components["Checkout"], "Checkout"),
        (components["Search"], "Search"),
        (components["API"], "API"),
    ]
    assert "Billing" not in page.text
    assert "nothing else until you confirm" in page.text


def test_signing_up_sends_one_confirmation_mail_and_nothing_else(
    client: TestClient, people: People, worker: Worker, mail: Inbox, components: dict[str, str]
) -> None:
    answer = subscribe(client, " Cust@Example.COM ")
    assert answer.status_code == 202
    assert "Check your inbox" in answer.text
    drain(worker)
    [confirm] = mail.to("cust@example.com")
    assert confirm["Subject"] == "Confirm your warroom status subscription"
    link = confirmation_link(confirm)
    assert link.startswith("http://127.0.0.1:8080/status/subscribe/")
    assert confirm["List-Unsubscribe"] is None
    # Until confirmed, posts do not reach the address.
    post(client, people.responder, "Checkout errors.", components={"Checkout": "major_outage"})
    drain(worker)
    assert len(mail.to("cust@example.com")) == 1


def test_following_the_link_shows_a_button_and_only_the_post_confirms(
    client: TestClient, people: People, worker: Worker, mail: Inbox, components: dict[str, str]
) -> None:
    assert subscribe(client, "cust@example.com").status_code == 202
    drain(worker)
    path = link_path(confirmation_link(mail.to("cust@example.com")[0]))
    shown = client.get(path)
    assert shown.status_code == 200
    assert "Confirm your subscription" in shown.text
    assert '<button type="submit">Confirm</button>' in shown.text
    post(client, people.responder, "Checkout errors.")
    drain(worker)
    assert posts_to(mail, "cust@example.com") == []  # a mail scanner's GET confirms nothing

    assert client.post(path).status_code == 200
    assert client.post(path).status_code == 200  # twice is harmless
    post(client, people.responder, "Search errors.")
    drain(worker)
    [update] = posts_to(mail, "cust@example.com")
    assert "Search errors." in text_of(update)


def test_a_post_mail_says_what_happened_with_a_one_click_unsubscribe(
    client: TestClient,
    people: People,
    worker: Worker,
    mail: Inbox,
    clock: FixedClock,
    components: dict[str, str],
) -> None:
    signed_up(client, worker, mail, "cust@example.com")
    ref = declare(client, people.responder)["ref"]
    made = post(
        client,
        people.responder,
        "Some payments fail. We are on it.",
        incident=ref,
        components={"Checkout": "partial_outage", "API": "degraded_performance"},
    )
    drain(worker)
    [update] = posts_to(mail, "cust@example.com")
    assert update["Subject"] == "[warroom] Partial outage of Checkout and API: Investigating"
    text = text_of(update)
    assert text.startswith("Investigating: Partial outage of Checkout and API\n")
    assert "Some payments fail. We are on it." in text
    assert "- Checkout: partial outage" in text
    assert "- API: degraded performance" in text
    details = f"http://127.0.0.1:8080/status/incidents/{made['status_incident']}"
    assert f"Details: {details}" in text
    leave = re.search(r"Unsubscribe: (\S+)", text)
    assert leave is not None
    assert header(update, "List-Unsubscribe") == f"<{leave.group(1)}>"
    assert header(update, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert leave.group(1).startswith("http://127.0.0.1:8080/status/unsubscribe/")
    # The details link works for anyone.
    assert client.get(link_path(details)).status_code == 200

    clock.advance(timedelta(minutes=10))
    post(client, people.responder, "Fixed.", incident=ref, status="resolved")
    drain(worker)
    second = posts_to(mail, "cust@example.com")[1]
    assert second["Subject"] == "[warroom] Partial outage of Checkout and API: Resolved"
    assert second["Message-ID"] != update["Message-ID"]


def test_an_address_that_bounces_three_posts_in_a_row_gets_no_more_until_confirmed_again(
    client: TestClient,
    people: People,
    worker: Worker,
    mail: Inbox,
    clock: FixedClock,
    components: dict[str, str],
    sessions: SessionFactory,
) -> None:
    for email in ("gone@example.com", "busy@example.com", "ok@example.com"):
        signed_up(client, worker, mail, email)
    mail.unknown.add("gone@example.com")
    mail.busy.add("busy@example.com")
    ref = declare(client, people.responder)["ref"]

    def post_and_deliver(message: str) -> None:
        clock.advance(timedelta(minutes=10))
        post(client, people.responder, message, incident=ref, components={"API": "major_outage"})
        drain(worker)

    for n in range(1, 4):
        post_and_deliver(f"Update {n}.")
        assert len(posts_to(mail, "ok@example.com")) == n
        assert bounce_state(sessions, "gone@example.com")[0] == n
    assert bounce_state(sessions, "gone@example.com")[1] is not None  # suppressed
    # "Try later" is no bounce: those mails wait for a retry instead.
    assert bounce_state(sessions, "busy@example.com") == (0, None)
    queued = mail_jobs(sessions)
    post_and_deliver("Update 4.")
    assert len(posts_to(mail, "ok@example.com")) == 4
    assert [e for e, _ in mail_jobs(sessions)[len(queued) :]].count("gone@example.com") == 0

    # Its owner signs up again and follows the link: posts come back.
    mail.unknown.clear()
    signed_up(client, worker, mail, "gone@example.com")
    assert bounce_state(sessions, "gone@example.com") == (0, None)
    post_and_deliver("Update 5.")
    assert [m["Subject"].split(": ")[-1] for m in posts_to(mail, "gone@example.com")] == [
        "Investigating"
    ]


def bounce_state(sessions: SessionFactory, email: str) -> tuple[int, datetime | None]:
    with unit_of_work(sessions, write=False) as session:
        found = session.scalars(select(Subscriber).where(Subscriber.email == email)).one()
        return found.bounces, found.suppressed_at


def mail_jobs(sessions: SessionFactory) -> list[tuple[str, str]]:
    """(address, status) of every subscriber mail job, oldest first."""
    with unit_of_work(sessions, write=False) as session:
        rows = session.execute(
            select(Subscriber.email, OutboxMessage.status)
            .join(OutboxMessage, OutboxMessage.kind == SUBSCRIBER_MAIL)
            .where(OutboxMessage.payload["subscriber_id"].as_integer() == Subscriber.id)
            .order_by(OutboxMessage.id)
        )
        return [(email, status) for email, status in rows]


def test_the_one_click_post_unsubscribes_and_the_get_only_shows_a_button(
    client: TestClient, people: People, worker: Worker, mail: Inbox, components: dict[str, str]
) -> None:
    signed_up(client, worker, mail, "cust@example.com")
    post(client, people.responder, "First.")
    drain(worker)
    [first] = posts_to(mail, "cust@example.com")
    path = link_path(header(first, "List-Unsubscribe").strip("<>"))

    shown = client.get(path)
    assert shown.status_code == 200
    assert '<button type="submit">Unsubscribe</button>' in shown.text
    post(client, people.responder, "Second.")
    drain(worker)
    assert len(posts_to(mail, "cust@example.com")) == 2  # the GET changed nothing

    # What a mail client sends for RFC 8058 one-click: a form POST to the link.
    gone = client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert gone.status_code == 200
    assert "Unsubscribed" in gone.text
    post(client, people.responder, "Third.")
    drain(worker)
    assert len(posts_to(mail, "cust@example.com")) == 2
    # A second click still answers kindly; the confirmation link is dead now.
    assert client.post(path).status_code == 200
    confirm = link_path(confirmation_link(mail.to("cust@example.com")[0]))
    assert client.post(confirm).status_code == 404


def test_mail_waiting_for_a_retry_is_not_sent_after_the_subscriber_left(
    client: TestClient,
    people: People,
    worker: Worker,
    mail: Inbox,
    clock: FixedClock,
    components: dict[str, str],
) -> None:
    signed_up(client, worker, mail, "cust@example.com")
    post(client, people.responder, "First.")
    drain(worker)
    [first] = posts_to(mail, "cust@example.com")
    leave = link_path(header(first, "List-Unsubscribe").strip("<>"))
    mail.refuse = True  # the SMTP server answers 451: the mail waits for a retry
    post(client, people.responder, "Second.")
    drain(worker)
    assert client.post(leave).status_code == 200
    mail.refuse = False
    clock.advance(timedelta(hours=1))
    drain(worker)
    assert [text_of(m).count("Second.") for m in posts_to(mail, "cust@example.com")] == [0]


def test_subscribers_choose_components(
    client: TestClient, people: People, worker: Worker, mail: Inbox, components: dict[str, str]
) -> None:
    signed_up(client, worker, mail, "checkout@example.com", components["Checkout"])
    signed_up(
        client, worker, mail, "search-api@example.com", components["Search"], components["API"]
    )
    signed_up(client, worker, mail, "all@example.com")

    post(client, people.responder, "Search is slow.", components={"Search": "degraded_performance"})
    post(client, people.responder, "Checkout fails.", components={"Checkout": "major_outage"})
    post(client, people.responder, "Something odd, unsure what.")
    drain(worker)

    def read(email: str) -> list[str]:
        return sorted(text_of(m).split("\n")[2] for m in posts_to(mail, email))

    assert read("checkout@example.com") == ["Checkout fails."]
    assert read("search-api@example.com") == ["Search is slow."]
    assert read("all@example.com") == [
        "Checkout fails.",
        "Search is slow.",
        "Something odd, unsure what.",
    ]


def test_a_later_post_reaches_those_who_chose_any_component_of_the_incident(
    client: TestClient, people: People, worker: Worker, mail: Inbox, components: dict[str, str]
) -> None:
    signed_up(client, worker, mail, "api@example.com", components["API"])
    ref = declare(client, people.responder)["ref"]
    post(client, people.responder, "API down.", incident=ref, components={"API": "major_outage"})
    post(client, people.responder, "Found it.", incident=ref, status="identified")
    post(client, people.responder, "Fixed.", incident=ref, status="resolved")
    drain(worker)
    subjects = [m["Subject"] for m in posts_to(mail, "api@example.com")]
    assert subjects == [
        "[warroom] Major outage of API: Investigating",
        "[warroom] Major outage of API: Identified",
        "[warroom] Major outage of API: Resolved",
    ]


def test_signing_up_again_before_confirming_changes_the_choice(
    client: TestClient,
    people: People,
    worker: Worker,
    mail: Inbox,
    clock: FixedClock,
    components: dict[str, str],
) -> None:
    assert subscribe(client, "cust@example.com", components["Checkout"]).status_code == 202
    drain(worker)
    clock.advance(timedelta(seconds=5))
    signed_up(client, worker, mail, "cust@example.com", components["Search"])
    assert len(mail.to("cust@example.com")) == 2  # a confirmation each time
    post(client, people.responder, "Checkout down.", components={"Checkout": "major_outage"})
    post(client, people.responder, "Search down.", components={"Search": "major_outage"})
    drain(worker)
    assert ["Search down." in text_of(m) for m in posts_to(mail, "cust@example.com")] == [True]


def test_a_confirmed_subscriber_can_change_the_choice_by_signing_up_again(
    client: TestClient,
    people: People,
    worker: Worker,
    mail: Inbox,
    clock: FixedClock,
    components: dict[str, str],
) -> None:
    signed_up(client, worker, mail, "cust@example.com")  # everything
    clock.advance(timedelta(seconds=5))
    signed_up(client, worker, mail, "cust@example.com", components["Search"])  # only Search
    post(client, people.responder, "Checkout down.", components={"Checkout": "major_outage"})
    drain(worker)
    assert posts_to(mail, "cust@example.com") == []


def test_a_new_choice_waits_for_the_owner_to_confirm_it(
    client: TestClient,
    people: People,
    worker: Worker,
    mail: Inbox,
    clock: FixedClock,
    components: dict[str, str],
) -> None:
    """Anyone may type a subscriber's address: until the link is followed nothing changes,
    and a link whose choice was edited is refused."""
    signed_up(client, worker, mail, "cust@example.com", components["Checkout"])
    clock.advance(timedelta(seconds=5))
    assert subscribe(client, "cust@example.com", components["Search"]).status_code == 202
    drain(worker)
    link = link_path(confirmation_link(mail.to("cust@example.com")[-1]))
    choice, _signature = link.rsplit("/", 1)[1].split(".")
    assert choice == components["Search"]
    forged = link.replace(f"{choice}.", f"{components['Checkout']}-{choice}.")
    assert client.post(forged).status_code == 404
    post(client, people.responder, "Checkout down.", components={"Checkout": "major_outage"})
    drain(worker)
    assert ["Checkout down." in text_of(m) for m in posts_to(mail, "cust@example.com")] == [True]


# Refusals


BAD_EMAILS = [
    "",
    "not-an-email",
    "two@@example.com",
    "a@b",
    "spaces in@example.com",
    "<a@example.com>",
    "a@example.com\r\nBcc: victim@example.com",
    "a@example.com, b@example.com",
    "x" * 65 + "@example.com",
]


def test_bad_emails_are_refused_and_nothing_is_sent(
    client: TestClient, worker: Worker, mail: Inbox
) -> None:
    for email in BAD_EMAILS:
        answer = subscribe(client, email)
        assert answer.status_code == 422, email
        assert "that is not an email address" in answer.text
        assert '<form method="post">' in answer.text  # the form again, to correct it
    assert client.post(SUBSCRIBE, data={}).status_code == 422
    drain(worker)
    assert mail.messages == []


def test_unknown_and_unpublished_components_are_refused(
    client: TestClient,
    sessions: SessionFactory,
    worker: Worker,
    mail: Inbox,
    components: dict[str, str],
) -> None:
    unpublish(sessions, "Billing")
    for chosen in (["nosuchthing1"], [components["Billing"]], [components["API"], "zzzzzzzzzzzz"]):
        answer = subscribe(client, "cust@example.com", *chosen)
        assert answer.status_code == 422, chosen
        assert "unknown component" in answer.text
        assert "Billing" not in answer.text
    drain(worker)
    assert mail.messages == []


def test_a_form_that_is_too_large_is_refused(
    client: TestClient, worker: Worker, mail: Inbox
) -> None:
    answer = client.post(SUBSCRIBE, data={"email": "a@example.com", "x": "y" * 20_000})
    assert answer.status_code == 413
    drain(worker)
    assert mail.messages == []


def test_hostile_sign_up_input_is_escaped(client: TestClient, components: dict[str, str]) -> None:
    answer = client.post(
        SUBSCRIBE, data={"email": "<script>alert(1)</script>", "component": "<b>x</b>"}
    )
    assert answer.status_code == 422
    assert "<script>alert(1)</script>" not in answer.text
    assert "<b>x</b>" not in answer.text


def test_links_with_a_wrong_token_are_refused(
    client: TestClient, people: People, worker: Worker, mail: Inbox, components: dict[str, str]
) -> None:
    signed_up(client, worker, mail, "cust@example.com")
    assert subscribe(client, "other@example.com").status_code == 202
    drain(worker)
    post(client, people.responder, "First.")
    drain(worker)
    confirm = link_path(confirmation_link(mail.to("cust@example.com")[0]))
    leave = link_path(header(posts_to(mail, "cust@example.com")[0], "List-Unsubscribe").strip("<>"))
    _, _, _, subscriber, token = leave.split("/")
    other = link_path(confirmation_link(mail.to("other@example.com")[0])).split("/")[3]
    assert other != subscriber
    refused = [
        f"/status/unsubscribe/{subscriber}/{token[:-2]}AA",  # tampered
        f"/status/unsubscribe/{other}/{token}",  # someone else's subscription
        "/status/unsubscribe/" + "/".join(confirm.split("/")[3:]),  # a confirm token
        f"/status/subscribe/{subscriber}/{token}",  # an unsubscribe token to confirm
    ]
    for path in refused:
        for method in ("GET", "POST"):
            answer = client.request(method, path)
            assert answer.status_code == 404, (method, path)
            assert "not valid" in answer.text
    assert client.get(f"/status/unsubscribe/{subscriber}/").status_code in (404, 405)
    post(client, people.responder, "Second.")
    drain(worker)
    assert len(posts_to(mail, "cust@example.com")) == 2  # still subscribed
    assert posts_to(mail, "other@example.com") == []  # never confirmed


# The Comms Lead's reminder of the promised public update


def promised_by_bob(client: TestClient, people: People) -> str:
    """An incident whose Comms Lead, @bob (mail at bob@example.com), promised an update in
    30 minutes; its reference."""
    ok(
        client.post(
            "/api/v1/users/bob/contact-methods",
            json={"kind": "email", "target": "bob@example.com"},
            headers=people.admin,
        ),
        201,
    )
    ref: str = declare(client, people.responder)["ref"]
    ok(client.post(f"/api/v1/incidents/{ref}/roles", json={"comms": "bob"}, headers=people.admin))
    post(client, people.responder, "Down.", incident=ref, next_update_minutes=30)
    return ref


def test_the_comms_lead_is_reminded_before_the_promise_and_told_when_it_is_late(
    client: TestClient,
    people: People,
    worker: Worker,
    mail: Inbox,
    clock: FixedClock,
    components: dict[str, str],
) -> None:
    ref = promised_by_bob(client, people)
    drain(worker)
    assert reminders(mail, "bob@example.com") == []

    clock.advance(timedelta(minutes=24, seconds=59))
    drain(worker)
    assert reminders(mail, "bob@example.com") == []
    clock.advance(timedelta(seconds=1))  # 5 minutes before the promise
    drain(worker)
    [reminder] = reminders(mail, "bob@example.com")
    assert f"{ref}: status page update is due at 10:30 UTC" in reminder["Subject"]
    assert f"warroom statuspage post {ref}" in text_of(reminder)
    assert status_incidents(client, people.viewer)[0]["update_late"] is False

    clock.advance(timedelta(minutes=5, seconds=1))
    drain(worker)
    late = reminders(mail, "bob@example.com")[1]
    assert f"{ref}: status page update is overdue" in late["Subject"]
    assert status_incidents(client, people.viewer)[0]["update_late"] is True
    timeline = ok(client.get(f"/api/v1/incidents/{ref}/timeline", headers=people.viewer))
    assert "status_update_late" in [e["kind"] for e in timeline]


def test_a_post_in_time_cancels_the_reminders(
    client: TestClient,
    people: People,
    worker: Worker,
    mail: Inbox,
    clock: FixedClock,
    components: dict[str, str],
) -> None:
    ref = promised_by_bob(client, people)
    clock.advance(timedelta(minutes=20))
    post(client, people.responder, "Fixed.", incident=ref, status="resolved")
    clock.advance(timedelta(hours=2))
    drain(worker)
    assert reminders(mail, "bob@example.com") == []
    timeline = ok(client.get(f"/api/v1/incidents/{ref}/timeline", headers=people.viewer))
    assert "status_update_late" not in [e["kind"] for e in timeline]
    assert ok(client.get(f"{API}/incidents", headers=people.viewer))[0]["update_late"] is False
