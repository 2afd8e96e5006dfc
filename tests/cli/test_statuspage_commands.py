"""Status page commands against one real `warroom serve` (demo loaded) per module.

The demo's status page has Checkout, Payments and Search in group Shop and
Public API, with the resolved public side of the demo's payments incident
(internally "Card payments timing out", with a theory, notes and roles for
alice, bob and carol). The server runs the worker in-process; without an
SMTP server it writes mail to var/mail, which is how subscriber mail is read
here. The export runs on the same database as the server, so what it writes
can be compared byte for byte with what the server answers.

The server's behaviour here does not depend on the database (the HTTP suites
run on both), so it runs on SQLite only.
"""

from __future__ import annotations

import email
import json
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path
from typing import Any

import feedparser  # type: ignore[import-untyped]
import httpx
import pytest

from tests.e2e.harness import (
    WARROOM,
    Deployment,
    assert_ok,
    assert_refused,
    free_port,
    new_deployment,
)

# One server for the module: under `--dist loadgroup` its tests stay on one xdist worker.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("cli-statuspage")]

API = "/api/v1"
DOCUMENTS = (
    "summary.json",
    "status.json",
    "components.json",
    "incidents.json",
    "incidents/unresolved.json",
    "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json",
    "scheduled-maintenances/active.json",
)
# What the demo's payments incident holds internally: none of it is public.
DEMO_INTERNAL = [
    "Card payments timing out",
    "payment provider latency",
    "connection pool",
    "Pool too small",
    "Raise pool to 150",
    "~12% of card payments",
    "Alice Martin",
    "Bob Okafor",
    "Carol Chen",
    "Dave Kowalski",
    "demo.warroom.test",
    "payments-api",
    "api-gateway",
    "INC-",
    "SEV-",
    "Search results up to an hour stale",
]


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("statuspage-cli")
    with new_deployment(request.config, "sqlite", root) as deployment:
        deployment.prepare()
        deployment.start()
        yield deployment


@pytest.fixture(scope="module")
def bob(server: Deployment) -> str:
    """A responder's token (the CLI's default caller is alice, an admin)."""
    return server.issue_token("bob")


def api(server: Deployment, method: str, path: str, **kwargs: Any) -> Any:
    response = server.api(method, API + path, **kwargs)
    assert response.is_success, response.text
    return response.json() if response.content else None


def declare(server: Deployment, title: str, **fields: Any) -> str:
    made = api(server, "POST", "/incidents", json={"title": title, "severity": 2, **fields})
    ref: str = made["ref"]
    return ref


def served(server: Deployment, path: str) -> httpx.Response:
    response = httpx.get(f"{server.url}/status{path}", timeout=15.0)
    assert response.status_code == 200, (path, response.text[:300])
    return response


