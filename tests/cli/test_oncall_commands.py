"""On-call and paging commands against one real `warroom serve` (demo loaded) per module.

The demo has alice (admin, the CLI's default caller), bob, carol, dave
(responders with an email contact each) and erin (viewer, no contact); the
schedule payments-primary (bob, carol, alice weekly, Europe/Berlin) and the
policy payments (payments-primary, then alice) on checkout and payments-api.
The server runs the worker in-process; with no SMTP server it writes mail to
var/mail, which is how these tests see pages and test notifications arrive.

The server's behaviour does not depend on the database here, so it runs on
SQLite only; every test leaves the organisation as it found it.
"""

from __future__ import annotations

import email
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import httpx
import pytest
from icalendar import Calendar

from tests.e2e.harness import Deployment, Outcome, assert_ok, assert_refused, new_deployment

# One server for the module: under `--dist loadgroup` its tests stay on one xdist worker.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("cli-oncall")]

API = "/api/v1"


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("oncall-cli")
    with new_deployment(request.config, "sqlite", root) as deployment:
        deployment.prepare()
        deployment.start()
        yield deployment


@pytest.fixture(scope="module")
def tokens(server: Deployment) -> dict[str, str]:
    return {handle: server.issue_token(handle) for handle in ("bob", "erin")}


def api(server: Deployment, method: str, path: str, **kwargs: Any) -> Any:
    response = server.api(method, API + path, **kwargs)
    assert response.is_success, response.text
    return response.json() if response.content else None


def lines(outcome: Outcome) -> list[str]:
    return [line.rstrip() for line in outcome.out.splitlines() if line.strip()]


