"""The README's incident, run through the JSON API, and what each step shows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import T0
from tests.http.api import People, declare, publish_postmortem
from warroom.clock import FixedClock

API = "/api/v1"


def at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def post(client: TestClient, url: str, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(f"{API}{url}", json=body or None, headers=headers)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


def test_declared_incident_shows_severity_targets_and_no_ack(
    client: TestClient, people: People
) -> None:
    incident = declare(client, people.responder, title="Checkout failures", services=["checkout"])
    assert incident["ref"] == f"INC-{incident['number']}"
    assert incident["title"] == "Checkout failures"
    assert (incident["severity"], incident["severity_level"]) == ("SEV-1", 1)
    assert incident["phase"] == "triage"
    assert incident["services"] == ["checkout"]
    assert incident["roles"] == {"commander": None, "tech_lead": None, "comms": None}
    assert incident["acknowledged_at"] is None
    assert incident["acknowledged_by"] is None
    assert at(incident["declared_at"]) == T0
    assert at(incident["detection_at"]) == T0
    assert at(incident["triage_at"]) == T0
    for phase in ("investigating", "mitigating", "resolved", "closed", "dismissed"):
        assert incident[f"{phase}_at"] is None
    assert at(incident["ack_due_at"]) == minutes(5)
    assert at(incident["next_update_due_at"]) == minutes(15)
    assert incident["update_status"] == "due in 15m"
    assert incident["allowed_next_phases"] == [
        "investigating",
        "mitigating",
        "resolved",
        "dismissed",
    ]
    assert incident["version"] == 1
    assert incident["timeline"] is None


def test_readme_incident_from_declaration_to_resolution(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = declare(client, people.responder, title="Checkout failures", services=["checkout"])["ref"]

    clock.advance(timedelta(minutes=2))
    acked = post(client, f"/incidents/{ref}/ack", people.responder)
    assert at(acked["acknowledged_at"]) == minutes(2)
    assert acked["acknowledged_by"] == "rita"

    assigned = post(
        client,
        f"/incidents/{ref}/roles",
        people.responder,
        commander="bob",
        tech_lead="carol",
        comms="@rita",
    )
    assert assigned["roles"] == {
        "commander": {"handle": "bob", "name": "Bob"},
        "tech_lead": {"handle": "carol", "name": "Carol"},
        "comms": {"handle": "rita", "name": "Rita"},
    }
    assert assigned["warnings"] == []

    clock.advance(timedelta(minutes=3))
    investigating = post(client, f"/incidents/{ref}/phase", people.bob, phase="investigating")
    assert investigating["phase"] == "investigating"
    assert at(investigating["investigating_at"]) == minutes(5)
    assert at(investigating["triage_at"]) == T0

    clock.advance(timedelta(minutes=5))
    update = post(
        client,
        f"/incidents/{ref}/updates",
        people.responder,
        impact="~30% of checkouts fail with 500",
        theory="DB connection pool exhausted",
        next_action="restart order-service",
        eta="15m",
    )
    assert update["incident"] == ref
    assert update["author"] == "rita"
    assert at(update["posted_at"]) == minutes(10)
    assert at(update["next_action_eta_at"]) == minutes(25)
    assert at(update["next_update_due_at"]) == minutes(25)
    for line in [
        f"[SEV-1] {ref}: Checkout failures",
        "Status: investigating for 10m since declared",
        "Impact: ~30% of checkouts fail with 500",
        "Team: IC @bob (Bob), Tech Lead @carol (Carol), Comms @rita (Rita)",
        "Current theory: DB connection pool exhausted",
        "Next action: restart order-service (ETA 10:25 UTC)",
        "Next update: in 15m (10:25 UTC)",
    ]:
        assert line in update["body"].splitlines()

    clock.advance(timedelta(minutes=20))
    late = client.get(f"{API}/incidents/{ref}", headers=people.viewer).json()
    assert at(late["next_update_due_at"]) == minutes(25)
    assert late["update_status"] == "overdue by 5m"
    assert late["customer_impact"] == "~30% of checkouts fail with 500"
    assert late["current_theory"] == "DB connection pool exhausted"
    assert late["next_action"] == "restart order-service"

    mitigating = post(client, f"/incidents/{ref}/phase", people.bob, phase="mitigating")
    assert at(mitigating["mitigating_at"]) == minutes(30)

    clock.advance(timedelta(minutes=10))
    resolved = post(client, f"/incidents/{ref}/resolve", people.bob)
    assert resolved["phase"] == "resolved"
    assert at(resolved["resolved_at"]) == minutes(40)
    assert resolved["next_update_due_at"] is None
    assert resolved["update_status"] == "no scheduled updates"
    assert resolved["allowed_next_phases"] == ["closed", "investigating"]

    shown = client.get(f"{API}/incidents/{ref}", params={"timeline": "true"}, headers=people.viewer)
    assert shown.status_code == 200
    timeline = shown.json()["timeline"]
    assert [(e["kind"], e["actor"], at(e["at"])) for e in timeline] == [
        ("declared", "rita", T0),
        ("acknowledged", "rita", minutes(2)),
        ("role_assigned", "rita", minutes(2)),
        ("role_assigned", "rita", minutes(2)),
        ("role_assigned", "rita", minutes(2)),
        ("phase_changed", "bob", minutes(5)),
        ("field_changed", "rita", minutes(10)),
        ("field_changed", "rita", minutes(10)),
        ("field_changed", "rita", minutes(10)),
        ("update_posted", "rita", minutes(10)),
        ("phase_changed", "bob", minutes(30)),
        ("phase_changed", "bob", minutes(40)),
        ("postmortem_drafted", None, minutes(40)),  # a SEV-1 owes one
    ]
    texts = [e["text"] for e in timeline]
    assert texts[0] == "Declared SEV-1: Checkout failures"
    assert texts[1] == "Acknowledged by @rita"
    assert texts[2:5] == [
        "Incident Commander: @bob",
        "Tech Lead: @carol",
        "Communications Lead: @rita",
    ]
    assert texts[5] == "Phase: triage → investigating"
    assert texts[9] == update["body"]
    assert texts[-2:] == [
        "Phase: mitigating → resolved",
        "Postmortem drafted from the timeline; due 2026-12-04",
    ]
    versions = [s["version"] for s in (acked, assigned, investigating, mitigating, resolved)]
    assert versions == sorted(set(versions))
    assert shown.json()["version"] == resolved["version"]

    plain = client.get(f"{API}/incidents/{ref}", headers=people.viewer).json()
    assert plain["timeline"] is None
    alone = client.get(f"{API}/incidents/{ref}/timeline", headers=people.viewer).json()
    assert alone == timeline
    updates = client.get(f"{API}/incidents/{ref}/updates", headers=people.viewer).json()
    assert updates == [update]


def test_second_acknowledgement_is_refused_and_names_the_first(
    client: TestClient, people: People
) -> None:
    ref = declare(client, people.responder)["ref"]
    post(client, f"/incidents/{ref}/ack", people.responder)
    again = client.post(f"{API}/incidents/{ref}/ack", headers=people.bob)
    assert again.status_code == 409
    assert again.json()["detail"] == f"{ref} was already acknowledged by @rita"


def test_closed_incident_is_final(client: TestClient, people: People) -> None:
    ref = declare(client, people.responder)["ref"]
    post(client, f"/incidents/{ref}/resolve", people.responder)
    publish_postmortem(client, people, ref)
    closed = post(client, f"/incidents/{ref}/phase", people.responder, phase="closed")
    assert closed["closed_at"] is not None
    assert closed["allowed_next_phases"] == []
    reopen = client.post(
        f"{API}/incidents/{ref}/phase", json={"phase": "investigating"}, headers=people.responder
    )
    assert reopen.status_code == 409
    assert reopen.json()["allowed"] == []
    assert "it is final" in reopen.json()["detail"]


def test_false_alarm_is_dismissed_and_can_turn_out_real(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = declare(client, people.responder, severity="SEV-3")["ref"]
    dismissed = post(
        client, f"/incidents/{ref}/phase", people.responder, phase="DISMISSED", note="false alarm"
    )
    assert dismissed["phase"] == "dismissed"
    assert dismissed["next_update_due_at"] is None
    clock.advance(timedelta(minutes=10))
    reopened = post(client, f"/incidents/{ref}/phase", people.responder, phase="triage")
    assert reopened["phase"] == "triage"
    assert at(reopened["triage_at"]) == T0
    assert at(reopened["next_update_due_at"]) == minutes(70)
    timeline = client.get(f"{API}/incidents/{ref}/timeline", headers=people.viewer).json()
    assert timeline[1]["text"] == "Phase: triage → dismissed (false alarm)"


def test_severity_change_rederives_the_cadence_and_is_on_the_timeline(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = declare(client, people.responder)["ref"]
    clock.advance(timedelta(minutes=5))
    changed = post(
        client, f"/incidents/{ref}/severity", people.responder, severity="sev3", reason="contained"
    )
    assert (changed["severity"], changed["severity_level"]) == ("SEV-3", 3)
    assert at(changed["next_update_due_at"]) == minutes(60)
    assert at(changed["ack_due_at"]) == minutes(60)
    same = client.post(
        f"{API}/incidents/{ref}/severity", json={"severity": 3}, headers=people.responder
    )
    assert same.status_code == 409
    assert same.json()["errors"][0]["field"] == "severity"
    timeline = client.get(f"{API}/incidents/{ref}/timeline", headers=people.viewer).json()
    assert timeline[-1]["kind"] == "severity_changed"
    assert timeline[-1]["text"] == "Severity: SEV-1 → SEV-3 (contained)"


def test_commander_also_tech_lead_on_sev1_is_warned_and_recorded(
    client: TestClient, people: People
) -> None:
    ref = declare(client, people.responder)["ref"]
    both = post(
        client, f"/incidents/{ref}/roles", people.responder, commander="bob", tech_lead="bob"
    )
    assert len(both["warnings"]) == 1
    assert "also the Tech Lead" in both["warnings"][0]
    timeline = client.get(f"{API}/incidents/{ref}/timeline", headers=people.viewer).json()
    assert timeline[-1]["kind"] == "warning"
    assert timeline[-1]["actor"] is None
    cleared = post(client, f"/incidents/{ref}/roles", people.responder, tech_lead="")
    assert cleared["roles"]["tech_lead"] is None
    assert cleared["roles"]["commander"] == {"handle": "bob", "name": "Bob"}
    assert cleared["warnings"] == []


def test_backdated_note_sorts_into_place_and_a_correction_points_at_it(
    client: TestClient, people: People, clock: FixedClock
) -> None:
    ref = declare(client, people.responder, commander="bob")["ref"]
    clock.advance(timedelta(minutes=30))
    note = post(
        client,
        f"/incidents/{ref}/notes",
        people.responder,
        text="first 500s seen in the logs",
        at="2026-11-27T09:50:00+00:00",
    )
    assert note["kind"] == "note"
    assert at(note["at"]) == minutes(-10)
    assert at(note["recorded_at"]) == minutes(30)
    fix = post(
        client,
        f"/incidents/{ref}/notes",
        people.bob,
        text="first 500s were at 09:48",
        corrects=note["id"],
    )
    assert (fix["kind"], fix["corrects"], fix["actor"]) == ("correction", note["id"], "bob")
    timeline = client.get(f"{API}/incidents/{ref}/timeline", headers=people.viewer).json()
    assert [e["kind"] for e in timeline] == ["note", "declared", "role_assigned", "correction"]
    assert timeline[0] == note


def test_drill_incident_says_so(client: TestClient, people: People) -> None:
    drill = declare(client, people.responder, drill=True, severity="SEV-2")
    assert drill["drill"] is True
    timeline = client.get(f"{API}/incidents/{drill['ref']}/timeline", headers=people.viewer)
    assert timeline.json()[0]["text"] == "Declared SEV-2 (drill): Checkout down"
