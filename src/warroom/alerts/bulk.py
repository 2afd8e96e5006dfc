"""PostgreSQL: a webhook's new alerts written in one statement instead of one each.

On PostgreSQL every statement is a round trip; a webhook of 100 new alerts
paid 100 of them, in series, each also planned and run on its own. While a
webhook is ingested (``deferred``), new alerts and their timeline entries are
held and written together by one INSERT, from one JSON document of their rows
(PostgreSQL parses it in C; arrays as parameters were adapted element by
element in Python, a regular expression each, a third of the writer's time). They are
written before anything could look for them: a repeat of a held key in the
same webhook (triggers.trigger), an acknowledgement or resolution
(service.ingest), and the end of the webhook. SQLite, in-process, gains
nothing from this and writes each alert at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from warroom.db.raw import Json, RawStatements

HELD_KEY = "warroom.held_alerts"
# Held alerts written once this many wait: a batch may carry hundreds of webhooks of
# thousands of alerts, and one statement of them all would pass PostgreSQL's limits.
HOLD_LIMIT = 1000

# Columns of triggers.INSERT_ALERT (its parameters, in order) with their types.
_COLUMNS = (
    ("integration_id", "int"),
    ("service_id", "int"),
    ("incident_id", "int"),
    ("dedup_key", "text"),
    ("status", "text"),
    ("summary", "text"),
    ("source", "text"),
    ("severity", "text"),
    ("urgency", "text"),
    ("labels", "jsonb"),
    ("details", "jsonb"),
    ("links", "jsonb"),
    ("client", "text"),
    ("client_url", "text"),
    ("group_key", "text"),
    ("occurred_at", "timestamptz"),
    ("first_seen_at", "timestamptz"),
    ("last_seen_at", "timestamptz"),
    ("grouping_reason", "text"),
    ("matched_rule", "text"),
)
_NAMES = tuple(name for name, _ in _COLUMNS)
_ALERT_COLUMNS = ", ".join(_NAMES)
# Each row also carries its timeline entry's text and data, and its place in the webhook.
_ROW_TYPE = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS)
# Built from the constants above only; every value travels in the one JSON parameter.
INSERT_HELD = (
    f"WITH v AS (SELECT * FROM jsonb_to_recordset(?::jsonb) "  # noqa: S608
    f"AS v({_ROW_TYPE}, entry_text text, entry_data jsonb, n int)), "
    f"a AS (INSERT INTO alert ({_ALERT_COLUMNS}, count) "
    f"SELECT {_ALERT_COLUMNS}, 1 FROM v ORDER BY n RETURNING id, integration_id, dedup_key), "
    "t AS (INSERT INTO timeline_entry (incident_id, at, recorded_at, actor_id, kind, text, data) "
    "SELECT v.incident_id, ?, ?, NULL, 'alert_triggered', v.entry_text, "
    "v.entry_data || jsonb_build_object('alert_id', a.id) "
    "FROM a JOIN v ON v.integration_id = a.integration_id AND v.dedup_key = a.dedup_key "
    "ORDER BY v.n) "
    "SELECT count(*) FROM a"
)


@dataclass
class Held:
    """New alerts of one webhook not written yet, in arrival order."""

    now: datetime
    alerts: list[list[Any]] = field(default_factory=list)
    entries: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    keys: set[tuple[int, str]] = field(default_factory=set)


@contextmanager
def deferred(session: Session, now: datetime) -> Iterator[None]:
    """Hold new alerts during the block (PostgreSQL only); write them at its end.

    Blocks nest: a webhook ingested inside a batch's deferral is written with the batch.

    If the block fails, what it held is dropped with it: the group committer
    then rolls back and runs the job again on its own.
    """
    raw = RawStatements.of(session)
    if not raw.postgres or HELD_KEY in session.info:
        yield  # SQLite writes at once; inside another deferral, the outer one writes
        return
    session.info[HELD_KEY] = Held(now)
    event.listen(session, "do_orm_execute", _flush_before_reading_alerts)
    try:
        yield
        flush(session)
    finally:
        event.remove(session, "do_orm_execute", _flush_before_reading_alerts)
        session.info.pop(HELD_KEY, None)


def _flush_before_reading_alerts(state: ORMExecuteState) -> None:
    # A safety net: any ORM statement that did not flush first still sees every alert.
    # Any, not only those returning alerts: a count or a join through alert returns none.
    held = holding(state.session)
    if held is not None and held.alerts:
        flush(state.session)


def holding(session: Session) -> Held | None:
    """The held alerts, when a webhook is being ingested on PostgreSQL."""
    found: Held | None = session.info.get(HELD_KEY)
    return found


def hold(session: Session, held: Held, alert: list[Any], text: str, data: dict[str, Any]) -> None:
    """Hold one new alert (INSERT_ALERT's parameters) and its timeline entry."""
    held.alerts.append(alert)
    held.entries.append((text, data))
    held.keys.add((int(alert[0]), str(alert[3])))
    if len(held.alerts) >= HOLD_LIMIT:  # a batch of large webhooks: write as it goes
        flush(session)


def _plain(value: Any) -> Any:
    """A value as it goes into the JSON rows: JSON columns' values as they are; times in
    UTC with their offset (orjson writes aware datetimes in RFC 3339)."""
    if isinstance(value, Json):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


def flush(session: Session, key: tuple[int, str] | None = None) -> None:
    """Write the held alerts (only if ``key``, an integration and dedup key, is among them)."""
    held = holding(session)
    if held is None or not held.alerts or (key is not None and key not in held.keys):
        return
    raw = RawStatements.of(session)
    rows = [
        {
            **dict(zip(_NAMES, map(_plain, alert), strict=True)),
            "entry_text": text,
            "entry_data": data,
            "n": n,
        }
        for n, (alert, (text, data)) in enumerate(zip(held.alerts, held.entries, strict=True))
    ]
    row = raw.one(INSERT_HELD, [orjson.dumps(rows).decode(), held.now, held.now])
    assert row is not None  # SELECT count(*) always answers
    assert row[0] == len(held.alerts)  # every held alert was written
    held.alerts.clear()
    held.entries.clear()
    held.keys.clear()