def wait_for(what: str, check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def shown(server: Deployment, status_incident: str) -> dict[str, Any]:
    """The public incident once the server's cached page has it (within about a second)."""

    def find() -> dict[str, Any] | None:
        doc = served(server, "/api/v2/incidents.json").json()
        return next((i for i in doc["incidents"] if i["id"] == status_incident), None)

    found: dict[str, Any] = wait_for(f"public incident {status_incident}", find, timeout=5.0)
    return found


def api_post(
    server: Deployment, message: str, components: dict[str, str], **fields: Any
) -> dict[str, Any]:
    """A standalone post through the API (quicker than the CLI where the CLI is not tested)."""
    body = {"new": True, "status": "investigating", "message": message, "components": components}
    made: dict[str, Any] = api(server, "POST", "/statuspage/posts", json={**body, **fields})
    return made


def post_json(server: Deployment, *args: str, token: str | None = None) -> dict[str, Any]:
    outcome = assert_ok(server.cli("statuspage", "post", *args, "--json", token=token))
    found: dict[str, Any] = outcome.json()
    return found


def leaked(markers: list[str], texts: dict[str, str]) -> list[tuple[str, str]]:
    return [
        (place, marker)
        for place, text in texts.items()
        for marker in markers
        if marker.casefold() in text.casefold()
    ]


# Components


def test_components_are_added_and_listed(server: Deployment) -> None:
    added = assert_ok(
        server.cli(
            "statuspage",
            "component",
            "add",
            "Edge CDN",
            "--group",
            "Delivery",
            "--service",
            "checkout",
            "--description",
            "Static files",
        )
    )
    match = re.fullmatch(r"component Edge CDN \(([a-z0-9]{12})\): operational\n", added.out)
    assert match, added
    listed = assert_ok(server.cli("statuspage", "component", "ls"))
    [row] = [line for line in listed.out.splitlines() if "Edge CDN" in line]
    assert row.split() == ["Edge", "CDN", "Delivery", "checkout", "operational"]
    assert "Public API" in listed.out
    rows = api(server, "GET", "/statuspage/components")
    [edge] = [r for r in rows if r["name"] == "Edge CDN"]
    assert edge == {
        "id": match.group(1),
        "name": "Edge CDN",
        "group": "Delivery",
        "service": "checkout",
        "status": "operational",
        "published": True,
        "updated_at": edge["updated_at"],
    }

    def on_page() -> list[dict[str, Any]]:
        doc = served(server, "/api/v2/components.json").json()
        found: list[dict[str, Any]] = doc["components"]
        return found if any(c["name"] == "Edge CDN" for c in found) else []

    components = {c["name"]: c for c in wait_for("the component on the page", on_page)}
    assert components["Delivery"]["group"] is True
    assert components["Delivery"]["components"] == [match.group(1)]
    assert components["Edge CDN"]["group_id"] == components["Delivery"]["id"]


def test_bad_component_additions_are_refused(server: Deployment, bob: str) -> None:
    assert_refused(server.cli("statuspage", "component", "add", "Checkout"), 1, "a component named")
    assert_refused(
        server.cli("statuspage", "component", "add", "Mail", "--service", "nope"),
        1,
        "unknown service",
    )
    assert_refused(server.cli("statuspage", "component", "add", "Mail", token=bob), 1)


# Posts


def test_a_post_from_an_incident_gets_a_neutral_title(server: Deployment) -> None:
    ref = declare(server, "Zqx-Internal checkout-db-3 disk full (bad cron by bob)")
    outcome = assert_ok(
        server.cli(
            "statuspage",
            "post",
            ref,
            "--status",
            "investigating",
            "--message",
            "Some orders fail to complete.",
            "--component",
            "Checkout=partial_outage",
            "--next",
            "20",
        )
    )
    match = re.fullmatch(
        rf"posted investigating: Partial outage of Checkout -> "
        rf"{re.escape(server.url)}/status/incidents/([a-z0-9]{{12}}); next update by "
        r"\d{4}-\d\d-\d\d \d\d:\d\d \S+\n",
        outcome.out,
    )
    assert match, outcome
    public = shown(server, match.group(1))
    assert public["name"] == "Partial outage of Checkout"
    assert public["incident_updates"][0]["body"] == "Some orders fail to complete."
    page = served(server, f"/incidents/{match.group(1)}").text
    assert "Zqx-Internal" not in page
    assert "checkout-db-3" not in page

    resolved = post_json(server, ref, "--status", "resolved", "--message", "All fixed.")
    assert resolved["status_incident"] == match.group(1)
    assert resolved["title"] == "Partial outage of Checkout"
    assert resolved["next_update_at"] is None
    assert [a["new_status"] for a in resolved["affected"]] == ["operational"]
    assert wait_for(
        "the resolution",
        lambda: shown(server, match.group(1))["status"] == "resolved",
        timeout=5.0,
    )
    listed = api(server, "GET", "/statuspage/incidents")
    [mine] = [i for i in listed if i["id"] == match.group(1)]
    assert (mine["incident"], mine["update_late"]) == (ref, False)


def test_a_standalone_post_takes_its_title_and_several_components(
    server: Deployment, bob: str
) -> None:
    made = post_json(
        server,
        "--new",
        "--title",
        "Slow search & checkout <in EU>",
        "--message",
        "Searches and orders are slow.",
        "--component",
        "Search=degraded_performance",
        "--component",
        "Checkout=degraded_performance",
        token=bob,
    )
    assert made["incident"] is None
    assert made["title"] == "Slow search & checkout <in EU>"
    assert sorted(a["name"] for a in made["affected"]) == ["Checkout", "Search"]
    public = shown(server, made["status_incident"])
    assert public["impact"] == "minor"
    page = served(server, f"/incidents/{made['status_incident']}").text
    assert "Slow search &amp; checkout &lt;in EU&gt;" in page
    human = assert_ok(
        server.cli(
            "statuspage",
            "post",
            "--new",
            "--status",
            "monitoring",
            "--message",
            "Faster now.",
            "--component",
            "Search=operational",
            "--component",
            "Checkout=operational",
            token=bob,
        )
    )
    assert human.out.startswith("posted monitoring: Service disruption affecting Search and ")


def test_a_standalone_incident_is_followed_up_by_its_id(server: Deployment, bob: str) -> None:
    # A component of its own: the module's server is shared, and other tests' incidents
    # stay open on the demo's components.
    api(server, "POST", "/statuspage/components", json={"name": "Follow-up"})
    opened = assert_ok(
        server.cli(
            "statuspage",
            "post",
            "--new",
            "--message",
            "Errors.",
            "--component",
            "Follow-up=major_outage",
            token=bob,
        )
    )
    match = re.search(r"follow up with: warroom statuspage post ([a-z0-9]{12}) ", opened.out)
    assert match, opened.out
    resolved = post_json(server, match.group(1), "--status", "resolved", "--message", "Fixed.")
    assert resolved["status_incident"] == match.group(1)
    assert shown(server, match.group(1))["status"] == "resolved"
    by_name = {c["name"]: c for c in api(server, "GET", "/statuspage/components")}
    assert by_name["Follow-up"]["status"] == "operational"


def test_a_component_name_with_an_equals_sign_is_split_at_the_last_one(
    server: Deployment,
) -> None:
    api(server, "POST", "/statuspage/components", json={"name": "A=B"})
    made = post_json(server, "--new", "--message", "Odd name.", "--component", "A=B=major_outage")
    assert made["affected"][0]["name"] == "A=B"
    assert made["affected"][0]["new_status"] == "major_outage"
    api_post(server, "Better.", {"A=B": "operational"})


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("INC-1", "--new", "--message", "M"), 2, "not both"),
        (("--message", "M"), 2, "give an incident"),
        (("--new",), 2, "--message is required"),
        (("--new", "--message", "M", "--component", "Checkout"), 2, "NAME=STATUS"),
        (("--new", "--message", "M", "--component", "Checkout=broken"), 2, "NAME=STATUS"),
        (("--new", "--message", "M", "--component", "Nope=major_outage"), 1, "Nope"),
        (("--new", "--message", "M", "--status", "exploding"), 1, "status"),
        (("--new", "--message", "x" * 10_001), 1, "message"),
        (("--new", "--message", "M", "--status", "resolved", "--next", "30"), 1, "next update"),
        (("INC-999", "--message", "M"), 1, "INC-999"),
    ],
)
def test_bad_posts_are_refused_with_one_line(
    server: Deployment, args: tuple[str, ...], code: int, fragment: str
) -> None:
    before = api(server, "GET", "/statuspage/incidents")  # not cached, unlike the page
    assert_refused(server.cli("statuspage", "post", *args), code, fragment)
    assert api(server, "GET", "/statuspage/incidents") == before


