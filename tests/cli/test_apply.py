"""`warroom apply -f FILE`: organisation as code against a real server, and the file's checks.

One demo server serves the whole module (SQLite: apply is a client, so the
backend does not change what it does). Only ``applied`` writes to it, once;
every other test against it is a dry run or a file refused before any write.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.apply_files import EXAMPLE, edited, line_of, write
from tests.e2e.harness import Deployment, Outcome, assert_ok, new_deployment
from warroom.cli.apply_diff import plan
from warroom.cli.apply_plan import LISTS, Server
from warroom.cli.apply_schema import read_org
from warroom.cli.apply_yaml import load

pytestmark = pytest.mark.e2e
# The tests on the module's server run on one xdist worker, so it starts once.
ON_SERVER = pytest.mark.xdist_group("cli-apply")


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("apply")
    with new_deployment(request.config, "sqlite", root) as deployment:
        deployment.prepare()
        deployment.start()
        yield deployment


@pytest.fixture(scope="module")
def applied(server: Deployment) -> Outcome:
    """examples/org.yaml applied once to the fresh demo organisation."""
    return server.cli("apply", "-f", str(EXAMPLE))


def apply(server: Deployment, path: Path, *options: str) -> Outcome:
    return server.cli("apply", "-f", str(path), *options)


@ON_SERVER
def test_the_example_applies_to_the_demo(server: Deployment, applied: Outcome) -> None:
    lines = assert_ok(applied).out.splitlines()
    for expected in (
        "= severity 1: unchanged",
        "+ user nina",
        "+ user omar",
        "~ team payments: members: alice, bob, carol → alice, bob, carol, nina, omar",
        "+ schedule payments-weekly",
        "+ escalation policy checkout-urgent",
        "~ service checkout: escalation_policy: payments → checkout-urgent",
    ):
        assert expected in lines, applied
    assert "applied: 5 created, 2 changed, 4 unchanged" in lines, applied
    assert "shown only now" in applied.err

    policy = server.api("GET", "/api/v1/escalation-policies/checkout-urgent").json()
    assert [level["timeout_minutes"] for level in policy["levels"]] == [1, 1]
    assert policy["levels"][0]["targets"] == [{"kind": "schedule", "ref": "payments-weekly"}]
    assert (policy["repeat"], policy["services"]) == (1, ["checkout"])
    schedule = server.api("GET", "/api/v1/schedules/payments-weekly").json()
    assert schedule["layers"][0]["participants"] == ["nina", "omar"]
    assert schedule["time_zone"] == "Europe/Berlin"
    rules = server.api("GET", "/api/v1/users/nina/notification-rules").json()
    assert [(r["kind"], r["label"], r["delay_minutes"]) for r in rules] == [("email", "work", 0)]


@ON_SERVER
def test_the_printed_key_works_and_the_rule_declares_a_sev2(
    server: Deployment, applied: Outcome
) -> None:
    [line] = [x for x in applied.out.splitlines() if x.startswith("key of integration")]
    key = line.split(": ", 1)[1].split()[0]
    [row] = server.api("GET", "/api/v1/integrations", params={"service": "checkout"}).json()
    assert (row["name"], row["key_prefix"]) == ("checkout-alertmanager", key[:6])
    labels = {"alertname": "CheckoutDown", "severity": "critical"}
    notification = {"version": "4", "alerts": [{"status": "firing", "labels": labels}]}
    sent = httpx.post(f"{server.url}/integrations/alertmanager/{key}", json=notification)
    assert sent.status_code == 200, sent.text
    [ref] = sent.json()["incidents"]
    assert server.api("GET", f"/api/v1/incidents/{ref}").json()["severity"] == "SEV-2"


@ON_SERVER
def test_a_second_apply_changes_nothing(server: Deployment, applied: Outcome) -> None:
    assert_ok(applied)
    again = assert_ok(apply(server, EXAMPLE))
    lines = again.out.splitlines()
    assert lines[-1] == "no changes (11 unchanged)"
    assert not [x for x in lines if x[:1] in "+~!"], again
    assert "key of" not in again.out


@ON_SERVER
def test_a_dry_run_shows_the_diff_and_changes_nothing(server: Deployment, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        severities:
          - level: 3
            ack_target: 2h
        users:
          - handle: dry-pat
            name: Pat
            email: pat@example.com
        """,
    )
    before = server.api("GET", "/api/v1/severities").json()
    shown = assert_ok(apply(server, path, "--dry-run"))
    assert shown.out.splitlines() == [
        "~ severity 3: ack_target: 1h → 2h",
        "+ user dry-pat",
        "dry run: would create 1, change 1; 0 unchanged; nothing applied",
    ]
    assert server.api("GET", "/api/v1/users/dry-pat").status_code == 404
    assert server.api("GET", "/api/v1/severities").json() == before


