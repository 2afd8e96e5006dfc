"""The responders' HTML pages in headless Chromium: the one-click ack page and the postmortem.

One real `warroom serve` with the demo for the module. The demo's policy
payments (the schedule payments-primary, then alice) is on checkout and
payments-api, and every responder has an email contact; with no SMTP server
the in-process worker writes each page to var/mail, which is where the tests
find the signed acknowledgement link a person would click. Search has no
policy, so incidents declared on it page nobody.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import (
    BrowserDeployment,
    PageFactory,
    api_json,
    dialogs_of,
    mail_text,
    show,
    spooled_mail,
    wait_for,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

# One server for the module: under `--dist loadgroup` the browser suite stays on one worker.
# (pytest-xdist 3.8 under pytest 9.2 ignores the group, pytest-dev/pytest-xdist#1386: each
# worker then starts its own server; no test depends on another having run first.)
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def declare(server: BrowserDeployment, title: str, service: str, severity: int) -> str:
    made = api_json(
        server,
        "POST",
        "/incidents",
        json={"title": title, "severity": severity, "services": [service]},
    )
    ref: str = made["ref"]
    return ref


def test_ack_link_from_a_page_shows_a_button_and_only_the_click_acknowledges(
    server: BrowserDeployment, new_page: PageFactory
) -> None:
    on_call = api_json(server, "GET", "/oncall", params={"schedule": "payments-primary"})
    [handle] = [row["user"] for row in on_call if row["schedule"] == "payments-primary"]
    title = f"Checkout <b>500s</b> & timeouts {uuid.uuid4().hex[:6]}"
    ref = declare(server, title, "checkout", severity=1)

    def ack_link() -> str | None:
        for mail in spooled_mail(server):
            if mail["To"] == f"{handle}@demo.warroom.test" and ref in str(mail["Subject"]):
                # None while the worker is still writing the file: look again.
                found = re.search(r"^Acknowledge: (\S+)$", mail_text(mail), re.MULTILINE)
                return found.group(1) if found else None
        return None

    link: str = wait_for(f"the page for {ref} to @{handle}", ack_link)
    assert link.startswith(server.url + "/ack/")

    page = new_page()
    response = page.goto(link)
    assert response is not None
    assert response.status == 200
    assert page.locator("h1").inner_text().strip() == f"Acknowledge {ref}?"
    card = page.locator(".card").inner_text()
    assert f"SEV-1 {ref}: {title}" in card  # the title's markup shown as text
    assert f"Paged: @{handle}" in card
    button = page.get_by_role("button", name=f"Acknowledge {ref} as @{handle}")
    assert button.count() == 1
    # A GET (a mail scanner, a preview, a reload) never acknowledges.
    page.reload()
    shown = show(server, ref)
    assert shown["acknowledged_at"] is None, shown
    [paging] = api_json(server, "GET", f"/incidents/{ref}/pages")
    assert paging["ended_at"] is None, paging

    button.click()
    assert page.locator("h1").inner_text().strip() == "Acknowledged"
    assert (
        f"{ref} is acknowledged by @{handle}. Paging stopped." in page.locator("main").inner_text()
    )
    shown = show(server, ref)
    assert shown["acknowledged_at"] is not None, shown
    assert shown["acknowledged_by"] == handle, shown
    [paging] = api_json(server, "GET", f"/incidents/{ref}/pages")
    assert paging["ended_at"] is not None, paging  # the escalation really stopped
    assert paging["next_step_at"] is None, paging
    assert page.get_by_role("button").count() == 0

    # The same link later: no button, says who acknowledged.
    page.goto(link)
    assert page.locator("h1").inner_text().strip() == "Already acknowledged"
    assert f"Already acknowledged by @{handle}" in page.locator("main").inner_text()
    assert page.get_by_role("button").count() == 0


def test_a_tampered_ack_link_is_refused(server: BrowserDeployment, new_page: PageFactory) -> None:
    page = new_page()
    response = page.goto(server.url + "/ack/not-a-real-token")
    assert response is not None
    assert response.status == 404
    assert "This acknowledgement link is not valid." in page.locator("main").inner_text()
    assert page.get_by_role("button").count() == 0


def postmortem_of_resolved(server: BrowserDeployment, title: str, severity: int = 1) -> str:
    """Declare on search (pages nobody), resolve: the postmortem is drafted. Returns the ref."""
    ref = declare(server, title, "search", severity=severity)
    api_json(server, "POST", f"/incidents/{ref}/resolve")
    return ref


def signed_in(page: Page, server: BrowserDeployment) -> Page:
    page.set_extra_http_headers({"Authorization": f"Bearer {server.admin_token}"})
    return page


def test_postmortem_html_after_resolving_a_sev1(
    server: BrowserDeployment, new_page: PageFactory
) -> None:
    title = (
        'Search down <script>window.__xss = 1; alert("xss")</script>'
        ' <img src=x onerror="window.__xss = 2">'
    )
    ref = postmortem_of_resolved(server, title)
    due = (date.today() + timedelta(days=7)).isoformat()
    action = "Alert on <b>index</b> lag <script>window.__xss = 3</script>"
    item = {"title": action, "category": "detect", "priority": "P1", "owner": "bob", "due": due}
    api_json(server, "POST", f"/incidents/{ref}/actions", json=item)
    url = f"{server.url}/api/v1/incidents/{ref}/postmortem?format=html"

    anonymous = new_page()
    response = anonymous.goto(url)
    assert response is not None
    assert response.status == 401

    page = signed_in(new_page(), server)
    dialogs = dialogs_of(page)
    response = page.goto(url)
    assert response is not None
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")

    assert page.locator("article h1").inner_text().strip() == f"Incident Postmortem: {title}"
    assert page.get_by_role("heading", name="Timeline", exact=True).count() == 1
    timeline = page.locator("article h2:has-text('Timeline') + ul > li").all_inner_texts()
    assert len(timeline) >= 2, timeline  # declared ... resolved
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d \S+ - .+", t) for t in timeline), timeline
    assert timeline[0].endswith(f"Declared SEV-1: {title}"), timeline
    assert "resolved" in timeline[-1], timeline
    assert page.get_by_role("heading", name="Action Items", exact=True).count() == 1
    [listed] = page.locator("article h2:has-text('Action Items') + ul > li").all_inner_texts()
    assert f"Detect: {action} (P1, @bob, by " in listed, listed

    # The markup in the title and the action item is text: no element made, no script ran.
    assert page.locator("article script, article img, article b").count() == 0
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert dialogs == []


def test_postmortem_html_timeline_is_in_the_organisations_zone(
    server: BrowserDeployment, new_page: PageFactory
) -> None:
    ref = postmortem_of_resolved(server, "Search results stale", severity=2)
    markdown = server.api("GET", f"/api/v1/incidents/{ref}/postmortem", params={"format": "md"})
    assert markdown.status_code == 200, markdown.text
    in_markdown = re.findall(r"^(\d\d:\d\d) - ", markdown.text, re.MULTILINE)
    assert in_markdown, markdown.text

    page = signed_in(new_page(), server)
    page.goto(f"{server.url}/api/v1/incidents/{ref}/postmortem?format=html")
    timeline = page.locator("article h2:has-text('Timeline') + ul > li").all_inner_texts()
    in_html = [re.sub(r"^\d{4}-\d\d-\d\d (\d\d:\d\d).*", r"\1", t) for t in timeline]
    assert in_html == in_markdown, (timeline, markdown.text)
