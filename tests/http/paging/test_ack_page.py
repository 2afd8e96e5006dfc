"""The one-click acknowledgement page every page links to: GET asks, POST acknowledges."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.conftest import T0
from tests.http.api import People, declare
from tests.http.paging import (
    API,
    add_contact,
    body_text,
    drain,
    feed_path,
    kinds,
    make_worker,
    ok,
    pages_of,
    policy,
    put_policy,
    spooled,
    texts,
)
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.notify.rules import sign_ack_token
from warroom.settings import Settings
from warroom.worker.cycle import Worker

FORM = '<form method="post">'


@pytest.fixture
def worker(settings: Settings, sessions: SessionFactory, clock: FixedClock) -> Worker:
    return make_worker(settings, sessions, clock)


def paged_incident(client: TestClient, people: People, title: str = "Checkout down") -> str:
    put_policy(client, people.admin, "checkout", policy(services=["checkout"]))
    ref: str = declare(client, people.responder, title=title, services=["checkout"])["ref"]
    return ref


def link(
    settings: Settings, page_id: int, handle: str = "bob", expires: datetime | None = None
) -> str:
    secret = settings.secret_key.encode()
    return f"/ack/{sign_ack_token(secret, page_id, handle, expires or T0 + timedelta(hours=1))}"


def page_id(client: TestClient, people: People, ref: str) -> int:
    [page] = pages_of(client, people.viewer, ref)
    found: int = page["id"]
    return found


def incident(client: TestClient, people: People, ref: str) -> dict[str, object]:
    result: dict[str, object] = ok(client.get(f"{API}/incidents/{ref}", headers=people.viewer))
    return result


def test_get_shows_the_incident_and_a_button_but_does_not_acknowledge(
    client: TestClient, people: People, settings: Settings
) -> None:
    ref = paged_incident(client, people)
    url = link(settings, page_id(client, people, ref))
    for _ in range(2):  # mail scanners fetch links, maybe more than once
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert FORM in response.text
        assert f"Acknowledge {ref} as @bob" in response.text
        assert f"{ref}: Checkout down" in response.text
        assert "SEV-1" in response.text
        assert "checkout" in response.text
    assert incident(client, people, ref)["acknowledged_at"] is None
    assert pages_of(client, people.viewer, ref)[0]["status"] == "active"
    assert "acknowledged" not in kinds(client, people.viewer, ref)


def test_post_acknowledges_as_the_paged_person_and_stops_paging(
    client: TestClient,
    people: People,
    settings: Settings,
    clock: FixedClock,
    worker: Worker,
) -> None:
    ref = paged_incident(client, people)
    drain(worker)
    clock.advance(timedelta(minutes=2))
    response = client.post(link(settings, page_id(client, people, ref)))
    assert response.status_code == 200
    assert f"{ref} is acknowledged by @bob. Paging stopped." in response.text
    assert FORM not in response.text
    shown = incident(client, people, ref)
    assert shown["acknowledged_by"] == "bob"
    assert texts(client, people.viewer, ref, "acknowledged") == [
        "Acknowledged by @bob via link in page"
    ]
    [page] = pages_of(client, people.viewer, ref)
    assert (page["status"], page["acknowledged_by"]) == ("acknowledged", "bob")
    assert texts(client, people.viewer, ref, "page_stopped") == [
        "Paging stopped: acknowledged by @bob from the page's link"
    ]
    clock.advance(timedelta(minutes=10))
    drain(worker)
    assert texts(client, people.viewer, ref, "paged") == ["Paged level 1: @bob"]  # not carol


def test_a_second_post_says_it_is_already_acknowledged(
    client: TestClient, people: People, settings: Settings
) -> None:
    ref = paged_incident(client, people)
    url = link(settings, page_id(client, people, ref))
    assert client.post(url).status_code == 200
    again = client.post(url)
    assert again.status_code == 200
    assert "Already acknowledged by @bob" in again.text
    assert FORM not in again.text
    shown = client.get(url)
    assert "Already acknowledged by @bob at 10:00 UTC" in shown.text
    assert FORM not in shown.text
    assert kinds(client, people.viewer, ref).count("acknowledged") == 1


def test_the_link_after_an_ack_in_the_api_names_who_acknowledged(
    client: TestClient, people: People, settings: Settings
) -> None:
    ref = paged_incident(client, people)
    ok(client.post(f"{API}/incidents/{ref}/ack", headers=people.carol))
    response = client.post(link(settings, page_id(client, people, ref)))
    assert response.status_code == 200
    assert "Already acknowledged by @carol" in response.text
    assert incident(client, people, ref)["acknowledged_by"] == "carol"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_expired_link_is_410_and_acknowledges_nothing(
    client: TestClient, people: People, settings: Settings, clock: FixedClock, method: str
) -> None:
    ref = paged_incident(client, people)
    url = link(settings, page_id(client, people, ref))
    clock.advance(timedelta(hours=1))
    response = client.request(method, url)
    assert response.status_code == 410
    assert "This acknowledgement link has expired" in response.text
    assert "warroom ack" in response.text
    assert FORM not in response.text
    assert incident(client, people, ref)["acknowledged_at"] is None
    old = link(settings, page_id(client, people, ref), expires=T0 - timedelta(seconds=1))
    assert client.request(method, old).status_code == 410


def tampered(url: str) -> list[str]:
    """Variants of ``url`` whose token was changed after signing."""
    token = url.removeprefix("/ack/")
    page, user, expires, mac = token.split(".")
    carol = base64.urlsafe_b64encode(b"carol").rstrip(b"=").decode()
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    return [
        f"/ack/{page}.{user}.{expires}.{flipped}",
        f"/ack/{int(page) + 1}.{user}.{expires}.{mac}",
        f"/ack/{page}.{carol}.{expires}.{mac}",
        f"/ack/{page}.{user}.{int(expires) + 3600}.{mac}",
        f"/ack/{page}.{user}.{expires}",
        "/ack/not-a-token",
        f"/ack/{token}x",
    ]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_tampered_link_is_404_and_acknowledges_nothing(
    client: TestClient, people: People, settings: Settings, method: str
) -> None:
    ref = paged_incident(client, people)
    url = link(settings, page_id(client, people, ref))
    other = Settings(var_dir=settings.var_dir, secret_key="y" * 40)
    for bad in [*tampered(url), link(other, page_id(client, people, ref))]:
        response = client.request(method, bad)
        assert response.status_code == 404, bad
        assert "This acknowledgement link is not valid." in response.text
        assert FORM not in response.text
    assert incident(client, people, ref)["acknowledged_at"] is None
    assert pages_of(client, people.viewer, ref)[0]["status"] == "active"


def test_a_link_to_a_page_that_does_not_exist_is_404(
    client: TestClient, people: People, settings: Settings
) -> None:
    url = link(settings, 999_999)
    shown = client.get(url)
    assert shown.status_code == 404
    assert "Incident not found" in shown.text
    assert client.post(url).status_code == 404


def test_a_link_for_someone_unknown_acknowledges_nothing(
    client: TestClient, people: People, settings: Settings
) -> None:
    ref = paged_incident(client, people)
    response = client.post(link(settings, page_id(client, people, ref), handle="zed"))
    assert response.status_code == 404
    assert "The incident or person is gone." in response.text
    assert incident(client, people, ref)["acknowledged_at"] is None


def test_the_page_escapes_what_it_shows(
    client: TestClient, people: People, settings: Settings
) -> None:
    title = "<script>alert('x')</script> & <b>bold</b>"
    ref = paged_incident(client, people, title=title)
    url = link(settings, page_id(client, people, ref), handle="<img src=x onerror=alert(1)>")
    shown = client.get(url)
    assert shown.status_code == 200
    assert "<script>alert(" not in shown.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in (
        shown.text
    )
    assert "<img src=x" not in shown.text
    assert "@&lt;img src=x onerror=alert(1)&gt;" in shown.text
    good = client.post(link(settings, page_id(client, people, ref)))
    assert "<script>alert(" not in good.text
    assert "&lt;script&gt;" in good.text


def test_the_link_in_the_page_mail_opens_this_page(
    client: TestClient, people: People, settings: Settings, worker: Worker
) -> None:
    add_contact(client, people.bob, "bob", "email", "bob@example.com")
    ref = paged_incident(client, people)
    drain(worker)
    [mail] = spooled(settings, "bob@example.com")
    found = re.search(r"Acknowledge: (\S+)", body_text(mail))
    assert found is not None
    url = found.group(1)
    assert url.startswith("http://127.0.0.1:8080/ack/")
    assert f"Acknowledge {ref} as @bob" in client.get(feed_path(url)).text
    assert client.post(feed_path(url)).status_code == 200
    assert incident(client, people, ref)["acknowledged_by"] == "bob"
