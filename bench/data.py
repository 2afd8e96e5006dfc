"""Synthetic organisation and incident history for the benchmark.

Everything here is plain Python producing rows; bench/seed.py writes them.
Timestamps are naive UTC datetimes: each writer converts them to what its
database stores (SQLite: SQLAlchemy's text format, PostgreSQL: timestamptz).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import cycle
from typing import Any

from warroom.users.auth import IssuedToken, issue_token

Row = tuple[Any, ...]
Stamp = Callable[[datetime], Any]

SERVICE_NAMES = (
    "checkout", "payments", "search", "catalog", "cart", "accounts", "login", "orders",
    "shipping", "inventory", "pricing", "notifications", "email", "reports", "api-gateway",
    "cdn", "dns", "database", "queue", "billing",
)  # fmt: skip
SYMPTOMS = (
    "Elevated 5xx rate", "Latency above SLO", "Timeouts", "Error budget burn",
    "Failed deploy", "Queue backlog growing", "Certificate expiry warning", "Partial outage",
    "Data inconsistency", "Memory leak suspected",
)  # fmt: skip
OPEN_PHASES = ("detection", "triage", "investigating", "mitigating")
# (phase, weight): the newest incidents are mostly still open; older ones are
# mostly closed, with a few stale open ones that nobody moved along.
RECENT_PHASES = ((*OPEN_PHASES, "resolved", "closed", "dismissed"), (10, 15, 20, 15, 25, 5, 10))
OLD_PHASES = ((*OPEN_PHASES, "resolved", "closed", "dismissed"), (1, 1, 1, 1, 15, 72, 9))
SEVERITY_WEIGHTS = ((1, 2, 3, 4), (5, 15, 40, 40))
UPDATE_CADENCE = {1: timedelta(minutes=15), 2: timedelta(minutes=30), 3: timedelta(hours=1)}

INCIDENT_COLUMNS = (
    "id", "title", "severity_level", "phase", "drill", "customer_impact", "current_theory",
    "next_action", "commander_id", "tech_lead_id", "comms_id", "created_by_id",
    "acknowledged_by_id", "acknowledged_at", "declared_at", "detection_at", "triage_at",
    "investigating_at", "mitigating_at", "resolved_at", "closed_at", "dismissed_at",
    "next_update_due_at", "updated_at", "version",
)  # fmt: skip
USER_COLUMNS = ("id", "handle", "name", "email", "time_zone", "role", "active", "created_at")
TEAM_COLUMNS = ("id", "slug", "name", "time_zone", "created_at")
SERVICE_COLUMNS = ("id", "slug", "name", "description", "team_id", "created_at")
TOKEN_COLUMNS = ("id", "user_id", "name", "token_hash", "prefix", "created_at")


@dataclass(frozen=True)
class Shape:
    """How much to generate."""

    incidents: int = 100_000
    entries_per_incident: int = 10
    users: int = 20
    services: int = 20
    years: float = 2.0
    seed: int = 20261127


@dataclass(frozen=True)
class Organisation:
    """Users, teams, services and the admin's token, as rows and as names."""

    users: list[Row]
    teams: list[Row]
    members: list[Row]
    services: list[Row]
    token_row: Row
    token: IssuedToken
    admin_id: int
    responder_ids: list[int]
    handles: list[str]
    service_ids: list[int]
    service_slugs: list[str]


def organisation(shape: Shape, created: datetime, stamp: Stamp) -> Organisation:
    """An admin, ``shape.users`` responders in two teams, ``shape.services`` services."""
    at = stamp(created)
    users: list[Row] = [(1, "bench-admin", "Bench Admin", "admin@bench.test", "UTC", "admin")]
    users += [
        (n + 1, f"user{n:02d}", f"User {n:02d}", f"user{n:02d}@bench.test", zone, "responder")
        for n, zone in zip(range(1, shape.users + 1), cycle(("Europe/Paris", "America/Denver")))
    ]
    users = [(*user, True, at) for user in users]
    teams: list[Row] = [
        (1, "platform", "Platform", "UTC", at),
        (2, "product", "Product", "UTC", at),
    ]
    members: list[Row] = [(1 + n % 2, uid) for n, uid in enumerate(range(2, shape.users + 2))]
    names = [SERVICE_NAMES[n % len(SERVICE_NAMES)] for n in range(shape.services)]
    slugs = [name if n < len(SERVICE_NAMES) else f"{name}-{n}" for n, name in enumerate(names)]
    services: list[Row] = [
        (n + 1, slug, slug.title(), f"The {slug} service", 1 + n % 2, at)
        for n, slug in enumerate(slugs)
    ]
    token = issue_token()
    return Organisation(
        users=users,
        teams=teams,
        members=members,
        services=services,
        token_row=(1, 1, "bench", token.digest, token.prefix, at),
        token=token,
        admin_id=1,
        responder_ids=list(range(2, shape.users + 2)),
        handles=[str(u[1]) for u in users[1:]],
        service_ids=[int(s[0]) for s in services],
        service_slugs=slugs,
    )


