"""Trigger events on the hot path: count a repeat, or open a new alert. Flushes, never commits.

The common cases of a bad hour, a repeat of an open alert and a new alert
joining an open incident, are one UPDATE ... RETURNING or two INSERTs, sent
straight to the driver (db/raw.py). Lookups that every event of a batch
shares (routing rules, each service's open incident) are cached in the
session's ``info`` for one transaction; the group committer drops that cache
whenever it rolls back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warroom.alerts import bulk, rules, sources
from warroom.alerts.events import AlertEvent
from warroom.alerts.rules import AlertStatus, Outcome, Placement, RoutingRule
from warroom.alerts.sources import Source
from warroom.db.raw import Json, RawStatements
from warroom.errors import Invalid
from warroom.escalation import service as paging
from warroom.incidents import service as incident_service
from warroom.incidents.models import Severity
from warroom.incidents.rules import OPEN_PHASES, Phase, format_ref
from warroom.incidents.schemas import IncidentCreate

CONTEXT_KEY = "warroom.ingest"
OPEN_VALUES = frozenset(p.value for p in OPEN_PHASES)
TITLE_LIMIT = 200

BUMP = (
    "UPDATE alert SET count = count + 1, last_seen_at = ?, summary = COALESCE(?, summary) "
    "WHERE integration_id = ? AND dedup_key = ? AND status != 'resolved' "
    "RETURNING id, incident_id"
)
RETIRE = "UPDATE alert SET status = 'resolved', resolved_at = ? WHERE id = ?"
PHASE = "SELECT phase FROM incident WHERE id = ?"
SERVICE_ID = "SELECT id FROM service WHERE slug = ?"
OPEN_INCIDENT = (
    "SELECT i.id FROM incident i JOIN incident_service s ON s.incident_id = i.id "
    "WHERE s.service_id = ? AND i.drill = ? "
    "AND i.phase IN ('detection', 'triage', 'investigating', 'mitigating') "
    "ORDER BY i.id DESC LIMIT 1"
)
INSERT_ALERT = (
    "INSERT INTO alert (integration_id, service_id, incident_id, dedup_key, status, summary, "
    "source, severity, urgency, labels, details, links, client, client_url, group_key, count, "
    "occurred_at, first_seen_at, last_seen_at, grouping_reason, matched_rule) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?) RETURNING id"
)
FIRST_ALERT = (
    "UPDATE incident SET first_alert_at = ? "
    "WHERE id = ? AND (first_alert_at IS NULL OR first_alert_at > ?)"
)
INSERT_TIMELINE = (
    "INSERT INTO timeline_entry (incident_id, at, recorded_at, actor_id, kind, text, data) "
    "VALUES (?, ?, ?, NULL, 'alert_triggered', ?, ?)"
)
# PostgreSQL: the alert and its timeline entry in one statement (one round trip, not two).
# Built from constants only, no input: the placeholders carry every value.
INSERT_ALERT_AND_TIMELINE = (
    f"WITH a AS ({INSERT_ALERT}), t AS ("  # noqa: S608
    "INSERT INTO timeline_entry (incident_id, at, recorded_at, actor_id, kind, text, data) "
    "SELECT ?, ?, ?, NULL, 'alert_triggered', ?, ? || jsonb_build_object('alert_id', a.id) "
    "FROM a) SELECT id FROM a"
)
OPEN_KEYS_SQLITE = (
    "SELECT dedup_key FROM alert WHERE integration_id = ? AND status != 'resolved' "
    "AND dedup_key IN ({})"
)
# One index probe per key, whatever the statistics say: with `dedup_key = ANY(?)`,
# estimates stale after a storm of inserts chose a scan of every open alert
# of the integration (55 ms instead of 0.4 ms for 100 keys among 120,000).
OPEN_KEYS_POSTGRES = (
    "SELECT k.key FROM unnest(?::text[]) AS k(key), LATERAL (SELECT 1 FROM alert a "
    "WHERE a.integration_id = ? AND a.dedup_key = k.key AND a.status != 'resolved' "
    "LIMIT 1) AS found"
)
KEYS_PER_QUERY = 500


@dataclass(frozen=True)
class IngestResult:
    """What happened to one event."""

    outcome: Outcome
    dedup_key: str
    alert_id: int | None = None
    incident_ref: str | None = None


@dataclass(frozen=True, slots=True)
class _Target:
    """The service a new alert goes to."""

    id: int
    slug: str


@dataclass
class _Context:
    raw: RawStatements
    targets: dict[str, _Target] = field(default_factory=dict)
    open_incident: dict[int, int | None] = field(default_factory=dict)
    open_ids: set[int] = field(default_factory=set)
    # (integration id, dedup key) known to have no open alert (expect_new)
    absent: set[tuple[int, str]] = field(default_factory=set)
    # incident id -> an alert start time its first_alert_at is known to be at or before
    first_alert: dict[int, datetime] = field(default_factory=dict)


def _context(session: Session) -> _Context:
    context = session.info.get(CONTEXT_KEY)
    if context is None:
        context = session.info[CONTEXT_KEY] = _Context(RawStatements.of(session))
    return context


def forget_open_incident(session: Session, service_id: int, incident_id: int) -> None:
    """Tell this transaction's cache that an incident is no longer open."""
    context = session.info.get(CONTEXT_KEY)
    if context is not None:
        context.open_incident.pop(service_id, None)
        context.open_ids.discard(incident_id)


