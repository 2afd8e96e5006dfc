"""The public status page in headless Chromium, against one real `warroom serve` (demo loaded).

The page must work with JavaScript off (customers in an outage read it from
anything), so every page here is loaded with JavaScript disabled except the
one that measures layout. Tests add the components they post about (the
demo may have its own; the assertions hold for whatever is published). The
server's zone is Europe/Berlin, so every shown time must be converted to it
and say so.
"""

from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.browser.conftest import (
    PAGE_ZONE,
    BrowserDeployment,
    PageFactory,
    api_json,
    dialogs_of,
    mail_text,
    spooled_mail,
    wait_for,
)
from tests.e2e.harness import assert_ok

if TYPE_CHECKING:
    from playwright.sync_api import Page

# One server for the module: under `--dist loadgroup` the browser suite stays on one worker.
# (pytest-xdist 3.8 under pytest 9.2 ignores the group, pytest-dev/pytest-xdist#1386: each
# worker then starts its own server; no test depends on another having run first.)
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

DAYS = 90  # uptime bars per component
SHOWS_WITHIN = 2.0  # seconds from a post to the reloaded page showing it
OPERATIONAL = "All Systems Operational"


def public(server: BrowserDeployment, name: str) -> Any:
    """A document of the public Statuspage-compatible JSON API."""
    response = httpx.get(f"{server.url}/status/api/v2/{name}", timeout=15.0)
    assert response.status_code == 200, response.text
    return response.json()


def open_status(page: Page, server: BrowserDeployment, path: str = "/") -> None:
    response = page.goto(server.url + "/status" + path)
    assert response is not None
    assert response.status == 200, (path, response.status)


def add_component(server: BrowserDeployment, service: str) -> str:
    """A new published component (through the API); returns its name."""
    name = f"Widget {uuid.uuid4().hex[:6]}"
    api_json(server, "POST", "/statuspage/components", json={"name": name, "service": service})
    return name


def declare(server: BrowserDeployment, title: str, service: str, severity: int = 2) -> str:
    made = api_json(
        server,
        "POST",
        "/incidents",
        json={"title": title, "severity": severity, "services": [service]},
    )
    ref: str = made["ref"]
    return ref


def reload_until(page: Page, text: str, timeout: float = SHOWS_WITHIN) -> float:
    """Reload until ``text`` is on the page; returns the seconds it took (fails past timeout)."""
    started = time.monotonic()
    while True:
        took = time.monotonic() - started
        if text in page.locator("main").inner_text():
            return took
        if took > timeout:
            raise AssertionError(f"{text!r} not on the page {timeout}s after the post")
        time.sleep(0.1)
        page.reload()


def shown_time(value: datetime) -> str:
    """How the page writes a time: in the page's zone, with the zone's abbreviation."""
    return value.astimezone(ZoneInfo(PAGE_ZONE)).strftime("%b %d, %Y %H:%M %Z")


def component_rows(page: Page) -> dict[str, tuple[str, int]]:
    """Each listed component's name -> (status text, number of uptime bars)."""
    rows = {}
    items = page.locator("ul.components > li")
    for index in range(items.count()):
        item = items.nth(index)
        spans = item.locator(":scope > span")
        name = spans.nth(0).inner_text().strip()
        rows[name] = (spans.nth(1).inner_text().strip(), item.locator(".bars span").count())
    return rows