def test_a_viewer_cannot_post(server: Deployment) -> None:
    erin = server.issue_token("erin")
    assert_refused(server.cli("statuspage", "post", "--new", "--message", "M", token=erin), 1)


# The static export


def read_tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def settled(server: Deployment) -> None:
    """Wait until the server's cached page shows the latest version.

    It reads the version when a request comes more than 0.5 s after its last look,
    so any request a second after the last change gets the current page.
    """
    time.sleep(1.0)
    served(server, "/api/v2/status.json")


def test_the_export_writes_the_same_json_as_the_server_serves(
    server: Deployment, tmp_path: Path
) -> None:
    made = post_json(
        server, "--new", "--message", "Export check.", "--component", "Payments=partial_outage"
    )
    settled(server)
    outcome = assert_ok(server.warroom("statuspage", "export", str(tmp_path / "site")))
    files = read_tree(tmp_path / "site")
    assert outcome.out.replace("\n", "") == f"wrote {len(files)} files to {tmp_path / 'site'}"
    for name in DOCUMENTS:
        assert files[f"api/v2/{name}"] == served(server, f"/api/v2/{name}").content, name
    summary = json.loads(files["api/v2/summary.json"])
    assert made["status_incident"] in [i["id"] for i in summary["incidents"]]
    assert "index.html" in files
    assert "history/index.html" in files
    assert f"incidents/{made['status_incident']}/index.html" in files
    page = files[f"incidents/{made['status_incident']}/index.html"].decode()
    assert "Export check." in page
    api_post(server, "Done.", {"Payments": "operational"})
    # Without --base-url the links are relative to where the files are served.
    assert 'href="/history.atom"' in files["index.html"].decode()
    for feed in ("history.atom", "history.rss"):
        parsed = feedparser.parse(files[feed])
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        assert made["title"] in [e.title for e in parsed.entries]
    assert not [name for name in files if "/.tmp-" in f"/{name}"]  # no half-written files left


