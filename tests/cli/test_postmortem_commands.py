"""Postmortem, action item and report commands against one real `warroom serve` per module.

The demo has alice (admin, the CLI's default caller), bob, carol, dave
(responders with an email contact each) and erin (viewer); its INC-1 (SEV-2,
"Card payments timing out") was declared six days ago and resolved. Tests
declare their own incidents on the search service (which pages nobody) and
find them by the reference they got back. The server runs the worker
in-process; with no SMTP server it writes mail to var/mail.

Exit codes: 0 done, 1 refused by the server (one `error:` line with its
message), 2 a usage mistake caught before any request. `postmortem lint` and
`action ls --overdue` also exit 1 when they find something.

The behaviour does not depend on the database here, so the server runs on
SQLite only.
"""

from __future__ import annotations

import email
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Deployment, Outcome, assert_ok, assert_refused, new_deployment

# One server for the module: under `--dist loadgroup` its tests stay on one xdist worker.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("cli-postmortems")]

API = "/api/v1"
BLAMING = "Bob failed to run the migration before the deploy."


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("postmortem-cli")
    with new_deployment(request.config, "sqlite", root) as deployment:
        deployment.prepare()
        deployment.start()
        yield deployment


@pytest.fixture(scope="module")
def erin(server: Deployment) -> str:
    """A viewer's token."""
    return server.issue_token("erin")


def api(server: Deployment, method: str, path: str, **kwargs: Any) -> Any:
    response = server.api(method, API + path, **kwargs)
    assert response.is_success, response.text
    return response.json() if response.content else None


def resolved(server: Deployment, title: str, severity: int = 1) -> str:
    """A new incident on search, acknowledged and resolved; its ref."""
    body = {"title": title, "severity": severity, "services": ["search"]}
    ref: str = api(server, "POST", "/incidents", json=body)["ref"]
    api(server, "POST", f"/incidents/{ref}/ack")
    api(server, "POST", f"/incidents/{ref}/resolve")
    return ref


def markdown(server: Deployment, ref: str) -> str:
    response = server.api("GET", f"{API}/incidents/{ref}/postmortem", params={"format": "md"})
    assert response.status_code == 200, response.text
    return response.text


def lines(outcome: Outcome) -> list[str]:
    return [line.rstrip() for line in outcome.out.splitlines() if line.strip()]


def row(outcome: Outcome, *cells: str) -> list[str]:
    """The words of the one output line holding all of ``cells``."""
    found = [line for line in lines(outcome) if all(cell in line for cell in cells)]
    assert len(found) == 1, (cells, outcome)
    return found[0].split()


def today() -> date:
    return datetime.now(UTC).date()


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def mail(server: Deployment, to: str) -> list[Message]:
    folder = server.var_dir / "mail"
    found = [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]
    return [m for m in found if m["To"] == to]


# Showing a postmortem


def test_postmortem_prints_the_markdown(server: Deployment) -> None:
    ref = resolved(server, "Search down for everyone")
    expected = markdown(server, ref)
    assert expected.startswith("# Incident Postmortem: Search down for everyone (")
    shown = assert_ok(server.cli("postmortem", ref, "--format", "md"))
    assert shown.out == expected
    assert shown.err == ""
    assert assert_ok(server.cli("postmortem", ref)).out == expected  # Markdown by default


def test_postmortem_prints_html_and_json(server: Deployment) -> None:
    ref = resolved(server, "Search <slow> & stale")
    page = server.api("GET", f"{API}/incidents/{ref}/postmortem", params={"format": "html"})
    html = assert_ok(server.cli("postmortem", ref, "--format", "html"))
    assert html.out == page.text
    assert "<h1>Incident Postmortem: Search &lt;slow&gt; &amp; stale</h1>" in html.out
    data = assert_ok(server.cli("postmortem", ref, "--format", "json")).json()
    assert data == api(server, "GET", f"/incidents/{ref}/postmortem")
    assert (data["incident"], data["status"]) == (ref, "draft")


def test_postmortem_prints_emoji_codes_as_written(server: Deployment) -> None:
    ref = resolved(server, "Search :fire: alarm")
    cause = {"root_cause": "Status :x: on every :100: requests."}
    api(server, "PATCH", f"/incidents/{ref}/postmortem", json=cause)
    shown = assert_ok(server.cli("postmortem", ref, "--format", "md"))
    assert shown.out == markdown(server, ref)