def expect_new(session: Session, source: Source, keys: Iterable[str]) -> None:
    """Find which of a webhook's trigger keys have no open alert, in one query.

    Their triggers then skip the UPDATE that would find nothing: a webhook of
    100 new alerts costs one statement here instead of 100 (and on PostgreSQL,
    100 round trips).
    """
    if session.new or session.dirty:
        session.flush()
    context = _context(session)
    held = bulk.holding(session)
    wanted = sorted(set(keys))
    for start in range(0, len(wanted), KEYS_PER_QUERY):
        chunk = wanted[start : start + KEYS_PER_QUERY]
        if context.raw.postgres:
            rows = context.raw.all(OPEN_KEYS_POSTGRES, [chunk, source.id])
        else:
            marks = ", ".join("?" * len(chunk))
            rows = context.raw.all(OPEN_KEYS_SQLITE.format(marks), [source.id, *chunk])
        found = {row[0] for row in rows}
        if held is not None:  # held new alerts are open alerts not written yet
            found.update(key for key in chunk if (source.id, key) in held.keys)
        context.absent.update((source.id, key) for key in chunk if key not in found)


@contextmanager
def new_alerts_together(
    session: Session, now: datetime, keys: list[tuple[str, str]]
) -> Iterator[None]:
    """Around a batch of single trigger events, each (integration key, dedup key).

    A group-commit batch scope: which keys have no open alert is asked once per
    integration, not once per event, and on PostgreSQL the batch's new alerts
    are written together when it ends (bulk.deferred) instead of one round
    trip each.
    """
    by_integration: dict[str, list[str]] = {}
    for integration_key, dedup_key in keys:
        by_integration.setdefault(integration_key, []).append(dedup_key)
    for integration_key, dedup_keys in by_integration.items():
        # Unknown, revoked or mistyped keys are the jobs' to refuse; nothing to expect.
        source = sources.by_key(session, integration_key, now)
        if source is not None:
            expect_new(session, source, dedup_keys)
    with bulk.deferred(session, now):
        yield


def trigger(*, session: Session, now: datetime, source: Source, event: AlertEvent) -> IngestResult:
    """A trigger: count it on its open alert, or open a new alert (and maybe incident)."""
    if session.new or session.dirty:
        session.flush()  # raw statements must see the ORM's pending rows
    context = _context(session)
    known_absent = (source.id, event.dedup_key)
    if known_absent in context.absent:
        context.absent.discard(known_absent)  # a repeat later in the webhook must count
        row = None
    else:
        bulk.flush(session, known_absent)  # a repeat of a held new alert must find it
        row = context.raw.one(BUMP, [now, event.summary or None, source.id, event.dedup_key])
    if row is not None:
        alert_id, incident_id = row
        if incident_id is not None and _is_open(context, incident_id):
            return IngestResult(Outcome.BUMP, event.dedup_key, alert_id, format_ref(incident_id))
        # People ended the incident while the source still fires: page again as new.
        context.raw.run(RETIRE, [now, alert_id])
    # Routing rules place new alerts only: an ack or resolve must always reach
    # the alert it names, whatever its (often empty) payload would match.
    rule = rules.route(source.rules, event)
    if rule is not None and rule.drop:
        return IngestResult(Outcome.DROP, event.dedup_key)
    return _open(session, context, now, source, event, rule)


def _is_open(context: _Context, incident_id: int) -> bool:
    if incident_id in context.open_ids:
        return True
    row = context.raw.one(PHASE, [incident_id])
    is_open = row is not None and row[0] in OPEN_VALUES
    if is_open:
        context.open_ids.add(incident_id)
    return is_open


def _target(
    session: Session, context: _Context, source: Source, rule: RoutingRule | None
) -> _Target:
    if rule is None or not rule.service or rule.service == source.service_slug:
        return _Target(source.service_id, source.service_slug)
    found = context.targets.get(rule.service)
    if found is None:
        row = context.raw.one(SERVICE_ID, [rule.service])
        # A rule naming a service since removed keeps the alert on its own service.
        found = _Target(source.service_id, source.service_slug)
        if row is not None:
            found = _Target(int(row[0]), rule.service)
        context.targets[rule.service] = found
    return found