def test_page_without_javascript_shows_components_uptime_and_a_cli_post(
    server: BrowserDeployment, new_page: PageFactory
) -> None:
    # The other tests here leave every component operational, whatever the order.
    page = new_page(javascript=False)
    open_status(page, server)
    banner = page.locator("main .banner")
    assert public(server, "status.json")["status"]["description"] == OPERATIONAL
    assert banner.inner_text().strip() == OPERATIONAL

    # A component through the CLI shows up with its 90 days of bars.
    assert_ok(server.cli("statuspage", "component", "add", "Storefront", "--service", "checkout"))
    reload_until(page, "Storefront")  # servers look at the page version every half second
    published = {
        c["name"]: c["status"]
        for c in public(server, "components.json")["components"]
        if not c["group"]
    }
    assert "Storefront" in published
    rows = component_rows(page)
    assert set(rows) == set(published)  # every published component, no group as a row
    for name, (status, bars) in rows.items():
        assert status == published[name].replace("_", " ").capitalize(), name
        assert bars == DAYS, (name, bars)
    # Resolved incidents (the demo's, if any) are listed by their public names.
    past = page.locator("main section h3").all_inner_texts()
    resolved = [
        i["name"] for i in public(server, "incidents.json")["incidents"] if i["resolved_at"]
    ]
    assert sorted(name.strip() for name in past) == sorted(resolved[:10])
    assert f"Times are shown in {PAGE_ZONE}." in page.locator("footer").inner_text()

    # A post through the CLI; the page is being read all the while.
    ref = declare(server, "Storefront 502s after deploy 4411", "checkout")
    message = f"Some orders fail to load ({uuid.uuid4().hex[:8]}). We found the cause."
    args = ["statuspage", "post", ref, "--status", "identified", "--message", message]
    args += ["--component", "Storefront=partial_outage", "--json"]
    with ThreadPoolExecutor(max_workers=1) as pool:
        posting = pool.submit(server.cli, *args)
        while not posting.done():
            page.reload()
            time.sleep(0.2)
        posted = assert_ok(posting.result()).json()
    took = reload_until(page, message)
    assert took <= SHOWS_WITHIN

    rollup = public(server, "status.json")["status"]["description"]
    assert rollup != OPERATIONAL
    assert banner.inner_text().strip() == rollup
    rows = component_rows(page)
    assert rows["Storefront"] == ("Partial outage", DAYS)
    heading = page.get_by_role("heading", name=posted["title"], exact=True)
    open_now = page.locator("main > section", has=heading)
    assert open_now.count() == 1
    update = open_now.locator(".update")
    assert update.locator("p").first.inner_text().strip() == f"Identified - {message}"
    # The post's time is written in the page's zone, named, and matches its datetime.
    stamp = update.locator("time").first
    at = datetime.fromisoformat(stamp.get_attribute("datetime") or "")
    assert at.tzinfo is not None
    assert stamp.inner_text().strip() == shown_time(at)
    assert re.search(r" (CET|CEST)$", stamp.inner_text().strip())


def test_internal_incident_title_never_reaches_the_public_page(
    server: BrowserDeployment, new_page: PageFactory
) -> None:
    secret_title = "Primary DB OOM-killed by runaway reindex ZQX-7731 (bob's cron)"
    component = add_component(server, "payments-api")
    ref = declare(server, secret_title, "payments-api")
    message = f"Card payments are slower than usual ({uuid.uuid4().hex[:8]})."
    posted = api_json(
        server,
        "POST",
        "/statuspage/posts",
        json={
            "incident": ref,
            "status": "investigating",
            "message": message,
            "components": {component: "degraded_performance"},
        },
    )

    page = new_page(javascript=False)
    open_status(page, server)
    reload_until(page, message)
    pages = [page.content(), page.locator("body").inner_text()]
    page.get_by_role("link", name=posted["title"]).first.click()
    assert message in page.locator("main").inner_text()
    pages += [page.content(), page.locator("body").inner_text()]
    for path in ("/history", "/history.atom", "/history.rss", "/api/v2/summary.json"):
        response = page.request.get(server.url + "/status" + path)
        assert response.status == 200, path
        pages.append(response.text())
    pages.append(posted["title"])

    # Resolved (which also puts the page back to operational for the other tests),
    # it is listed under past incidents, still by its public title.
    over = f"Card payments are back to normal ({uuid.uuid4().hex[:8]})."
    resolved = {"incident": ref, "status": "resolved", "message": over}
    api_json(
        server,
        "POST",
        "/statuspage/posts",
        json={**resolved, "components": {component: "operational"}},
    )
    open_status(page, server)
    reload_until(page, over)
    assert posted["title"] in page.locator("main section h3").all_inner_texts()
    pages += [page.content(), page.locator("body").inner_text()]
    for text in pages:
        assert "ZQX-7731" not in text
        assert "OOM-killed" not in text


