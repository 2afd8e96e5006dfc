"""Integrations as the ingest hot path uses them: one plain row per key and transaction.

Loading an integration, its service and both lists of routing rules through
the ORM cost about a third of the group-commit writer's time in a storm of
single events (each transaction paid it again). One joined SELECT straight
to the driver costs a tenth of that, and the parsed rules are shared between
transactions for as long as their JSON text is unchanged, so an edit through
the API or `apply` takes effect with the next transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from warroom.alerts import rules
from warroom.alerts.integrations import hash_key
from warroom.alerts.rules import RoutingRule
from warroom.db.raw import RawStatements

CACHE_KEY = "warroom.sources"
PARSED_LIMIT = 256

_SELECT = (
    "SELECT i.id, i.type, i.name, i.service_id, s.slug, i.rate_limit_per_minute, "
    "i.rules, i.config, st.rules "
    "FROM integration i JOIN service s ON s.id = i.service_id "
    "LEFT JOIN service_alert_settings st ON st.service_id = i.service_id "
)
# A rotated-out key keeps working until its grace period ends (integrations.rotate).
BY_KEY = (
    _SELECT + "WHERE i.revoked_at IS NULL AND (i.key_hash = ? "
    "OR (i.previous_key_hash = ? AND i.previous_key_expires_at > ?))"
)
BY_ID = _SELECT + "WHERE i.id = ?"

# Parsed rules by their stored JSON text: rules are frozen, so transactions share them.
_parsed: dict[bytes | str, tuple[RoutingRule, ...]] = {}


@dataclass(frozen=True, slots=True)
class Source:
    """An integration with what ingest needs of its service, read in one statement."""

    id: int
    type: str
    name: str
    service_id: int
    service_slug: str
    rate_limit_per_minute: int
    # the integration's rules, then its service's, in evaluation order
    rules: tuple[RoutingRule, ...]
    config: dict[str, Any]


def by_key(session: Session, key: str, now: datetime) -> Source | None:
    """The live integration ``key`` opens, looked up once per transaction."""
    cache: dict[str, Source | None] = session.info.setdefault(CACHE_KEY, {})
    if key not in cache:
        digest = hash_key(key)
        row = RawStatements.of(session).one(BY_KEY, [digest, digest, now])
        cache[key] = None if row is None else _source(row)
    return cache[key]


def by_id(session: Session, integration_id: int) -> Source | None:
    """An integration by id, revoked or not (for callers that already hold one)."""
    row = RawStatements.of(session).one(BY_ID, [integration_id])
    return None if row is None else _source(row)


def _source(row: tuple[Any, ...]) -> Source:
    id_, type_, name, service_id, slug, limit, own_rules, config, service_rules = row
    return Source(
        id=int(id_),
        type=type_,
        name=name,
        service_id=int(service_id),
        service_slug=slug,
        rate_limit_per_minute=int(limit or 0),
        rules=_rules(own_rules) + _rules(service_rules),
        config=_json(config) or {},
    )


def _rules(stored: Any) -> tuple[RoutingRule, ...]:
    """Rules from their stored form: JSON text on SQLite, parsed values on PostgreSQL."""
    if stored is None:
        return ()
    text = stored if isinstance(stored, str) else orjson.dumps(stored)
    found = _parsed.get(text)
    if found is None:
        if len(_parsed) >= PARSED_LIMIT:
            _parsed.clear()
        found = _parsed[text] = tuple(rules.rule_from(item) for item in _json(stored) or [])
    return found


def _json(stored: Any) -> Any:
    return orjson.loads(stored) if isinstance(stored, str) else stored