def test_postmortem_refusals(server: Deployment) -> None:
    ref = resolved(server, "Search hiccup", severity=3)
    assert_refused(server.cli("postmortem", ref), 1, f"{ref} has no postmortem yet")
    assert_refused(server.cli("postmortem", "INC-99999"), 1, "no incident INC-99999")
    assert_refused(
        server.cli("postmortem", ref, "--format", "pdf"),
        2,
        "--format must be one of md, html, json",
    )
    assert_refused(
        server.cli("postmortem", "review"), 2, "`warroom postmortem review` needs an incident"
    )
    assert_refused(server.cli("postmortem", ref, "INC-1"), 2, f"unknown postmortem command {ref!r}")
    made = assert_ok(server.cli("postmortem", "create", ref))
    assert made.out == f"postmortem drafted for {ref}\n"
    assert markdown(server, ref).startswith("# Incident Postmortem: Search hiccup (")


# Editing


def test_edit_saves_a_file(server: Deployment, tmp_path: Path) -> None:
    ref = resolved(server, "Search index lost")
    due = today() + timedelta(days=7)
    line = f"- [ ] Fix: Back up the index (P1, @carol, by {due:%m/%d})"
    text = (
        markdown(server, ref)
        .replace("_To be written._", "The index volume was not backed up.")
        .replace("_None yet._", line)
    )
    path = tmp_path / "pm.md"
    path.write_text(text)
    saved = assert_ok(server.cli("postmortem", "edit", ref, "--file", str(path)))
    assert saved.out == f"{ref} postmortem saved (1 action items)\n"
    data = api(server, "GET", f"/incidents/{ref}/postmortem")
    assert data["root_cause"] == "The index volume was not backed up."
    [item] = data["action_items"]
    assert (item["title"], item["owner"], item["due"]) == (
        "Back up the index",
        "carol",
        due.isoformat(),
    )
    assert markdown(server, ref) == text


def test_edit_refusals(server: Deployment, tmp_path: Path) -> None:
    ref = resolved(server, "Search shard down")
    before = markdown(server, ref)
    broken = before.replace("## Root Cause", "## Root Causes")
    path = tmp_path / "broken.md"
    path.write_text(broken)
    number = broken.splitlines().index("## Root Causes") + 1
    assert_refused(
        server.cli("postmortem", "edit", ref, "--file", str(path)),
        1,
        f"line {number}: unknown section '## Root Causes'",
    )
    first = before.splitlines().index("## Timeline") + 2  # a 0-based index: line first + 1
    path.write_text(before.replace(before.splitlines()[first], "soon - Declared"))
    assert_refused(
        server.cli("postmortem", "edit", ref, "--file", str(path)),
        1,
        f"Timeline, line {first + 1}: expected 'HH:MM - text', got 'soon - Declared'",
    )
    missing = tmp_path / "missing.md"
    assert_refused(
        server.cli("postmortem", "edit", ref, "--file", str(missing)),
        2,
        f"--file {missing}: No such file or directory",
    )
    assert markdown(server, ref) == before


def test_edit_opens_the_editor(server: Deployment, tmp_path: Path) -> None:
    ref = resolved(server, "Search pods evicted")
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys\n"
        "from pathlib import Path\n"
        "path = Path(sys.argv[1])\n"
        "text = path.read_text()\n"
        "path.write_text(text.replace('_To be written._', 'Node pressure evicted the pods.'))\n"
    )
    editor = f"{sys.executable} {script}"
    saved = assert_ok(server.cli("postmortem", "edit", ref, EDITOR=editor, VISUAL=editor))
    assert saved.out == f"{ref} postmortem saved (0 action items)\n"
    data = api(server, "GET", f"/incidents/{ref}/postmortem")
    assert data["root_cause"] == "Node pressure evicted the pods."
    failing = f"{sys.executable} -c 'raise SystemExit(3)'"
    assert_refused(
        server.cli("postmortem", "edit", ref, EDITOR=failing, VISUAL=failing),
        2,
        "failed; nothing saved",
    )
    assert api(server, "GET", f"/incidents/{ref}/postmortem")["root_cause"] == data["root_cause"]


# Lint, review, publish