def row(outcome: Outcome, *cells: str) -> str:
    """The one output line holding all of ``cells``."""
    found = [line for line in lines(outcome) if all(cell in line for cell in cells)]
    assert len(found) == 1, (cells, outcome)
    return found[0]


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll ``check`` until it returns something truthy (the worker runs on its own clock)."""
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


def body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    return payload.decode() if isinstance(payload, bytes) else str(message.get_payload())


def about(server: Deployment, to: str, ref: str) -> list[Message]:
    """Mail to ``to`` about incident ``ref``."""
    return [m for m in mail(server, to) if ref in str(m["Subject"])]


def weekday_schedule(handle: str) -> dict[str, Any]:
    """Someone on call 09:00-17:00 London time on weekdays only, since a week ago."""
    start = (datetime.now(UTC) - timedelta(days=7)).replace(hour=9, minute=0, second=0)
    return {
        "name": "Office hours",
        "time_zone": "Europe/London",
        "layers": [
            {
                "name": "office",
                "participants": [handle],
                "shift_unit": "days",
                "start": iso(start),
                "restrictions": [{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}],
            }
        ],
    }


def always(handle: str) -> dict[str, Any]:
    start = datetime.now(UTC) - timedelta(days=7)
    layer = {"name": "all", "participants": [handle], "shift_unit": "weeks", "start": iso(start)}
    return {"name": f"All week {handle}", "time_zone": "UTC", "layers": [layer]}


# Who is on call


def test_oncall_prints_who_is_on_call_per_schedule(server: Deployment) -> None:
    [now] = api(server, "GET", "/oncall")
    assert now["schedule"] == "payments-primary"
    table = assert_ok(server.cli("oncall"))
    assert lines(table)[0].split() == ["SCHEDULE", "ON", "CALL", "UNTIL"]
    row(table, "payments-primary", f"@{now['user']}")

    at = "2030-01-07T10:00:00+00:00"
    as_json = assert_ok(server.cli("oncall", "--at", at, "--json"))
    assert as_json.json() == api(server, "GET", "/oncall", params={"at": at})
    one = assert_ok(server.cli("oncall", "--schedule", "payments-primary", "--at", at, "--json"))
    assert one.json() == as_json.json()


def test_oncall_reads_a_time_without_offset_as_local(server: Deployment) -> None:
    local = assert_ok(server.cli("oncall", "--at", "2030-01-07T10:00", "--json", TZ="UTC"))
    [answer] = local.json()
    assert answer["at"] == "2030-01-07T10:00:00Z"


def test_oncall_refusals(server: Deployment) -> None:
    assert_refused(
        server.cli("oncall", "--at", "yesterday"),
        2,
        "--at 'yesterday': give a time like 2026-03-08T09:00",
    )
    assert_refused(server.cli("oncall", "--schedule", "nope"), 1, "no schedule 'nope'")


def test_preview_shows_shifts_gaps_and_clock_changes(server: Deployment) -> None:
    api(server, "PUT", "/schedules/cli-office", json=weekday_schedule("dave"))
    try:
        # A year in London always holds both clock changes.
        table = assert_ok(server.cli("oncall", "preview", "cli-office", "--weeks", "52"))
        assert lines(table)[0] == "cli-office (Europe/London), 52 weeks"
        assert lines(table)[1].split() == ["FROM", "WHO", "UNTIL", "LAYER"]
        assert "GAP: nobody on call" in table.out
        assert "DST: UTC+00:00 → UTC+01:00" in table.out
        assert "DST: UTC+01:00 → UTC+00:00" in table.out
        assert "@dave" in table.out
        assert "office" in table.out
        assert "no coverage gaps" not in table.out
        data = assert_ok(server.cli("oncall", "preview", "cli-office", "--json")).json()
        assert (data["schedule"], data["time_zone"]) == ("cli-office", "Europe/London")
        assert data["gaps"] != []
        assert {s["user"] for s in data["shifts"]} == {"dave"}
    finally:
        api(server, "DELETE", "/schedules/cli-office")


def test_preview_of_a_full_rotation_has_no_gaps(server: Deployment) -> None:
    table = assert_ok(server.cli("oncall", "preview", "payments-primary", "--weeks", "2"))
    assert lines(table)[-1] == "no coverage gaps"
    assert "GAP" not in table.out
    preview = api(server, "GET", "/schedules/payments-primary/preview", params={"weeks": 2})
    shifts = [line.split() for line in lines(table) if line.endswith("weekly")]
    # FROM and UNTIL are "YYYY-MM-DD HH:MM ZONE": the person is the fourth word.
    assert [words[3] for words in shifts] == [f"@{s['user']}" for s in preview["shifts"]]


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("oncall", "preview", "nope"), 1, "no schedule 'nope'"),
        (("oncall", "preview", "payments-primary", "--weeks", "0"), 2, "--weeks"),
        (("oncall", "preview", "payments-primary", "--weeks", "53"), 2, "--weeks"),
        (("oncall", "preview"), 2, "Missing argument 'schedule'"),
    ],
)
def test_preview_refusals(server: Deployment, args: tuple[str, ...], code: int, says: str) -> None:
    outcome = server.cli(*args)
    if code == 1:
        assert_refused(outcome, 1, says)
    else:
        assert outcome.code == 2, outcome
        assert says in outcome.err, outcome
        assert "Traceback" not in outcome.err


def test_unreachable_lists_people_on_call_without_a_contact_method(server: Deployment) -> None:
    fine = assert_ok(server.cli("oncall", "unreachable"))
    assert lines(fine) == ["everyone on call in the next 24 h can be reached"]
    assert assert_ok(server.cli("oncall", "unreachable", "--json")).json() == []
    api(server, "PUT", "/schedules/cli-erin", json=always("erin"))
    try:
        flagged = server.cli("oncall", "unreachable")
        assert flagged.code == 1, flagged  # like a check: 1 when someone cannot be reached
        assert "Traceback" not in flagged.err
        assert lines(flagged)[0].split() == ["USER", "SCHEDULES", "SHIFT", "STARTS", "PROBLEM"]
        assert row(flagged, "@erin").split() == [
            "@erin",
            "cli-erin",
            "now",
            "no",
            "working",
            "contact",
            "method",
        ]
        [erin] = assert_ok(server.cli("oncall", "unreachable", "--json")).json()
        [from_api] = api(server, "GET", "/oncall/unreachable")
        # first_shift_start is "now" for a shift running already, so it moves between calls.
        assert erin.pop("first_shift_start") <= from_api.pop("first_shift_start")
        assert (
            erin
            == from_api
            == {
                "user": "erin",
                "schedules": ["cli-erin"],
                "on_call_now": True,
                "problem": "no working contact method",
            }
        )
    finally:
        api(server, "DELETE", "/schedules/cli-erin")


# Schedules and overrides


def test_schedule_ls_and_show(server: Deployment) -> None:
    listed = assert_ok(server.cli("schedule", "ls"))
    assert lines(listed)[0].split() == [
        "SLUG",
        "NAME",
        "TIME",
        "ZONE",
        "LAYERS",
        "ON",
        "CALL",
        "NOW",
    ]
    [payments] = api(server, "GET", "/schedules")
    assert row(listed, "payments-primary").split() == [
        "payments-primary",
        "Payments",
        "primary",
        "Europe/Berlin",
        "1",
        f"@{payments['on_call_now']}",
    ]
    assert assert_ok(server.cli("schedule", "ls", "--json")).json() == [payments]

    shown = assert_ok(server.cli("schedule", "show", "payments-primary"))
    assert lines(shown)[0] == "Payments primary (payments-primary, Europe/Berlin)"
    assert "layer weekly: @bob, @carol, @alice, 1 weeks each, handoff 09:00" in shown.out
    [feed] = [line for line in lines(shown) if line.startswith("calendar feed: ")]
    url = feed.removeprefix("calendar feed: ")
    assert url.startswith(f"{server.url}/oncall/payments-primary.ics?token=")
    calendar = httpx.get(url, timeout=10.0)
    assert calendar.status_code == 200
    assert calendar.headers["content-type"].startswith("text/calendar")
    summaries = {str(e.get("summary")) for e in Calendar.from_ical(calendar.content).walk("VEVENT")}
    assert summaries == {"On call: bob", "On call: carol", "On call: alice"}
    as_json = assert_ok(server.cli("schedule", "show", "payments-primary", "--json")).json()
    assert as_json == api(server, "GET", "/schedules/payments-primary")
    assert_refused(server.cli("schedule", "show", "nope"), 1, "no schedule 'nope'")


def test_schedule_override_puts_someone_on_call(server: Deployment) -> None:
    start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    end = start + timedelta(hours=2)
    made = assert_ok(
        server.cli(
            "schedule",
            "override",
            "payments-primary",
            "@dave",
            "--start",
            iso(start),
            "--end",
            iso(end),
        )
    )
    [override] = api(server, "GET", "/schedules/payments-primary")["overrides"]
    try:
        assert lines(made) == [lines(made)[0]]
        assert lines(made)[0].startswith(f"override {override['id']}: @dave on call from ")
        inside = iso(start + timedelta(hours=1))
        [who] = assert_ok(
            server.cli("oncall", "--schedule", "payments-primary", "--at", inside, "--json")
        ).json()
        assert who["user"] == "dave"
        shown = assert_ok(server.cli("schedule", "show", "payments-primary"))
        assert f"override {override['id']}: @dave " in shown.out
    finally:
        api(server, "DELETE", f"/schedules/payments-primary/overrides/{override['id']}")


def test_schedule_override_refusals(server: Deployment, tokens: dict[str, str]) -> None:
    start = datetime.now(UTC) + timedelta(days=2)
    later, earlier = iso(start + timedelta(hours=1)), iso(start)
    base = ("schedule", "override", "payments-primary")
    assert_refused(
        server.cli(*base, "dave", "--start", later, "--end", earlier),
        1,
        "an override must end after it starts",
    )
    assert_refused(
        server.cli(*base, "zed", "--start", earlier, "--end", later), 1, "unknown user 'zed'"
    )
    assert_refused(
        server.cli(*base, "dave", "--start", earlier, "--end", later, token=tokens["erin"]),
        1,
        "@erin is a viewer; this needs the responder role or higher",
    )
    assert_refused(server.cli(*base, "dave", "--start", "soon", "--end", later), 2, "--at 'soon'")
    missing = server.cli(*base, "dave", "--end", later)
    assert missing.code == 2
    assert "Missing option '--start'" in missing.err
    assert api(server, "GET", "/schedules/payments-primary")["overrides"] == []


def test_policy_ls(server: Deployment) -> None:
    table = assert_ok(server.cli("policy", "ls"))
    assert lines(table)[0].split() == ["SLUG", "NAME", "LEVELS", "REPEAT", "SERVICES"]
    assert row(table, "s:payments-primary").split() == [
        "payments",
        "Payments",
        "s:payments-primary",
        "(5m)",
        "→",
        "u:alice",
        "(5m)",
        "1",
        "checkout,",
        "payments-api",
    ]
    policies = assert_ok(server.cli("policy", "ls", "--json")).json()
    assert policies == api(server, "GET", "/escalation-policies")


# Paging


def test_pages_escalate_and_reassign(server: Deployment, tokens: dict[str, str]) -> None:
    declared = assert_ok(
        server.cli("declare", "CLI paging check", "--sev", "1", "--service", "checkout", "--json")
    )
    ref = declared.json()["ref"]
    try:
        [on_call] = api(server, "GET", "/oncall")
        address = f"{on_call['user']}@demo.warroom.test"
        [page_mail] = wait_for("the page mail", lambda: about(server, address, ref))
        assert f"{server.url}/ack/" in body(page_mail)

        active = assert_ok(server.cli("pages", "--active"))
        assert lines(active)[0].split() == [
            "ID",
            "INCIDENT",
            "POLICY",
            "STATUS",
            "LEVEL",
            "NEXT",
            "STEP",
            "ACK",
            "BY",
        ]
        [page] = api(server, "GET", "/pages", params={"active": "true"})
        assert row(active, ref).split()[:5] == [str(page["id"]), ref, "payments", "active", "1"]
        listed = assert_ok(server.cli("pages", "--json")).json()
        assert listed == api(server, "GET", "/pages")

        alice = "alice@demo.warroom.test"
        before = len(about(server, alice, ref))
        escalated = assert_ok(server.cli("escalate", ref, token=tokens["bob"]))
        assert lines(escalated) == [f"{ref}: escalating to the next level of payments"]
        wait_for(
            "level 2",
            lambda: api(server, "GET", f"/incidents/{ref}/pages")[0]["level"] == 2,
        )
        wait_for("alice's page", lambda: len(about(server, alice, ref)) > before)

        reassigned = assert_ok(server.cli("reassign", ref, "@dave", token=tokens["bob"]))
        assert lines(reassigned) == [f"{ref}: paging @dave"]
        kinds = [e["kind"] for e in api(server, "GET", f"/incidents/{ref}/timeline")]
        assert "page_reassigned" in kinds
        assert_refused(server.cli("reassign", ref, "zed"), 1, "unknown user 'zed'")
        assert_refused(
            server.cli("escalate", ref, token=tokens["erin"]),
            1,
            "@erin is a viewer; this needs the responder role or higher",
        )

        assert_ok(server.cli("ack", ref, token=tokens["bob"]))
        assert_refused(
            server.cli("escalate", ref),
            1,
            "no page is running for this incident; it is acknowledged or ended",
        )
        assert_refused(server.cli("reassign", ref, "dave"), 1, "no page is running")
        after = assert_ok(server.cli("pages"))
        assert row(after, ref).split()[1:4] == [ref, "payments", "acknowledged"]
        assert row(after, ref).endswith("@bob")
    finally:
        api(server, "POST", f"/incidents/{ref}/resolve")


def test_paging_refusals(server: Deployment) -> None:
    assert_refused(server.cli("escalate", "INC-99999"), 1, "INC-99999")
    missing = server.cli("reassign", "INC-1")
    assert missing.code == 2
    assert "Missing argument 'user'" in missing.err


# Contact methods and notifications


def test_contact_add_ls_rm(server: Deployment) -> None:
    added = assert_ok(
        server.cli("contact", "add", "dave", "--email", "dave.home@example.com", "--label", "home")
    )
    home = lines(added)[0]
    assert home.startswith("contact method ")
    assert home.endswith(": email dave.home@example.com")
    home_id = int(home.removeprefix("contact method ").split(":")[0])
    hook = assert_ok(
        server.cli("contact", "add", "@dave", "--webhook", "https://hooks.example.com/dave")
    )
    hook_id = int(lines(hook)[0].removeprefix("contact method ").split(":")[0])
    assert lines(hook)[0].endswith(": webhook https://hooks.example.com/dave")
    secret = lines(hook)[1]
    assert secret.startswith("whsec_")
    assert "the webhook signing secret above is shown only now" in hook.err
    try:
        table = assert_ok(server.cli("contact", "ls", "dave"))
        assert lines(table)[0].split() == [
            "ID",
            "KIND",
            "LABEL",
            "TARGET",
            "STATE",
            "LAST",
            "SUCCESS",
        ]
        assert row(table, "dave.home@example.com").split() == [
            str(home_id),
            "email",
            "home",
            "dave.home@example.com",
            "ok",
            "-",
        ]
        assert row(table, "https://hooks.example.com/dave").split() == [
            str(hook_id),
            "webhook",
            "webhook",
            "https://hooks.example.com/dave",
            "ok",
            "-",
        ]
        assert row(table, "dave@demo.warroom.test").split()[1:5] == [
            "email",
            "work",
            "dave@demo.warroom.test",
            "ok",
        ]
        assert "whsec_" not in table.out
        as_json = assert_ok(server.cli("contact", "ls", "dave", "--json")).json()
        assert as_json == api(server, "GET", "/users/dave/contact-methods")
        assert secret not in str(as_json)
        json_add = assert_ok(
            server.cli(
                "contact", "add", "dave", "--webhook", "https://hooks.example.com/2", "--json"
            )
        ).json()
        assert json_add["secret"].startswith("whsec_")
        assert_ok(server.cli("contact", "rm", "dave", str(json_add["id"])))
    finally:
        for contact_id in (home_id, hook_id):
            removed = assert_ok(server.cli("contact", "rm", "dave", str(contact_id)))
            assert lines(removed) == [f"removed contact method {contact_id}"]
    assert_refused(
        server.cli("contact", "rm", "dave", str(home_id)),
        1,
        f"@dave has no contact method {home_id}",
    )
    left = api(server, "GET", "/users/dave/contact-methods")
    assert [c["label"] for c in left] == ["work"]


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("contact", "add", "dave"), 2, "give exactly one of --email or --webhook"),
        (
            (
                "contact",
                "add",
                "dave",
                "--email",
                "d@example.com",
                "--webhook",
                "https://x.example",
            ),
            2,
            "give exactly one of --email or --webhook",
        ),
        (("contact", "add", "dave", "--email", "nope"), 1, "'nope' is not an email address"),
        (
            ("contact", "add", "dave", "--webhook", "http://hooks.example.com/x"),
            1,
            "webhooks must use https (http only for localhost)",
        ),
        (("contact", "ls", "nobody"), 1, "no user 'nobody'"),
    ],
)
def test_contact_refusals(server: Deployment, args: tuple[str, ...], code: int, says: str) -> None:
    assert_refused(server.cli(*args), code, says)
    assert [c["label"] for c in api(server, "GET", "/users/dave/contact-methods")] == ["work"]


def test_only_the_person_or_an_admin_sees_contact_methods(
    server: Deployment, tokens: dict[str, str]
) -> None:
    says = "only the person themselves or an admin can see or change contact methods"
    assert_refused(server.cli("contact", "ls", "carol", token=tokens["bob"]), 1, says)
    assert_refused(
        server.cli("contact", "add", "carol", "--email", "x@example.com", token=tokens["bob"]),
        1,
        says,
    )
    own = assert_ok(server.cli("contact", "ls", "bob", "--json", token=tokens["bob"])).json()
    assert [c["target"] for c in own] == ["bob@demo.warroom.test"]


def test_notify_rules_show_and_replace(server: Deployment) -> None:
    [work] = api(server, "GET", "/users/dave/contact-methods")
    extra = api(
        server,
        "POST",
        "/users/dave/contact-methods",
        json={"kind": "email", "target": "dave.phone@example.com", "label": "phone"},
    )
    try:
        none = assert_ok(server.cli("notify", "rules", "dave"))
        assert lines(none) == ["no rules: every contact method is notified at once"]
        replaced = assert_ok(
            server.cli(
                "notify",
                "rules",
                "dave",
                "--rule",
                f"{work['id']}:0",
                "--rule",
                f"{extra['id']}:90s",
            )
        )
        assert lines(replaced) == [
            f"after 0 min: email (work, id {work['id']})",
            f"after 1.5 min: email (phone, id {extra['id']})",
        ]
        hours = assert_ok(
            server.cli("notify", "rules", "dave", "--rule", f"{extra['id']}:1h", "--json")
        ).json()
        assert hours == [
            {"contact_id": extra["id"], "kind": "email", "label": "phone", "delay_minutes": 60.0}
        ]
        assert assert_ok(server.cli("notify", "rules", "dave", "--json")).json() == hours
    finally:
        api(server, "PUT", "/users/dave/notification-rules", json=[])
        api(server, "DELETE", f"/users/dave/contact-methods/{extra['id']}")


@pytest.mark.parametrize(
    ("rule", "code", "says"),
    [
        ("x", 2, "--rule 'x': use CONTACT_ID:DELAY, e.g. 3:0 or 4:2m"),
        ("3:5d", 2, "--rule '3:5d': use CONTACT_ID:DELAY"),
        (":2m", 2, "--rule ':2m': use CONTACT_ID:DELAY"),
        ("999999:0", 1, "@dave has no contact method 999999"),
        ("1:25h", 1, "delay_minutes"),
    ],
)
def test_notify_rules_refusals(server: Deployment, rule: str, code: int, says: str) -> None:
    assert_refused(server.cli("notify", "rules", "dave", "--rule", rule), code, says)
    assert api(server, "GET", "/users/dave/notification-rules") == []


def test_notify_test_sends_through_each_contact_method(server: Deployment) -> None:
    sent = assert_ok(server.cli("notify", "test", "carol"))
    assert lines(sent) == ["queued: email carol@demo.warroom.test"]
    assert "the worker sends them now" in sent.err
    [test_mail] = wait_for(
        "the test mail",
        lambda: [
            m
            for m in mail(server, "carol@demo.warroom.test")
            if m["Subject"] == "warroom test notification"
        ],
    )
    assert "@carol through 'work'" in body(test_mail)
    wait_for(
        "the recorded success",
        lambda: api(server, "GET", "/users/carol/contact-methods")[0]["last_success_at"],
    )
    assert_refused(server.cli("notify", "test", "erin"), 1, "@erin has no contact method to test")
    usage = server.cli("notify", "test")
    assert usage.code == 2
    assert "Missing argument 'user'" in usage.err
