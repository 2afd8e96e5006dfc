"""The program report (GET /api/v1/report) and its Prometheus gauges, over API-made incidents.

The ``program`` fixture runs, one after another from Friday 2026-11-27 10:00 UTC:

- A, SEV-1 on checkout: acknowledged after 4 min, resolved at 30 min; IC rita,
  Tech Lead bob; its postmortem is published on time.
- B, SEV-1 on search: acknowledged after 10 min (target 5), mitigating at 20,
  resolved at 60; bob is both IC and Tech Lead.
- C, SEV-2 on checkout: acknowledged after 6 min (target 15), resolved at 90;
  its customer impact changed twice without a severity change.
- D, a SEV-1 drill on checkout, acknowledged and resolved in a minute each.
- E, SEV-3 with no service, never acknowledged, still open.

No internal updates are posted. A has three action items: one closed on
time, one still open past its date, one skipped (won't do). The report is
read on Monday 2026-12-07 10:00 UTC, after B's and C's postmortems fell due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Database
from tests.http.api import People, declare, error_fields
from tests.http.postmortems import API, add_action, close_action, move, ok
from warroom.clock import FixedClock

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Program:
    a: str
    b: str
    c: str
    drill: str
    e: str


def _at(clock: FixedClock, when: datetime) -> None:
    clock.advance(when - clock.now())


def _minutes(clock: FixedClock, minutes: float) -> None:
    clock.advance(timedelta(minutes=minutes))


def _incident(
    client: TestClient,
    people: People,
    clock: FixedClock,
    *,
    title: str,
    severity: int,
    services: list[str],
    ack: float | None,
    resolve: float | None,
    mitigate: float | None = None,
    drill: bool = False,
) -> str:
    start = clock.now()
    ref: str = declare(
        client, people.responder, title=title, severity=severity, services=services, drill=drill
    )["ref"]
    steps: list[tuple[float, str]] = []
    if ack is not None:
        steps.append((ack, "ack"))
    if mitigate is not None:
        steps.append((mitigate, "mitigating"))
    if resolve is not None:
        steps.append((resolve, "resolved"))
    for minutes, step in sorted(steps):
        _at(clock, start + timedelta(minutes=minutes))
        if step == "ack":
            ok(client.post(f"{API}/incidents/{ref}/ack", headers=people.bob))
        else:
            body = {"phase": step}
            ok(client.post(f"{API}/incidents/{ref}/phase", json=body, headers=people.responder))
    return ref


@pytest.fixture
def program(client: TestClient, people: People, clock: FixedClock) -> Program:
    a = _incident(
        client,
        people,
        clock,
        title="Checkout down",
        severity=1,
        services=["checkout"],
        ack=4,
        resolve=30,
    )
    roles = {"commander": "rita", "tech_lead": "bob"}
    ok(client.post(f"{API}/incidents/{a}/roles", json=roles, headers=people.responder))
    _at(clock, datetime(2026, 11, 27, 11, 0, tzinfo=UTC))
    b_start = clock.now()
    b = declare(client, people.responder, title="Search down", services=["search"])["ref"]
    both = {"commander": "bob", "tech_lead": "bob"}
    ok(client.post(f"{API}/incidents/{b}/roles", json=both, headers=people.bob))
    for minutes, path, body in (
        (10, "ack", None),
        (20, "phase", {"phase": "mitigating"}),
        (60, "phase", {"phase": "resolved"}),
    ):
        _at(clock, b_start + timedelta(minutes=minutes))
        ok(client.post(f"{API}/incidents/{b}/{path}", json=body, headers=people.bob))
    _at(clock, datetime(2026, 11, 27, 13, 0, tzinfo=UTC))
    c = _incident(
        client,
        people,
        clock,
        title="Checkout slow",
        severity=2,
        services=["checkout"],
        ack=6,
        resolve=None,
    )
    for impact in ("Some card payments slow", "Most card payments slow"):
        body = {"customer_impact": impact}
        ok(client.patch(f"{API}/incidents/{c}", json=body, headers=people.responder))
    _at(clock, datetime(2026, 11, 27, 14, 30, tzinfo=UTC))
    ok(client.post(f"{API}/incidents/{c}/resolve", headers=people.responder))
    _at(clock, datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    drill = _incident(
        client,
        people,
        clock,
        title="Game day",
        severity=1,
        services=["checkout"],
        ack=1,
        resolve=2,
        drill=True,
    )
    _at(clock, datetime(2026, 11, 27, 16, 0, tzinfo=UTC))
    e = declare(client, people.responder, title="Admin slow", severity=3)["ref"]
    # A's action items and postmortem.
    on_time = add_action(client, people.responder, a, title="on time", due="2026-11-30")
    add_action(client, people.responder, a, title="late", due="2026-12-02")
    skipped = add_action(client, people.responder, a, title="skipped", due="2026-12-01")
    add_action(client, people.responder, a, title="not due yet", due="2026-12-10")
    _at(clock, datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    ok(close_action(client, people.bob, on_time["id"]))
    ok(close_action(client, people.bob, skipped["id"], "wont_do", "superseded"))
    _at(clock, datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    cause = {"root_cause": "The pool was too small."}
    ok(client.patch(f"{API}/incidents/{a}/postmortem", json=cause, headers=people.responder))
    ok(move(client, people.responder, a, "review"))
    ok(move(client, people.responder, a, "publish"))
    _at(clock, NOW)
    return Program(a=a, b=b, c=c, drill=drill, e=e)


def report(client: TestClient, people: People, **params: str) -> dict[str, Any]:
    result: dict[str, Any] = ok(client.get(f"{API}/report", params=params, headers=people.viewer))
    return result


def group(data: dict[str, Any], key: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [g for g in data["groups"] if g["key"] == key]
    assert len(found) == 1, (key, data["groups"])
    return found[0]


def stat(count: int, mean: float | None, median: float | None, p90: float | None) -> Any:
    if mean is None:
        return {"count": count, "mean": None, "median": None, "p90": None}
    return {
        "count": count,
        "mean": pytest.approx(mean),
        "median": pytest.approx(median),
        "p90": pytest.approx(p90),
    }


def test_figures_by_severity_leave_drills_out(
    client: TestClient, people: People, program: Program
) -> None:
    data = report(client, people)
    assert data["by"] == "severity"
    assert data["since"] == "2026-11-07T10:00:00Z"
    assert data["until"] == "2026-12-07T10:00:00Z"
    assert [(g["key"], g["incidents"]) for g in data["groups"]] == [
        ("SEV-1", 2),  # A and B: the drill is not counted
        ("SEV-2", 1),
        ("SEV-3", 1),
    ]
    assert data["overall"]["incidents"] == 4
    sev1 = group(data, "SEV-1")
    assert sev1["mtta_minutes"] == stat(2, 7, 7, 9.4)  # 4 and 10: the drill's 1 is left out
    assert sev1["mttm_minutes"] == stat(2, 25, 25, 29)  # B at 20, A resolved at 30
    assert sev1["mttr_minutes"] == stat(2, 45, 45, 57)
    assert sev1["mttd_minutes"] == stat(0, None, None, None)  # no alert, no impact start
    assert sev1["ack_compliance"] == 0.5
    assert sev1["update_compliance"] == 0.0
    assert sev1["postmortems_on_time"] == 0.5  # A on time, B overdue
    sev2 = group(data, "SEV-2")
    assert sev2["mtta_minutes"] == stat(1, 6, 6, 6)
    assert sev2["mttr_minutes"] == stat(1, 90, 90, 90)
    assert (sev2["ack_compliance"], sev2["postmortems_on_time"]) == (1.0, 0.0)
    sev3 = group(data, "SEV-3")
    assert sev3["mtta_minutes"] == stat(0, None, None, None)
    assert sev3["mttr_minutes"] == stat(0, None, None, None)
    assert (sev3["ack_compliance"], sev3["postmortems_on_time"]) == (None, None)
    overall = data["overall"]
    assert overall["key"] == "all"
    assert overall["mtta_minutes"] == stat(3, 20 / 3, 6, 9.2)
    assert overall["mttr_minutes"] == stat(3, 60, 60, 84)
    assert overall["ack_compliance"] == pytest.approx(2 / 3)
    assert overall["postmortems_on_time"] == pytest.approx(1 / 3)
    # Items due by now: "on time" (closed the day before) and "late" (still open);
    # the skipped one and the one not yet due do not count.
    assert data["action_items"] == {"due": 2, "closed_on_time": 1, "ratio": 0.5}


def test_anti_patterns_are_counted_and_listed(
    client: TestClient, people: People, program: Program
) -> None:
    data = report(client, people)
    assert data["anti_pattern_counts"] == {
        "ic_also_tech_lead": 1,  # B
        "late_updates": 4,  # no updates anywhere; the drill is left out
        "postmortem_overdue": 2,  # B and C
        "postmortem_late": 0,
        "impact_without_severity": 1,  # C
    }
    found = {(p["incident"], p["kind"]) for p in data["anti_patterns"]}
    assert found == {
        (program.a, "late_updates"),
        (program.b, "ic_also_tech_lead"),
        (program.b, "late_updates"),
        (program.b, "postmortem_overdue"),
        (program.c, "late_updates"),
        (program.c, "postmortem_overdue"),
        (program.c, "impact_without_severity"),
        (program.e, "late_updates"),
    }
    details = {(p["incident"], p["kind"]): p["detail"] for p in data["anti_patterns"]}
    assert details[(program.a, "late_updates")] == "2 internal update(s) late or missing"
    assert details[(program.b, "late_updates")] == "4 internal update(s) late or missing"
    assert details[(program.c, "late_updates")] == "3 internal update(s) late or missing"
    assert details[(program.b, "ic_also_tech_lead")] == "the IC was also the Tech Lead"
    assert details[(program.c, "postmortem_overdue")] == "postmortem overdue"
    # The latest incidents first.
    numbers = [int(p["incident"].split("-")[1]) for p in data["anti_patterns"]]
    assert numbers == sorted(numbers, reverse=True)


def test_grouping_by_service_team_or_nothing(
    client: TestClient, people: People, program: Program
) -> None:
    by_service = report(client, people, by="service")
    assert [(g["key"], g["incidents"]) for g in by_service["groups"]] == [
        ("(no service)", 1),
        ("checkout", 2),  # A and C
        ("search", 1),
    ]
    checkout = group(by_service, "checkout")
    assert checkout["mttr_minutes"] == stat(2, 60, 60, 84)
    assert checkout["mtta_minutes"] == stat(2, 5, 5, 5.8)
    assert group(by_service, "search")["mttr_minutes"] == stat(1, 60, 60, 60)
    assert by_service["overall"]["incidents"] == 4
    by_team = report(client, people, by="team")
    assert [(g["key"], g["incidents"]) for g in by_team["groups"]] == [("(no team)", 4)]
    everything = report(client, people, by="all")
    assert everything["groups"] == []
    assert everything["overall"] == report(client, people)["overall"]


def test_the_period_selects_incidents_by_declaration(
    client: TestClient, people: People, program: Program
) -> None:
    only_b = report(client, people, since="2026-11-27T10:45:00Z", until="2026-11-27T12:30:00+00:00")
    assert only_b["since"] == "2026-11-27T10:45:00Z"
    assert only_b["until"] == "2026-11-27T12:30:00Z"
    assert [(g["key"], g["incidents"]) for g in only_b["groups"]] == [("SEV-1", 1)]
    assert only_b["overall"]["mtta_minutes"] == stat(1, 10, 10, 10)
    # A date without a time is midnight UTC; spans count back from now.
    from_friday = report(client, people, since="2026-11-27")
    assert from_friday["since"] == "2026-11-27T00:00:00Z"
    assert from_friday["overall"]["incidents"] == 4
    assert report(client, people, since="12w")["since"] == "2026-09-14T10:00:00Z"
    assert report(client, people, since="240h")["overall"]["incidents"] == 4
    assert report(client, people, since=" 2W ")["overall"]["incidents"] == 4


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        ({"since": "lately"}, "since", "'lately' is not like 30d, 12w, 48h or 2026-01-31"),
        ({"since": "30"}, "since", "'30' is not like"),
        ({"since": "-3d"}, "since", "'-3d' is not like"),
        ({"since": "3y"}, "since", "'3y' is not like"),
        ({"since": ""}, "since", "'' is not like"),
        ({"since": "0d"}, "since", "since must be between 1h and 10 years back"),
        ({"since": "3661d"}, "since", "since must be between 1h and 10 years back"),
        ({"since": "2030-01-01"}, "since", "the period must end after it starts"),
        ({"since": "x" * 41}, "since", "since: "),
        ({"by": "region"}, "by", "by: Input should be 'severity', 'service', 'team' or 'all'"),
    ],
)
def test_bad_periods_and_groupings_are_refused(
    client: TestClient, people: People, params: dict[str, str], field: str, says: str
) -> None:
    response = client.get(f"{API}/report", params=params, headers=people.viewer)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(says)
    assert error_fields(response.json()) == [field]


@pytest.mark.parametrize("since", ["99999999999999999d", "²d"])
def test_absurd_spans_are_refused_not_crashed_on(
    lenient_client: TestClient, people: People, since: str
) -> None:
    response = lenient_client.get(f"{API}/report", params={"since": since}, headers=people.viewer)
    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == ["since"]


def test_a_bad_until_names_until(client: TestClient, people: People) -> None:
    response = client.get(f"{API}/report", params={"until": "soon"}, headers=people.viewer)
    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == ["until"]


def test_an_empty_period_reports_zeros(
    lenient_client: TestClient, people: People, clock: FixedClock
) -> None:
    declare(lenient_client, people.responder, title="Game day", drill=True)
    response = lenient_client.get(f"{API}/report", headers=people.viewer)
    assert response.status_code == 200, response.text
    assert response.json()["overall"]["incidents"] == 0
    assert response.json()["groups"] == []


def test_viewers_read_the_report_anonymous_callers_do_not(
    client: TestClient, people: People, program: Program
) -> None:
    assert client.get(f"{API}/report").status_code == 401
    assert client.get(f"{API}/report", headers=people.admin).status_code == 200


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def minutes(severity: str, measure: str, stat_name: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    labels = {"severity": severity, "measure": measure, "stat": stat_name}
    return ("warroom_incident_minutes", tuple(sorted(labels.items())))


def ratio(severity: str, target: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    labels = {"severity": severity, "target": target}
    return ("warroom_compliance_ratio", tuple(sorted(labels.items())))


def test_metrics_expose_the_last_30_days(
    client: TestClient, people: People, program: Program
) -> None:
    found = samples(client)
    assert found[minutes("SEV-1", "mtta", "median")] == pytest.approx(7)
    assert found[minutes("SEV-1", "mtta", "p90")] == pytest.approx(9.4)
    assert found[minutes("SEV-1", "mttr", "mean")] == pytest.approx(45)
    assert found[minutes("SEV-2", "mttr", "median")] == pytest.approx(90)
    assert found[minutes("all", "mttr", "mean")] == pytest.approx(60)
    assert found[minutes("all", "mtta", "median")] == pytest.approx(6)
    # Measures without values (no MTTD anywhere, nothing acknowledged on SEV-3) are left out.
    assert not [
        key
        for key in found
        if key[0] == "warroom_incident_minutes" and ("measure", "mttd") in key[1]
    ]
    assert minutes("SEV-3", "mtta", "median") not in found
    assert found[ratio("SEV-1", "ack")] == 0.5
    assert found[ratio("SEV-2", "ack")] == 1.0
    assert found[ratio("all", "ack")] == pytest.approx(2 / 3)
    assert found[ratio("SEV-1", "update_cadence")] == 0.0
    assert found[ratio("SEV-1", "postmortem_on_time")] == 0.5
    assert found[ratio("all", "action_items_on_time")] == 0.5
    assert ratio("SEV-3", "ack") not in found


def test_metrics_have_no_program_figures_without_incidents(client: TestClient) -> None:
    found = samples(client)
    assert not [
        key for key in found if key[0] in ("warroom_incident_minutes", "warroom_compliance_ratio")
    ]


def test_report_and_metrics_with_four_acknowledged_incidents(
    request: pytest.FixtureRequest,
    database: Database,
    client: TestClient,
    people: People,
    clock: FixedClock,
) -> None:
    """Medians of four values: on PostgreSQL the rank arithmetic picks the wrong rows."""
    for acked_after in (1, 2, 3, 4):
        ref = declare(client, people.responder, title=f"ack after {acked_after}")["ref"]
        clock.advance(timedelta(minutes=acked_after))
        ok(client.post(f"{API}/incidents/{ref}/ack", headers=people.bob))
    response = client.get(f"{API}/report", headers=people.viewer)
    assert response.status_code == 200, response.text
    assert group(response.json(), "SEV-1")["mtta_minutes"] == stat(4, 2.5, 2.5, 3.7)
    assert samples(client)[minutes("SEV-1", "mtta", "median")] == pytest.approx(2.5)