def test_lint_exits_1_with_findings_and_0_without(server: Deployment) -> None:
    ref = resolved(server, "Search migration failed")
    clean = assert_ok(server.cli("postmortem", "lint", ref))
    assert clean.out == "no blaming language found\n"
    api(server, "PATCH", f"/incidents/{ref}/postmortem", json={"root_cause": BLAMING})
    flagged = server.cli("postmortem", "lint", ref)
    assert flagged.code == 1, flagged
    assert flagged.err == ""
    found = api(server, "GET", f"/incidents/{ref}/postmortem/lint")
    assert [f["text"] for f in found] == ["Bob failed to"]
    assert lines(flagged) == [
        f'Root Cause: "Bob failed to" - {found[0]["message"]}',
        f"  suggestion: {found[0]['suggestion']}",
    ]
    neutral = {"root_cause": "Nothing prompted for the migration step."}
    api(server, "PATCH", f"/incidents/{ref}/postmortem", json=neutral)
    assert assert_ok(server.cli("postmortem", "lint", ref)).out == "no blaming language found\n"


def test_review_publish_and_close(server: Deployment) -> None:
    ref = resolved(server, "Search cluster split")
    assert_refused(
        server.cli("postmortem", "publish", ref),
        1,
        "a postmortem in draft cannot move to published (allowed: in_review)",
    )
    assert_refused(
        server.cli("phase", ref, "closed"),
        1,
        f"{ref} needs its postmortem published before closing (it is draft)",
    )
    assert (
        assert_ok(server.cli("postmortem", "review", ref)).out == f"{ref} postmortem: in review\n"
    )
    assert assert_ok(server.cli("postmortem", "draft", ref)).out == f"{ref} postmortem: draft\n"
    assert_ok(server.cli("postmortem", "review", ref))
    assert_refused(
        server.cli("postmortem", "publish", ref), 1, "write the root cause before publishing"
    )
    cause = {"root_cause": "Two masters after a network partition."}
    api(server, "PATCH", f"/incidents/{ref}/postmortem", json=cause)
    assert (
        assert_ok(server.cli("postmortem", "publish", ref)).out == f"{ref} postmortem: published\n"
    )
    assert_refused(
        server.cli("postmortem", "review", ref),
        1,
        "a postmortem in published cannot move to in_review (allowed: none)",
    )
    assert_ok(server.cli("phase", ref, "closed"))
    assert api(server, "GET", f"/incidents/{ref}")["phase"] == "closed"


# Action items


def test_action_add_and_list(server: Deployment) -> None:
    ref = resolved(server, "Search quota exceeded")
    due = today() + timedelta(days=10)
    added = assert_ok(
        server.cli(
            "action",
            "add",
            ref,
            "Raise the search quota",
            "--category",
            "Prevent",
            "--priority",
            "p1",
            "--owner",
            "@dave",
            "--due",
            due.isoformat(),
            "--tracker",
            "https://tracker.example.com/OPS-1",
        )
    )
    [item] = api(server, "GET", f"/incidents/{ref}/postmortem")["action_items"]
    assert added.out == f"action item {item['id']} on {ref}: Raise the search quota\n"
    assert (
        item["category"],
        item["priority"],
        item["owner"],
        item["due"],
        item["tracker_url"],
    ) == (
        "prevent",
        "P1",
        "dave",
        due.isoformat(),
        "https://tracker.example.com/OPS-1",
    )
    as_json = assert_ok(
        server.cli(
            "action",
            "add",
            ref,
            "Alert on quota use",
            "--category=detect",
            "--priority=P2",
            "--owner=dave",
            f"--due={due.isoformat()}",
            "--json",
        )
    ).json()
    assert (as_json["incident"], as_json["title"], as_json["status"]) == (
        ref,
        "Alert on quota use",
        "open",
    )
    table = assert_ok(server.cli("action", "ls", "--owner", "dave"))
    assert lines(table)[0].split() == ["ID", "INCIDENT", "ITEM", "PRI", "OWNER", "DUE", "STATUS"]
    assert row(table, "Prevent: Raise the search quota") == [
        str(item["id"]),
        ref,
        "Prevent:",
        "Raise",
        "the",
        "search",
        "quota",
        "P1",
        "@dave",
        due.isoformat(),
        "open",
    ]
    row(table, "Detect: Alert on quota use", "P2", "@dave")
    listed = assert_ok(server.cli("action", "ls", "--owner", "dave", "--json")).json()
    assert listed == api(server, "GET", "/actions", params={"owner": "dave"})
    assert {i["id"] for i in listed} >= {item["id"], as_json["id"]}
    assert all(i["owner"] == "dave" for i in listed)