def test_page_is_accessible_without_javascript(
    server: BrowserDeployment, new_page: PageFactory
) -> None:
    add_component(server, "search")  # at least one row of bars
    page = new_page(javascript=False)
    open_status(page, server)
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").count() == 1
    assert page.title().strip()
    banners = page.locator(".banner")
    assert banners.count() == 1
    assert banners.get_attribute("role") == "status"
    bars = page.locator(".bars")
    assert bars.count() == page.locator("ul.components > li").count()
    for index in range(bars.count()):
        label = bars.nth(index).get_attribute("aria-label") or ""
        assert bars.nth(index).get_attribute("role") == "img"
        assert re.fullmatch(rf".+: \d+\.\d\d% uptime over the last {DAYS} days", label), label
    # Colour is not the only cue: each day says what happened in its title.
    day = page.locator(".bars span").first.get_attribute("title") or ""
    assert re.fullmatch(r"\d{4}-\d\d-\d\d: .+", day), day


@pytest.mark.parametrize("path", ["/", "/history", "/subscribe"])
def test_mobile_viewport_has_no_horizontal_scroll(
    server: BrowserDeployment, new_page: PageFactory, path: str
) -> None:
    page = new_page(javascript=True, width=375, height=667)
    open_status(page, server, path)
    widths = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[1] == 375
    assert widths[0] <= widths[1], f"{path}: {widths[0]}px wide in a {widths[1]}px viewport"


def test_subscribe_confirm_by_the_mailed_link(
    server: BrowserDeployment, new_page: PageFactory
) -> None:
    address = f"reader-{uuid.uuid4().hex[:8]}@example.com"
    page = new_page(javascript=False)
    open_status(page, server)
    page.get_by_role("link", name="Subscribe").click()
    page.get_by_label("Email address").fill(address)
    page.get_by_role("button", name="Subscribe").click()
    assert page.locator("main h2").inner_text().strip() == "Check your inbox"
    assert page.get_by_role("status").inner_text().startswith("We sent a confirmation link.")

    def confirmation() -> str | None:
        for mail in spooled_mail(server):
            if mail["To"] == address and "Confirm" in str(mail["Subject"]):
                # None while the worker is still writing the file: look again.
                found = re.search(r"^Confirm: (\S+)$", mail_text(mail), re.MULTILINE)
                return found.group(1) if found else None
        return None

    link: str = wait_for(f"the confirmation mail to {address}", confirmation)
    assert link.startswith(server.url + "/status/subscribe/")
    page.goto(link)
    assert page.locator("main h2").inner_text().strip() == "Confirm your subscription"
    page.get_by_role("button", name="Confirm").click()
    assert page.locator("main h2").inner_text().strip() == "Subscribed"

    # Confirmed means the next post reaches the inbox.
    message = f"Search results are incomplete ({uuid.uuid4().hex[:8]})."
    api_json(
        server,
        "POST",
        "/statuspage/posts",
        json={"new": True, "status": "investigating", "message": message, "components": {}},
    )

    def post_mail() -> str | None:
        for mail in spooled_mail(server):
            if mail["To"] == address and message in mail_text(mail):
                found = re.search(r"^Unsubscribe: (\S+)$", mail_text(mail), re.MULTILINE)
                return found.group(1) if found else None
        return None

    leave: str = wait_for(f"the post's mail to {address}", post_mail)
    assert leave.startswith(server.url + "/status/unsubscribe/")
    page.goto(leave)
    assert page.locator("main h2").inner_text().strip() == "Unsubscribe"
    page.get_by_role("button", name="Unsubscribe").click()
    assert page.locator("main h2").inner_text().strip() == "Unsubscribed"


def test_markup_in_a_post_is_shown_as_text(
    server: BrowserDeployment, new_page: PageFactory
) -> None:
    title = f'Login <script>alert("t")</script> issues {uuid.uuid4().hex[:6]}'
    message = 'Some logins fail <img src=x onerror="window.__xss = 1"> <b>bold</b>.'
    posted = api_json(
        server,
        "POST",
        "/statuspage/posts",
        json={"new": True, "status": "investigating", "title": title, "message": message},
    )
    page = new_page(javascript=True)
    dialogs = dialogs_of(page)
    open_status(page, server)
    reload_until(page, title)
    assert page.get_by_role("heading", name=title, exact=True).count() == 1
    assert f"Investigating - {message}" in page.locator("main").inner_text()
    page.get_by_role("link", name=title).click()
    assert page.url.endswith(f"/status/incidents/{posted['status_incident']}")
    assert f"Investigating - {message}" in page.locator("main").inner_text()
    assert page.locator("main script, main img, main b").count() == 0
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert dialogs == []