@dataclass
class _Clockwork:
    """Phase timestamps of one incident, derived from where it ended up."""

    declared: datetime
    phase: str

    def reached(self, phase: str) -> bool:
        order = (*OPEN_PHASES, "resolved", "closed")
        if self.phase == "dismissed":
            return phase in ("detection", "triage")
        return order.index(self.phase) >= order.index(phase)

    def at(self, phase: str, offset: timedelta) -> datetime | None:
        return self.declared + offset if self.reached(phase) else None


PHASE_OFFSETS = {
    "investigating": timedelta(minutes=9),
    "mitigating": timedelta(minutes=41),
    "resolved": timedelta(hours=2, minutes=7),
    "closed": timedelta(days=4),
}


def _pick(rng: random.Random, table: tuple[tuple[Any, ...], tuple[int, ...]]) -> Any:
    return rng.choices(table[0], weights=table[1])[0]


def incident_row(
    n: int, declared: datetime, recent: bool, org: Organisation, rng: random.Random, stamp: Stamp
) -> Row:
    """Incident number ``n``, declared at ``declared``, with a plausible history."""
    phase = _pick(rng, RECENT_PHASES if recent else OLD_PHASES)
    severity = _pick(rng, SEVERITY_WEIGHTS)
    clock = _Clockwork(declared, phase)
    times = {f"{p}_at": clock.at(p, offset) for p, offset in PHASE_OFFSETS.items()}
    times["dismissed_at"] = declared + timedelta(minutes=12) if phase == "dismissed" else None
    acked = declared + timedelta(minutes=rng.randint(1, 8)) if phase != "detection" else None
    updated = max(t for t in (declared, acked, *times.values()) if t is not None)
    cadence = UPDATE_CADENCE.get(severity)
    people = org.responder_ids
    row: dict[str, Any] = {
        "id": n,
        "title": f"{rng.choice(SYMPTOMS)} on {rng.choice(org.service_slugs)} ({n})",
        "severity_level": severity,
        "phase": phase,
        "drill": rng.random() < 0.03,
        "customer_impact": f"About {rng.randint(1, 60)}% of requests failing in the EU",
        "current_theory": "Pool exhausted after deploy" if clock.reached("investigating") else "",
        "next_action": "Roll back, watch error rate" if clock.reached("mitigating") else "",
        "commander_id": rng.choice(people) if rng.random() < 0.9 else None,
        "tech_lead_id": rng.choice(people) if rng.random() < 0.7 else None,
        "comms_id": rng.choice(people) if rng.random() < 0.5 else None,
        "created_by_id": rng.choice(people),
        "acknowledged_by_id": rng.choice(people) if acked else None,
        "acknowledged_at": acked,
        "declared_at": declared,
        "detection_at": declared,
        "triage_at": declared,
        **times,
        "next_update_due_at": updated + cadence if cadence and phase in OPEN_PHASES else None,
        "updated_at": updated,
        "version": 2 + sum(t is not None for t in times.values()),
    }
    return tuple(
        stamp(v) if isinstance(v, datetime) else v for v in (row[c] for c in INCIDENT_COLUMNS)
    )


def incident_batches(
    shape: Shape, org: Organisation, end: datetime, stamp: Stamp, batch: int = 10_000
) -> Iterator[tuple[list[Row], list[Row]]]:
    """Incidents 1..N spread evenly over ``shape.years`` up to ``end``, with their services.

    Yields (incident rows, incident_service rows) in batches of ``batch`` incidents.
    """
    rng = random.Random(shape.seed)
    span = timedelta(days=365 * shape.years)
    step = span / max(shape.incidents, 1)
    start = end - span
    recent_from = shape.incidents - max(1, shape.incidents // 100)
    incidents: list[Row] = []
    links: list[Row] = []
    for n in range(1, shape.incidents + 1):
        declared = start + step * n + timedelta(microseconds=rng.randint(1, 999_999))
        incidents.append(incident_row(n, declared, n > recent_from, org, rng, stamp))
        count = rng.choices((1, 2, 3), weights=(60, 30, 10))[0]
        links.extend((n, s) for s in rng.sample(org.service_ids, count))
        if len(incidents) >= batch:
            yield incidents, links
            incidents, links = [], []
    if incidents:
        yield incidents, links


def now_utc() -> datetime:
    """The current time as a naive UTC datetime (what the generators take)."""
    return datetime.now(UTC).replace(tzinfo=None)