@ON_SERVER
def test_a_changed_timeout_shows_as_a_change(
    server: Deployment, applied: Outcome, tmp_path: Path
) -> None:
    assert_ok(applied)
    text = EXAMPLE.read_text()
    head, _, tail = text.rpartition("timeout: 1m")
    path = write(tmp_path, head + "timeout: 2m" + tail, dedent=False)
    shown = assert_ok(apply(server, path, "--dry-run"))
    assert "~ escalation policy checkout-urgent: levels[1].timeout: 1m → 2m" in shown.out
    as_json = assert_ok(apply(server, path, "--dry-run", "--json")).json()
    [changed] = [c for c in as_json["changes"] if c["action"] == "change"]
    assert changed["deltas"] == [
        {"field": "levels[1].timeout", "old": "1m", "new": "2m", "supported": True}
    ]
    policy = server.api("GET", "/api/v1/escalation-policies/checkout-urgent").json()
    assert policy["levels"][1]["timeout_minutes"] == 1


def _refused(outcome: Outcome, *fragments: str) -> None:
    assert outcome.code == 2, outcome
    assert outcome.out == "", outcome
    assert "Traceback" not in outcome.err, outcome
    for fragment in fragments:
        assert fragment in outcome.err, outcome
    assert "nothing applied" in outcome.err.splitlines()[-1], outcome


@ON_SERVER
def test_an_unknown_key_is_refused_with_its_line(server: Deployment, tmp_path: Path) -> None:
    text = edited("    shift_count: 1\n", "    shift_count: 1\n        colour: red\n")
    path = write(tmp_path, text.replace("handle: omar", "handle: olga"), dedent=False)
    line = line_of(path, "colour: red")
    _refused(apply(server, path), f"org.yaml:{line}: ", "unknown key 'colour'")
    # Checked before the first write: the new person was not created either.
    assert server.api("GET", "/api/v1/users/olga").status_code == 404


@ON_SERVER
def test_broken_references_are_refused_with_their_lines(server: Deployment, tmp_path: Path) -> None:
    text = edited("[user:nina, user:omar]", "[user:nina, user:nobody]")
    path = write(
        tmp_path, text.replace("    team: payments\n    escal", "    team: nope\n    escal")
    )
    _refused(
        apply(server, path),
        f"org.yaml:{line_of(path, 'user:nobody')}: escalation_policies[0].levels[1].targets[1]: "
        "no user 'nobody' in this file or on the server",
        f"org.yaml:{line_of(path, 'team: nope')}: services[0].team: no team 'nope'",
        "2 problems",
    )


@ON_SERVER
def test_a_yaml_syntax_error_is_refused_with_its_line(server: Deployment, tmp_path: Path) -> None:
    path = write(tmp_path, "users:\n  - handle: x\n    name: [unclosed\n  - handle: y\n")
    _refused(apply(server, path), "org.yaml:4: not valid YAML", "flow sequence at line 3")


@ON_SERVER
def test_a_refusal_by_the_server_exits_1_naming_the_object(
    server: Deployment, tmp_path: Path
) -> None:
    path = write(tmp_path, "severities:\n  - level: 2\n    name: SEV-1\n")
    refused = apply(server, path)
    assert refused.code == 1, refused
    assert "error: severity 2: name 'SEV-1' is used by level 1" in refused.err
    assert "nothing was changed" in refused.err