def test_action_add_refusals(server: Deployment, erin: str) -> None:
    ref = resolved(server, "Search reindex stuck")
    base = ("action", "add", ref, "Do a thing", "--category", "fix", "--priority", "P0")
    due = (today() + timedelta(days=3)).isoformat()
    assert_refused(
        server.cli(*base, "--owner", "bob", "--due", "12/04"),
        2,
        "--due '12/04': use YYYY-MM-DD",
    )
    no_owner = server.cli(*base, "--due", due)
    assert no_owner.code == 2, no_owner
    assert "--owner" in no_owner.err
    no_due = server.cli(*base, "--owner", "bob")
    assert no_due.code == 2, no_due
    assert "--due" in no_due.err
    assert_refused(server.cli(*base, "--owner", "nobody", "--due", due), 1, "unknown user 'nobody'")
    assert_refused(
        server.cli(
            *base[:4], "--category", "bug", "--priority", "P0", "--owner", "bob", "--due", due
        ),
        1,
        "category: Input should be 'fix', 'detect', 'prevent' or 'process'",
    )
    assert_refused(
        server.cli(*base, "--owner", "bob", "--due", "2001-01-01"),
        1,
        "the due date is before the incident began",
    )
    assert_refused(
        server.cli(*base, "--owner", "bob", "--due", due, token=erin),
        1,
        "@erin is a viewer; this needs the responder role or higher",
    )
    assert api(server, "GET", f"/incidents/{ref}/postmortem")["action_items"] == []


def test_action_done_and_wont_do(server: Deployment) -> None:
    ref = resolved(server, "Search replicas lagging")
    due = (today() + timedelta(days=5)).isoformat()
    ids = []
    for title in ("Add replica lag alert", "Rewrite replication"):
        added = assert_ok(
            server.cli(
                "action",
                "add",
                ref,
                title,
                "--category",
                "fix",
                "--priority",
                "P1",
                "--owner",
                "carol",
                "--due",
                due,
                "--json",
            )
        )
        ids.append(added.json()["id"])
    done, skipped = ids
    assert assert_ok(server.cli("action", "done", str(done))).out == f"action item {done} done\n"
    assert_refused(
        server.cli("action", "done", str(done)), 1, f"action item {done} is already done"
    )
    no_reason = server.cli("action", "wont-do", str(skipped))
    assert no_reason.code == 2, no_reason
    assert "--reason" in no_reason.err
    assert_refused(
        server.cli("action", "wont-do", str(skipped), "--reason", "  "),
        1,
        "say why it won't be done",
    )
    assert_ok(server.cli("action", "wont-do", str(skipped), "--reason", "Superseded by OPS-2"))
    items = {i["id"]: i for i in api(server, "GET", f"/incidents/{ref}/postmortem")["action_items"]}
    assert (items[done]["status"], items[skipped]["status"]) == ("done", "wont_do")
    assert items[skipped]["reason"] == "Superseded by OPS-2"
    assert_refused(server.cli("action", "done", "999999"), 1, "no action item 999999")
    not_a_number = server.cli("action", "done", "first")
    assert not_a_number.code == 2, not_a_number
    md = markdown(server, ref)
    assert "- [x] Fix: Add replica lag alert (P1, @carol, by " in md
    assert "- [ ] Fix: Rewrite replication (P1, @carol, by " in md


def test_action_wont_do_confirms_on_stdout(server: Deployment) -> None:
    ref = resolved(server, "Search typo")
    due = (today() + timedelta(days=5)).isoformat()
    item = assert_ok(
        server.cli(
            "action",
            "add",
            ref,
            "Spell-check",
            "--category",
            "process",
            "--priority",
            "P2",
            "--owner",
            "carol",
            "--due",
            due,
            "--json",
        )
    ).json()
    closed = assert_ok(server.cli("action", "wont-do", str(item["id"]), "--reason", "cosmetic"))
    assert closed.out == f"action item {item['id']} closed: won't do\n"
    assert closed.err == ""