def test_an_export_with_the_servers_base_url_has_the_same_feeds(
    server: Deployment, tmp_path: Path
) -> None:
    settled(server)
    base = f"{server.url}/status"
    assert_ok(server.warroom("statuspage", "export", str(tmp_path), "--base-url", base + "/"))
    files = read_tree(tmp_path)
    for feed in ("history.atom", "history.rss"):
        assert files[feed] == served(server, f"/{feed}").content, feed
    index = files["index.html"].decode()
    assert f'href="{base}/history.atom"' in index
    served_index = served(server, "/").text
    for title in re.findall(r'<h3><a href="[^"]+">([^<]+)</a></h3>', served_index):
        assert title in index


def test_export_again_replaces_the_files(server: Deployment, tmp_path: Path) -> None:
    assert_ok(server.warroom("statuspage", "export", str(tmp_path)))
    first = read_tree(tmp_path)
    made = api_post(server, "Second export.", {}, title="Re-export")
    assert_ok(server.warroom("statuspage", "export", str(tmp_path)))
    second = read_tree(tmp_path)
    assert set(second) == set(first) | {f"incidents/{made['status_incident']}/index.html"}
    assert b"Re-export" in second["api/v2/incidents.json"]


def test_export_watch_writes_again_on_every_change(server: Deployment, tmp_path: Path) -> None:
    site = tmp_path / "site"
    watcher = subprocess.Popen(
        [*WARROOM, "statuspage", "export", str(site), "--watch", "--interval", "0.2"],
        env=server.server_env(),
        cwd=server.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        incidents = site / "api/v2/incidents.json"
        wait_for("the first export", incidents.exists)
        made = api_post(server, "Watched post.", {"Payments": "major_outage"}, title="Zqw-Watch")
        wait_for("the re-export", lambda: b"Zqw-Watch" in incidents.read_bytes())
        assert (site / f"incidents/{made['status_incident']}/index.html").exists()
    finally:
        watcher.send_signal(signal.SIGTERM)
        out, err = watcher.communicate(timeout=20)
    assert watcher.returncode == 0, err
    assert "Traceback" not in err
    assert out.count("wrote ") >= 2, out


def test_nothing_internal_is_served_or_exported(server: Deployment, tmp_path: Path) -> None:
    ref = declare(
        server,
        "Zqx-Title primary failover",
        services=["payments-api"],
        customer_impact="Zqx-Impact",
        commander="dave",
    )
    api(server, "PATCH", f"/incidents/{ref}", json={"current_theory": "Zqx-Theory"})
    api(server, "POST", f"/incidents/{ref}/notes", json={"text": "Zqx-Note"})
    api(server, "POST", f"/incidents/{ref}/updates", json={"theory": "Zqx-Update"})
    post_json(
        server, ref, "--message", "Payments may fail.", "--component", "Payments=major_outage"
    )
    post_json(server, ref, "--status", "resolved", "--message", "Payments work.")
    settled(server)
    assert_ok(server.warroom("statuspage", "export", str(tmp_path)))
    texts = {name: body.decode() for name, body in read_tree(tmp_path).items()}
    for path in ["/", "/history", "/history.atom", "/history.rss", "/subscribe"] + [
        f"/api/v2/{name}" for name in DOCUMENTS
    ]:
        texts[f"served {path}"] = served(server, path).text
    for incident in served(server, "/api/v2/incidents.json").json()["incidents"]:
        texts[f"served {incident['id']}"] = served(server, f"/incidents/{incident['id']}").text
    markers = [*DEMO_INTERNAL, "Zqx-"]
    assert leaked(markers, texts) == []
    assert "Payments may fail." in texts["api/v2/incidents.json"]


# Subscribers, end to end through the server's own worker


def spooled(server: Deployment, to: str) -> list[Message]:
    found = []
    for path in sorted((server.var_dir / "mail").glob("*.eml"), key=lambda p: p.stat().st_mtime):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == to:
            found.append(message)
    return found


def text_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode().replace("\r\n", "\n")


def unfolded(value: str | None) -> str:
    assert value is not None
    return re.sub(r"\r?\n(?=[ \t])", "", value).strip()


def test_a_subscriber_confirms_gets_posts_and_unsubscribes_in_one_click(
    server: Deployment,
) -> None:
    address = "customer@example.org"
    answer = httpx.post(f"{server.url}/status/subscribe", data={"email": address}, timeout=15)
    assert answer.status_code == 202
    [confirm] = wait_for("the confirmation mail", lambda: spooled(server, address))
    link = re.search(r"Confirm: (\S+)", text_of(confirm))
    assert link is not None
    assert link.group(1).startswith(f"{server.url}/status/subscribe/")
    assert httpx.get(link.group(1), timeout=15).status_code == 200
    assert httpx.post(link.group(1), timeout=15).status_code == 200

    made = api_post(server, "Mail check.", {}, title="Mail check")
    mails = wait_for("the post mail", lambda: spooled(server, address)[1:])
    [update] = mails
    assert update["Subject"] == "[warroom] Mail check: Investigating"
    body = text_of(update)
    assert "Mail check." in body
    assert f"{server.url}/status/incidents/{made['status_incident']}" in body
    leave = unfolded(update["List-Unsubscribe"]).strip("<>")
    assert unfolded(update["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert leak_free(body + str(update))
    one_click = httpx.post(
        leave,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=15,
    )
    assert one_click.status_code == 200
    api_post(server, "After leaving.", {}, title="After leaving")
    time.sleep(2.0)  # the worker polls every 0.25 s: time enough to (wrongly) send it
    assert len(spooled(server, address)) == 2


def test_admins_list_and_remove_subscribers(server: Deployment, bob: str) -> None:
    for address in ("first@example.org", "second@example.org"):
        answer = httpx.post(f"{server.url}/status/subscribe", data={"email": address}, timeout=15)
        assert answer.status_code == 202
    listed = json.loads(
        assert_ok(server.cli("statuspage", "subscriber", "ls", "--state", "pending", "--json")).out
    )
    ids = {row["email"]: row["id"] for row in listed}
    assert {"first@example.org", "second@example.org"} <= set(ids)
    table = assert_ok(server.cli("statuspage", "subscriber", "ls", "--limit", "1")).out
    assert "pending" in table
    assert "more: warroom statuspage subscriber ls --after" in table
    removed = assert_ok(server.cli("statuspage", "subscriber", "rm", str(ids["first@example.org"])))
    assert "first@example.org" in removed.out
    after = assert_ok(server.cli("statuspage", "subscriber", "ls", "--json")).out
    assert "first@example.org" not in after
    assert "second@example.org" in after
    assert_refused(server.cli("statuspage", "subscriber", "ls", token=bob), 1, "admin")
    assert_refused(server.cli("statuspage", "subscriber", "ls", "--state", "gone"), 1)
    assert_refused(server.cli("statuspage", "subscriber", "rm", str(ids["first@example.org"])), 1)


def leak_free(text: str) -> bool:
    return leaked([*DEMO_INTERNAL, "Zqx-"], {"mail": text}) == []


# `warroom serve --public`


@contextmanager
def public_server(server: Deployment) -> Iterator[str]:
    """`warroom serve --public` on the same database and another port: its URL."""
    port = free_port()
    log = server.root / "serve-public.log"
    env = server.server_env(WARROOM_PORT=str(port))  # the same public base URL
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*WARROOM, "serve", "--public"],
            env=env,
            cwd=server.root,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            assert process.poll() is None, log.read_text()
            try:
                return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for("serve --public", ready, timeout=60)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def test_serve_public_serves_the_status_page_and_nothing_of_the_api(server: Deployment) -> None:
    token = {"Authorization": f"Bearer {server.admin_token}"}
    with public_server(server) as url:
        # Byte for byte what the full server serves (the HTML's uptime bars move with time).
        for path in ("/api/v2/summary.json", "/api/v2/incidents.json", "/history.atom"):
            answer = httpx.get(f"{url}/status{path}", timeout=15)
            assert answer.status_code == 200, path
            assert answer.content == served(server, path).content, path
        page = httpx.get(f"{url}/status/", timeout=15)
        assert page.status_code == 200
        assert "All Systems Operational" in page.text or "banner" in page.text
        assert httpx.get(f"{url}/status/subscribe", timeout=15).status_code == 200
        assert httpx.get(f"{url}/healthz", timeout=15).status_code == 200
        for path in ("/api/v1/incidents", "/api/v1/me", "/docs", "/openapi.json", "/metrics"):
            answer = httpx.get(url + path, headers=token, timeout=15)
            assert answer.status_code == 404, path
        refused = server.cli("ls", url=url)
        assert refused.code != 0
        assert "Traceback" not in refused.err
        assert "serves only the status page" in refused.err, refused