def test_the_example_applies_to_an_empty_organisation(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    with new_deployment(request.config, "sqlite", tmp_path) as empty:
        assert_ok(empty.warroom("db", "upgrade"))
        assert_ok(
            empty.warroom(
                "user", "create", "root", "--name", "Root", "--email", "r@x.io", "--role", "admin"
            )
        )
        token = empty.issue_token("root")
        empty.start()
        first = assert_ok(empty.cli("apply", "-f", str(EXAMPLE), token=token))
        assert "+ team payments" in first.out.splitlines()
        assert "+ service checkout" in first.out.splitlines()
        assert first.out.splitlines()[-2] == "applied: 7 created, 0 changed, 4 unchanged"
        assert empty.api("GET", "/api/v1/services/checkout/alert-settings", token=token).is_success


QUIRKS = """
x-person: &person
  role: responder
  time_zone: Europe/Oslo
users:
  - handle: kari
    <<: *person
    role: admin
    name: 2024
    email: Kari@Example.com
teams:
  - slug: oslo
    business_hours: {start: 8:00, end: 17:00, weekdays: [mon, 4], country: NO}
schedules:
  - slug: oslo-days
    layers:
      - participants: [kari]
        handoff: 17:30
        start: 2026-01-05T09:00:00+01:00
"""


def test_yaml_quirks_are_read_as_people_mean_them() -> None:
    checker = load(QUIRKS)
    items = {item.key: item.fields for item in read_org(checker)}
    assert checker.problems == []
    assert items["kari"] == {
        "role": "admin",
        "time_zone": "Europe/Oslo",
        "name": "2024",
        "email": "kari@example.com",
    }
    hours = items["oslo"]["business_hours"]
    assert (hours["start"], hours["end"], hours["weekdays"], hours["country"]) == (
        "08:00",
        "17:00",
        [0, 4],
        "NO",
    )
    assert items["oslo-days"]["layers"][0]["handoff"] == "17:30"


def test_every_problem_is_reported_with_its_line() -> None:
    checker = load(
        "users:\n"
        "  - handle: Pat\n"
        "    email: nope\n"
        "    contact_methods: [{email: a@b.io, webhook: https://x.io}]\n"
        "    notification_rules: [{contact: pager, delay: 2 weeks}]\n"
        "escalation_policies:\n"
        "  - slug: p\n"
        "    levels: [{targets: [team:x], timeout: 30s}]\n"
        "    name: P\n"
        "    name: Q\n"
    )
    read_org(checker)
    assert sorted((p.line, p.message.split(":")[0]) for p in checker.problems) == [
        (2, "users[0].handle"),
        (3, "users[0].email"),
        (4, "users[0].contact_methods[0]"),
        (5, "users[0].notification_rules[0].contact"),
        (5, "users[0].notification_rules[0].delay"),
        (8, "escalation_policies[0].levels[0].targets[0]"),
        (8, "escalation_policies[0].levels[0].timeout"),
        (10, "duplicate key 'name'"),
    ]


def test_the_plan_adds_members_and_flags_what_the_server_cannot_change() -> None:
    checker = load(
        "teams: [{slug: ops, members: [bob, dana]}]\n"
        "services: [{slug: web, team: null, escalation_policy: ops}]\n"
    )
    items = read_org(checker)
    rows: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in LISTS}
    rows["team"]["ops"] = {
        "name": "Ops",
        "time_zone": "UTC",
        "business_hours": None,
        "members": [{"handle": "alice"}, {"handle": "bob"}],
    }
    rows["service"]["web"] = {"name": "Web", "description": "", "team": "ops"}
    team, service = plan(items, Server(rows, {}, {}, {}))
    assert [(c.method, c.path, c.body) for c in team.calls] == [
        ("PATCH", "/api/v1/teams/ops", {"members": ["alice", "bob", "dana"]})
    ]
    assert team.notes == ["members not in file, left alone: alice"]
    assert [(d.field, d.old, d.new, d.supported) for d in service.deltas] == [
        ("team", "ops", None, False),
        ("escalation_policy", None, "ops", True),
    ]
    assert [c.path for c in service.calls] == ["/api/v1/services/web/escalation-policy"]
