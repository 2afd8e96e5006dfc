"""Listing incidents: filters and cursor pagination."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_incident, make_service, make_user, postmortem_published
from warroom.db.uow import unit_of_work
from warroom.errors import Invalid
from warroom.incidents import queries as incident_queries
from warroom.incidents import service as incident_service
from warroom.incidents.queries import MAX_PAGE, IncidentFilter
from warroom.incidents.rules import Phase


@pytest.fixture
def listed(sessions, clock):
    """Six incidents in assorted states; yields (session, {title: incident})."""
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        make_service(session, clock.now(), "checkout")
        make_service(session, clock.now(), "search")
        specs = [
            ("a-checkout-sev1", 1, ["checkout"], False, []),
            ("b-search-sev2", 2, ["search"], False, [Phase.INVESTIGATING]),
            ("c-both-sev3", 3, ["checkout", "search"], False, [Phase.RESOLVED]),
            ("d-none-sev4", 4, [], False, [Phase.DISMISSED]),
            ("e-drill-sev1", 1, ["checkout"], True, [Phase.MITIGATING]),
            ("f-closed-sev2", 2, [], False, [Phase.RESOLVED, Phase.CLOSED]),
        ]
        made = {}
        for title, severity, services, drill, path in specs:
            incident = make_incident(
                session,
                clock.now(),
                alice,
                title=title,
                severity=severity,
                services=services,
                drill=drill,
            )
            for phase in path:
                if phase is Phase.CLOSED:
                    postmortem_published(incident)
                incident_service.change_phase(
                    session=session, now=clock.now(), actor=alice, incident=incident, phase=phase
                )
            made[title] = incident
        yield session, made


def _titles(session: Session, limit: int = 50, **filters: Any) -> list[str]:
    rows, _ = incident_queries.list_incidents(
        session=session, filters=IncidentFilter(**filters), limit=limit
    )
    return [r.title for r in rows]


def test_no_filter_lists_everything_newest_first(listed):
    session, made = listed
    assert _titles(session) == sorted(made, reverse=True)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"phases": (Phase.TRIAGE,)}, ["a-checkout-sev1"]),
        ({"phases": (Phase.RESOLVED, Phase.CLOSED)}, ["c-both-sev3", "f-closed-sev2"]),
        ({"severity_levels": (1,)}, ["a-checkout-sev1", "e-drill-sev1"]),
        ({"severity_levels": (2, 4)}, ["b-search-sev2", "d-none-sev4", "f-closed-sev2"]),
        ({"service": "checkout"}, ["a-checkout-sev1", "c-both-sev3", "e-drill-sev1"]),
        ({"service": "search"}, ["b-search-sev2", "c-both-sev3"]),
        ({"open": True}, ["a-checkout-sev1", "b-search-sev2", "e-drill-sev1"]),
        ({"open": False}, ["c-both-sev3", "d-none-sev4", "f-closed-sev2"]),
        ({"drill": True}, ["e-drill-sev1"]),
        (
            {"drill": False},
            ["a-checkout-sev1", "b-search-sev2", "c-both-sev3", "d-none-sev4", "f-closed-sev2"],
        ),
        ({"open": True, "drill": False, "service": "checkout"}, ["a-checkout-sev1"]),
        ({"severity_levels": (3,), "open": True}, []),
    ],
)
def test_filters(listed, filters, expected):
    session, _ = listed
    assert sorted(_titles(session, **filters)) == expected


def test_unknown_service_filter_is_invalid(listed):
    session, _ = listed
    with pytest.raises(Invalid) as caught:
        _titles(session, service="nope")
    assert caught.value.field == "service"


@pytest.mark.parametrize("limit", [1, 2, 4, 5, 6, 7])
def test_pagination_covers_every_row_exactly_once(listed, limit):
    session, made = listed
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        rows, cursor = incident_queries.list_incidents(
            session=session, filters=IncidentFilter(), cursor=cursor, limit=limit
        )
        pages += 1
        assert len(rows) <= limit
        seen.extend(r.title for r in rows)
        if cursor is None:
            break
        assert len(rows) == limit
    assert seen == sorted(made, reverse=True)
    assert pages == max(1, -(-len(made) // limit))


def test_pagination_with_a_filter(listed):
    session, _ = listed
    filters = IncidentFilter(service="checkout")
    first, cursor = incident_queries.list_incidents(session=session, filters=filters, limit=2)
    assert [r.title for r in first] == ["e-drill-sev1", "c-both-sev3"]
    assert cursor is not None
    second, cursor = incident_queries.list_incidents(
        session=session, filters=filters, cursor=cursor, limit=2
    )
    assert [r.title for r in second] == ["a-checkout-sev1"]
    assert cursor is None


def test_cursor_is_opaque_and_round_trips():
    cursor = incident_queries.encode_cursor(42)
    assert "42" not in cursor
    assert incident_queries.decode_cursor(cursor) == 42


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "aTpub3RhbnVtYmVy",  # "i:notanumber"
        base64.urlsafe_b64encode(b"x:5").decode(),
        base64.urlsafe_b64encode(b"no-colon").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe:1").decode(),
    ],
)
def test_bad_cursor_is_invalid(listed, cursor):
    session, _ = listed
    with pytest.raises(Invalid) as caught:
        incident_queries.list_incidents(session=session, filters=IncidentFilter(), cursor=cursor)
    assert caught.value.field == "cursor"


def test_cursor_beyond_the_id_range_is_invalid(sessions):
    number = 2**63
    forged = base64.urlsafe_b64encode(f"i:{number}".encode()).decode()
    with unit_of_work(sessions, write=False) as session, pytest.raises(Invalid) as caught:
        incident_queries.list_incidents(session=session, filters=IncidentFilter(), cursor=forged)
    assert caught.value.field == "cursor"


@pytest.mark.parametrize("limit", [0, -1, MAX_PAGE + 1])
def test_limit_out_of_bounds_is_invalid(listed, limit):
    session, _ = listed
    with pytest.raises(Invalid) as caught:
        _titles(session, limit=limit)
    assert caught.value.field == "limit"
    assert str(MAX_PAGE) in caught.value.message


@pytest.mark.parametrize("limit", [1, MAX_PAGE])
def test_limit_bounds_are_inclusive(listed, limit):
    session, made = listed
    assert len(_titles(session, limit=limit)) == min(limit, len(made))
