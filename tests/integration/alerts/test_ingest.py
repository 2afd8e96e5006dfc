"""Dedup and grouping of alert events into incidents (PagerDuty semantics, protocols.md §2.1)."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from tests.factories import make_incident
from tests.integration.alerts.world import World, event, make_integration
from warroom.alerts import bulk, sources, triggers
from warroom.alerts import service as alert_service
from warroom.alerts.events import Action, AlertSeverity
from warroom.alerts.integrations import IntegrationType
from warroom.alerts.models import Alert
from warroom.alerts.rules import Outcome
from warroom.db.raw import RawStatements
from warroom.db.uow import unit_of_work
from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident, TimelineEntry
from warroom.users.models import User

MIN = timedelta(minutes=1)


def test_new_alert_opens_an_incident_in_detection(world: World):
    result = world.ingest(event())
    assert result.outcome is Outcome.NEW
    assert result.dedup_key == "disk-full-db1"
    [alert] = world.alerts()
    [incident] = world.incidents()
    assert result.alert_id == alert["id"]
    assert result.incident_ref == f"INC-{incident['id']}"
    assert alert["incident_id"] == incident["id"]
    assert (alert["status"], alert["count"], alert["service"]) == ("triggered", 1, "checkout")
    assert (alert["severity"], alert["urgency"]) == ("critical", "high")
    assert alert["first_seen_at"] == alert["last_seen_at"] == world.clock.now()
    assert alert["grouping_reason"] == "opened in detection: no open incident on service checkout"
    assert alert["matched_rule"] is None
    assert incident["phase"] == "detection"
    assert incident["title"] == "Disk full on db1"
    assert incident["severity_level"] == 2
    assert incident["services"] == ["checkout"]
    assert incident["acknowledged_at"] is None
    kinds = [kind for kind, _ in world.timeline(incident["id"])]
    assert kinds == ["declared", "alert_triggered"]
    _, text = world.timeline(incident["id"])[-1]
    assert "Disk full on db1" in text
    assert alert["grouping_reason"] in text


def test_incident_title_is_the_first_line_of_the_summary(world: World):
    world.ingest(event(summary="  Disk full\nsecond line  " + "x" * 300))
    assert world.incidents()[0]["title"] == "Disk full"


def test_same_key_again_bumps_without_a_new_incident_or_page(world: World):
    world.ingest(event())
    [incident] = world.incidents()
    entries = world.count(TimelineEntry)
    first_seen = world.clock.now()
    for _ in range(4):
        world.clock.advance(MIN)
        result = world.ingest(event(summary="Disk full on db1 (again)"))
        assert result.outcome is Outcome.BUMP
    [alert] = world.alerts()
    assert alert["count"] == 5
    assert alert["first_seen_at"] == first_seen
    assert alert["last_seen_at"] == world.clock.now()
    assert alert["summary"] == "Disk full on db1 (again)"
    assert result.incident_ref == f"INC-{incident['id']}"
    assert world.incidents() == [incident]
    assert world.count(TimelineEntry) == entries


def test_same_key_on_another_integration_is_another_alert(world: World):
    world.ingest(event())
    result = world.ingest(event(), world.search)
    assert result.outcome is Outcome.NEW
    assert [a["service"] for a in world.alerts()] == ["checkout", "search"]
    assert len(world.incidents()) == 2


def test_resolve_closes_the_alert_and_a_later_trigger_is_a_new_alert(world: World):
    world.ingest(event())
    world.clock.advance(MIN)
    resolved = world.ingest(event(Action.RESOLVE))
    assert resolved.outcome is Outcome.RESOLVE
    [alert] = world.alerts()
    assert (alert["status"], alert["resolved_at"]) == ("resolved", world.clock.now())
    assert ("alert_resolved", "Alert resolved: Disk full on db1") in world.timeline(
        alert["incident_id"]
    )
    world.clock.advance(MIN)
    again = world.ingest(event())
    assert again.outcome is Outcome.NEW
    first, second = world.alerts()
    assert (first["status"], second["status"]) == ("resolved", "triggered")
    assert second["count"] == 1
    assert world.ingest(event(Action.RESOLVE)).alert_id == second["id"]


def test_ack_and_resolve_of_unknown_keys_are_ignored(world: World):
    for action in (Action.ACKNOWLEDGE, Action.RESOLVE):
        result = world.ingest(event(action, "never-seen"))
        assert (result.outcome, result.alert_id, result.incident_ref) == (
            Outcome.IGNORE,
            None,
            None,
        )
    assert world.count(Alert) == world.count(Incident) == 0


def test_new_alert_joins_the_open_incident_of_its_service(world: World):
    world.ingest(event(key="disk"))
    world.clock.advance(MIN)
    joined = world.ingest(event(key="cpu", summary="CPU hot", severity=AlertSeverity.WARNING))
    assert joined.outcome is Outcome.NEW
    [incident] = world.incidents()
    first, second = world.alerts()
    assert first["incident_id"] == second["incident_id"] == incident["id"]
    assert joined.incident_ref == f"INC-{incident['id']}"
    reason = f"joined INC-{incident['id']}: it is open on service checkout"
    assert second["grouping_reason"] == reason
    kind, text = world.timeline(incident["id"])[-1]
    assert kind == "alert_triggered"
    assert "joined" in text
    assert "CPU hot" in text


def test_alerts_on_another_service_do_not_join(world: World):
    world.ingest(event())
    world.ingest(event(key="other"), world.search)
    assert [i["services"] for i in world.incidents()] == [["checkout"], ["search"]]


def test_declared_incident_in_triage_is_joined(world: World):
    with unit_of_work(world.sessions) as session:
        rita = session.get(User, world.user_id)
        assert rita is not None
        declared = make_incident(session, world.clock.now(), rita, services=["checkout"])
        declared_id = declared.id
    result = world.ingest(event())
    assert result.incident_ref == f"INC-{declared_id}"
    assert world.count(Incident) == 1


def test_drill_incidents_are_not_joined(world: World):
    with unit_of_work(world.sessions) as session:
        rita = session.get(User, world.user_id)
        assert rita is not None
        drill = make_incident(session, world.clock.now(), rita, services=["checkout"], drill=True)
        drill_id = drill.id
    result = world.ingest(event())
    assert result.incident_ref != f"INC-{drill_id}"
    drill_row, real = world.incidents()
    assert (drill_row["drill"], real["drill"]) == (True, False)
    assert real["phase"] == "detection"


def test_acknowledge_acks_the_alert_and_its_incident(world: World):
    world.ingest(event())
    world.clock.advance(2 * MIN)
    result = world.ingest(event(Action.ACKNOWLEDGE))
    assert result.outcome is Outcome.ACKNOWLEDGE
    [alert] = world.alerts()
    [incident] = world.incidents()
    assert (alert["status"], alert["acknowledged_at"]) == ("acknowledged", world.clock.now())
    assert incident["acknowledged_at"] == world.clock.now()
    assert ("acknowledged", "Acknowledged via integration checkout-pagerduty") in world.timeline(
        incident["id"]
    )
    assert world.ingest(event(Action.ACKNOWLEDGE)).outcome is Outcome.IGNORE
    bump = world.ingest(event())
    assert bump.outcome is Outcome.BUMP
    assert world.alerts()[0]["status"] == "acknowledged"


def test_alert_ack_on_an_incident_a_person_already_acked(world: World):
    world.ingest(event())
    with unit_of_work(world.sessions) as session:
        rita = session.get(User, world.user_id)
        incident = session.get(Incident, world.incidents()[0]["id"])
        assert incident is not None
        incident_service.acknowledge(
            session=session, now=world.clock.now(), actor=rita, incident=incident
        )
    world.clock.advance(MIN)
    assert world.ingest(event(Action.ACKNOWLEDGE)).outcome is Outcome.ACKNOWLEDGE
    assert world.alerts()[0]["status"] == "acknowledged"
    assert world.incidents()[0]["acknowledged_at"] == world.clock.now() - MIN


def test_the_incident_keeps_the_earliest_start_of_its_alerts(world: World):
    def started(key: str, minutes_ago: int | None) -> Incident:
        at = None if minutes_ago is None else world.clock.now() - minutes_ago * MIN
        world.ingest(replace(event(key=key), occurred_at=at))
        with unit_of_work(world.sessions, write=False) as session:
            incident = session.scalars(select(Incident)).one()
            session.expunge(incident)
            return incident

    assert started("a", 5).first_alert_at == world.clock.now() - 5 * MIN
    assert started("b", 2).first_alert_at == world.clock.now() - 5 * MIN  # later: kept
    assert started("c", 9).first_alert_at == world.clock.now() - 9 * MIN  # earlier: taken
    assert started("d", None).first_alert_at == world.clock.now() - 9 * MIN  # unknown: kept
    # In one transaction too, where the earliest start seen is remembered.
    with unit_of_work(world.sessions) as session:
        found = sources.by_id(session, world.checkout)
        assert found is not None
        for key, minutes in (("e", 1), ("f", 12), ("g", 3)):
            ev = replace(event(key=key), occurred_at=world.clock.now() - minutes * MIN)
            alert_service.ingest(session=session, now=world.clock.now(), source=found, event=ev)
    assert started("h", 0).first_alert_at == world.clock.now() - 12 * MIN


def test_alerts_held_for_a_webhook_are_seen_by_any_orm_read(world: World):
    # On PostgreSQL a webhook's new alerts are written together at its end; a
    # query of alerts in between (one that forgot bulk.flush) must still see them.
    with unit_of_work(world.sessions) as session:
        found = sources.by_id(session, world.checkout)
        assert found is not None
        now = world.clock.now()
        with bulk.deferred(session, now):
            for key in ("h1", "h2"):
                alert_service.ingest(session=session, now=now, source=found, event=event(key=key))
            keys = session.scalars(select(Alert.dedup_key).order_by(Alert.id)).all()
            assert keys == ["h1", "h2"]
            alert_service.ingest(session=session, now=now, source=found, event=event(key="h3"))
            # ... and one that returns no alert rows, only counts them
            assert session.scalar(select(func.count()).select_from(Alert)) == 3
    assert [a["key"] for a in world.alerts()] == ["h1", "h2", "h3"]


def test_held_alerts_are_written_as_they_pass_the_hold_limit(world: World, monkeypatch):
    # A batch of large webhooks must not gather one statement past PostgreSQL's limits.
    monkeypatch.setattr(bulk, "HOLD_LIMIT", 2)
    with unit_of_work(world.sessions) as session:
        found = sources.by_id(session, world.checkout)
        assert found is not None
        now = world.clock.now()
        raw = RawStatements.of(session)  # reads the table without writing what is held
        written = []
        with bulk.deferred(session, now):
            for key in ("l1", "l2", "l3", "l4", "l5"):
                alert_service.ingest(session=session, now=now, source=found, event=event(key=key))
                written.append(raw.one("SELECT count(*) FROM alert", [])[0])  # type: ignore[index]
    expected = [0, 2, 2, 4, 4] if raw.postgres else [1, 2, 3, 4, 5]  # SQLite writes at once
    assert written == expected
    assert [a["key"] for a in world.alerts()] == ["l1", "l2", "l3", "l4", "l5"]


def test_single_events_together_still_count_repeats_and_open_alerts(world: World):
    # The scope of a batch of single events: one query says which keys have no open
    # alert, and (PostgreSQL) new alerts are written at its end; a repeat in the same
    # batch, and a key already open, must still count.
    now = world.clock.now()
    with unit_of_work(world.sessions) as session:
        _, key = make_integration(session, world.clock, "checkout", IntegrationType.PAGERDUTY)
        found = sources.by_key(session, key, now)
        assert found is not None
        alert_service.ingest(session=session, now=now, source=found, event=event(key="open"))
    with unit_of_work(world.sessions) as session:
        batch = [(key, "new"), (key, "new"), (key, "open"), ("no-such-key", "new")]
        with triggers.new_alerts_together(session, now, batch):
            found = sources.by_key(session, key, now)
            assert found is not None
            for dedup_key in ("new", "new", "open", "other"):
                ev = event(key=dedup_key)
                alert_service.ingest(session=session, now=now, source=found, event=ev)
    counted = sorted((a["key"], a["count"]) for a in world.alerts())
    assert counted == [("new", 2), ("open", 2), ("other", 1)]


def test_a_webhook_inside_a_batch_of_single_events_counts_keys_the_batch_holds(world: World):
    # Inside the batch's deferral a webhook's alerts are held until the batch ends: a
    # second webhook of the batch repeating one of them must count it, not open another.
    now = world.clock.now()
    with unit_of_work(world.sessions) as session:
        found = sources.by_id(session, world.search)
        single = sources.by_id(session, world.checkout)
        assert found is not None
        assert single is not None
        with triggers.new_alerts_together(session, now, []):
            # a single event first: held by the batch, it must outlive the webhooks' blocks
            alert_service.ingest(session=session, now=now, source=single, event=event(key="s1"))
            for keys in (["w1"], ["w1", "w2"]):  # two webhooks of one integration
                triggers.expect_new(session, found, keys)
                with bulk.deferred(session, now):
                    for dedup_key in keys:
                        ev = event(key=dedup_key)
                        alert_service.ingest(session=session, now=now, source=found, event=ev)
    counted = sorted((a["key"], a["count"]) for a in world.alerts())
    assert counted == [("s1", 1), ("w1", 2), ("w2", 1)]


def test_one_dedup_key_on_two_integrations_in_one_batch_makes_two_alerts_each_noted(
    world: World,
):
    # Held together, two alerts sharing a dedup key (on different integrations) must
    # each get their own timeline entry naming their own alert.
    now = world.clock.now()
    with unit_of_work(world.sessions) as session:
        found = [sources.by_id(session, i) for i in (world.checkout, world.search)]
        with triggers.new_alerts_together(session, now, []):
            for source in found:
                assert source is not None
                ev = event(key="same")
                alert_service.ingest(session=session, now=now, source=source, event=ev)
    alerts = world.alerts()
    assert len(alerts) == 2
    with unit_of_work(world.sessions, write=False) as session:
        entries = session.scalars(
            select(TimelineEntry).where(TimelineEntry.kind == "alert_triggered")
        ).all()
        noted = sorted((e.incident_id, e.data["alert_id"]) for e in entries)
    assert noted == sorted((a["incident_id"], a["id"]) for a in alerts)


def test_alerts_written_with_their_webhooks_neighbours_are_stored_as_ones_written_alone(
    world: World,
):
    # On PostgreSQL a webhook's new alerts go in together, as one JSON document of rows:
    # every column and each timeline entry must come out as each alert's own INSERT writes
    # them, in the webhook's order, each entry naming its own alert.
    occurred = datetime(2026, 11, 27, 23, 30, 15, 123456, tzinfo=ZoneInfo("Asia/Kolkata"))
    tricky = {"path": 'C:\\tmp\\"x"', "emoji": "\u00e9\u2603", "quote": "it's", "empty": ""}
    plain = event()
    shapes = [
        replace(
            plain,
            labels={**plain.labels, **tricky},
            occurred_at=occurred,
            details={"nested": {"none": None, "list": [1, 2.5, "x"]}, "n": 10**15},
            links=[{"href": "https://example.com/a?b=c&d", "text": "runbook"}],
            client="Prometheus",
            group_key='{}:{alertname="Disk"}',
        ),
        replace(plain, details=None, occurred_at=None, summary="Second, with nothing optional"),
        replace(plain, details="a plain string", severity=AlertSeverity.WARNING),
    ]

    def stored(prefix: str, together: bool) -> list[tuple[Any, ...]]:
        events = [replace(e, dedup_key=f"{prefix}-{n}") for n, e in enumerate(shapes)]
        with unit_of_work(world.sessions) as session:
            found = sources.by_id(session, world.checkout)
            assert found is not None
            now = world.clock.now()
            with bulk.deferred(session, now) if together else nullcontext():
                for ev in events:
                    alert_service.ingest(session=session, now=now, source=found, event=ev)
        rows = []
        with unit_of_work(world.sessions, write=False) as session:
            for ev in events:
                alert = session.scalars(select(Alert).where(Alert.dedup_key == ev.dedup_key)).one()
                columns = {c.key: getattr(alert, c.key) for c in Alert.__table__.columns}
                [entry] = session.scalars(
                    select(TimelineEntry).where(
                        TimelineEntry.kind == "alert_triggered",
                        TimelineEntry.data["dedup_key"].as_string() == ev.dedup_key,
                    )
                )
                assert entry.data["alert_id"] == alert.id
                rows.append((alert.id, columns, entry.at, entry.recorded_at, entry.text))
        ids = [row[0] for row in rows]
        assert ids == sorted(ids)  # in the webhook's order
        for _, columns, *_ in rows:
            del columns["id"], columns["dedup_key"]
        return [row[1:] for row in rows]

    world.ingest(event(key="first"))  # all then join its incident, for the same reason
    alone = stored("alone", together=False)
    assert stored("together", together=True) == alone
    assert alone[0][0]["occurred_at"] == occurred
    assert alone[0][0]["labels"]["path"] == tricky["path"]
    assert (alone[1][0]["details"], alone[1][0]["occurred_at"]) == (None, None)
    assert alone[2][0]["details"] == "a plain string"