def test_action_ls_overdue(server: Deployment) -> None:
    demo = api(server, "GET", "/incidents/INC-1")
    assert demo["title"] == "Card payments timing out"
    declared = datetime.fromisoformat(demo["declared_at"]).date()
    past = declared + timedelta(days=1)
    assert past < today()
    item = assert_ok(
        server.cli(
            "action",
            "add",
            "INC-1",
            "Tune the provider pool",
            "--category",
            "fix",
            "--priority",
            "P0",
            "--owner",
            "bob",
            "--due",
            past.isoformat(),
            "--json",
        )
    ).json()
    assert item["overdue"] is True
    overdue = server.cli("action", "ls", "--overdue")
    assert overdue.code == 1, overdue  # something is overdue
    assert overdue.err == ""
    assert row(overdue, "Tune the provider pool")[-3:] == [past.isoformat(), "(overdue)", "open"]
    listed = assert_ok(server.cli("action", "ls", "--json")).json()
    assert [i["overdue"] for i in listed if i["id"] == item["id"]] == [True]
    assert_ok(server.cli("action", "done", str(item["id"])))
    # Nothing else on this server is past due: the list is empty and the exit code 0.
    cleared = assert_ok(server.cli("action", "ls", "--overdue"))
    assert [line.split() for line in lines(cleared)] == [
        ["ID", "INCIDENT", "ITEM", "PRI", "OWNER", "DUE", "STATUS"]
    ]


def test_the_owner_is_reminded_by_mail(server: Deployment) -> None:
    """An item due today is reminded of at once (the day-before reminder is already due)."""
    ref = resolved(server, "Search autocomplete empty")
    due = today()
    item = assert_ok(
        server.cli(
            "action",
            "add",
            ref,
            "Test autocomplete in CI",
            "--category",
            "detect",
            "--priority",
            "P1",
            "--owner",
            "dave",
            "--due",
            due.isoformat(),
            "--json",
        )
    ).json()
    [contact] = api(server, "GET", "/users/dave/contact-methods")
    subject = f"{ref} action item is due {due.isoformat()}: Test autocomplete in CI"

    def reminded() -> list[Message]:
        return [m for m in mail(server, contact["target"]) if m["Subject"] == subject]

    [message] = wait_for("the action reminder", reminded)
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert f"warroom action done {item['id']}" in payload.decode()


# The report


def test_report_by_service_and_as_json(server: Deployment) -> None:
    resolved(server, "Search slow for the report")
    data = api(server, "GET", "/report", params={"since": "30d", "by": "service"})
    as_json = assert_ok(server.cli("report", "--since", "30d", "--by", "service", "--json")).json()
    assert {k: v for k, v in as_json.items() if k not in ("since", "until")} == {
        k: v for k, v in data.items() if k not in ("since", "until")
    }
    assert as_json["by"] == "service"
    table = assert_ok(server.cli("report", "--since", "30d", "--by", "service"))
    assert lines(table)[0].startswith("incidents declared ")
    assert lines(table)[0].endswith("(minutes: median / p90 / mean)")
    assert lines(table)[1].split() == [
        "SERVICE",
        "N",
        "MTTD",
        "MTTA",
        "MTTM",
        "MTTR",
        "ACK",
        "OK",
        "UPDATES",
        "OK",
        "PM",
        "ON",
        "TIME",
    ]
    keys = [g["key"] for g in data["groups"]]
    assert "search" in keys
    assert "checkout" in keys  # the demo's INC-1 is on checkout and payments-api
    for group in [*data["groups"], data["overall"]]:
        found = [
            line.strip() for line in lines(table)[2:] if line.strip().startswith(group["key"] + " ")
        ]
        assert len(found) == 1, (group["key"], table)
        assert found[0].removeprefix(group["key"]).split()[0] == str(group["incidents"])
    assert any(line.startswith("phase windows met: detection ") for line in lines(table))
    assert any(line.startswith("action items closed on time: ") for line in lines(table))


def test_report_refusals(server: Deployment) -> None:
    assert_refused(
        server.cli("report", "--by", "region"),
        2,
        "--by must be one of severity, service, team, all",
    )
    assert_refused(
        server.cli("report", "--since", "lately"),
        1,
        "'lately' is not like 30d, 12w, 48h or 2026-01-31",
    )
    assert_refused(
        server.cli("report", "--since", "0d"), 1, "since must be between 1h and 10 years"
    )