def _open_incident_id(session: Session, context: _Context, service_id: int) -> int | None:
    if service_id not in context.open_incident:
        # Same question as incidents.queries.open_incident_for_service, without the ORM.
        row = context.raw.one(OPEN_INCIDENT, [service_id, False])
        context.open_incident[service_id] = int(row[0]) if row else None
        if row is not None:
            context.open_ids.add(int(row[0]))
    return context.open_incident[service_id]


def _open(
    session: Session,
    context: _Context,
    now: datetime,
    source: Source,
    event: AlertEvent,
    rule: RoutingRule | None,
) -> IngestResult:
    target = _target(session, context, source, rule)
    incident_id = _open_incident_id(session, context, target.id)
    placement = rules.place(event, rule, service=target.slug, open_incident=incident_id)
    if incident_id is None:
        incident_id = _new_incident(session, now, event, target.slug, placement)
        context.open_incident[target.id] = incident_id
        context.open_ids.add(incident_id)
    rule_name = rule.name if rule else None
    alert = _alert_values(now, source, target, incident_id, event, placement, rule_name)
    text = f"Alert {event.severity.value}: {event.summary[:300]} ({placement.reason})"
    data: dict[str, Any] = {
        "dedup_key": event.dedup_key,
        "integration": source.name,
        "rule": rule_name,
    }
    _note_first_alert(context, incident_id, event.occurred_at)
    held = bulk.holding(session)
    if held is not None:  # a webhook on PostgreSQL: written with its neighbours
        bulk.hold(session, held, alert, text, data)
        return IngestResult(Outcome.NEW, event.dedup_key, None, format_ref(incident_id))
    if context.raw.postgres:
        entry = [incident_id, now, now, text, Json(data)]
        row = context.raw.one(INSERT_ALERT_AND_TIMELINE, [*alert, *entry])
        assert row is not None  # INSERT ... RETURNING always answers
        alert_id = int(row[0])
    else:  # SQLite: two statements in-process cost less than the CTE's planning
        row = context.raw.one(INSERT_ALERT, alert)
        assert row is not None
        alert_id = int(row[0])
        data = {"alert_id": alert_id, **data}
        context.raw.run(INSERT_TIMELINE, [incident_id, now, now, text, Json(data)])
    return IngestResult(Outcome.NEW, event.dedup_key, alert_id, format_ref(incident_id))


def _alert_values(
    now: datetime,
    source: Source,
    target: _Target,
    incident_id: int,
    event: AlertEvent,
    placement: Placement,
    rule_name: str | None,
) -> list[Any]:
    """INSERT_ALERT's parameters, in its column order."""
    return [
        source.id,
        target.id,
        incident_id,
        event.dedup_key,
        AlertStatus.TRIGGERED.value,
        event.summary,
        event.source,
        event.severity.value,
        placement.urgency,
        Json(event.labels),
        None if event.details is None else Json(event.details),
        Json(event.links),
        event.client,
        event.client_url,
        event.group_key,
        event.occurred_at,
        now,
        now,
        placement.reason,
        rule_name,
    ]


def _note_first_alert(context: _Context, incident_id: int, started: datetime | None) -> None:
    """Keep the incident's earliest alert start (the report's impact start for MTTD).

    Alerts mostly arrive in the order they started, so this is one UPDATE per
    incident per transaction: later alerts that started no earlier need none.
    """
    if started is None:
        return
    known = context.first_alert.get(incident_id)
    if known is not None and started >= known:
        return
    context.raw.run(FIRST_ALERT, [started, incident_id, started])
    context.first_alert[incident_id] = started


def _new_incident(
    session: Session, now: datetime, event: AlertEvent, service: str, placement: Placement
) -> int:
    title = event.summary.strip().splitlines()[0][:TITLE_LIMIT] if event.summary.strip() else ""
    phase = Phase.TRIAGE if placement.declare else Phase.DETECTION
    create = IncidentCreate(title=title or "Alert", severity=placement.severity, services=[service])
    try:
        incident = incident_service.declare(
            session=session, now=now, actor=None, phase=phase, incident_in=create
        )
    except Invalid:
        # A rule named a severity level the organisation has since removed:
        # open the incident at the least severe level rather than lose the alert.
        least = int(session.scalar(select(func.max(Severity.level))) or 1)
        incident = incident_service.declare(
            session=session,
            now=now,
            actor=None,
            phase=phase,
            incident_in=create.model_copy(update={"severity": least}),
        )
    paging.start(session=session, now=now, incident=incident)
    return incident.id
