"""Integration keys: create, find by key, rotate with a grace period, revoke."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.factories import make_service
from warroom.alerts import integrations
from warroom.alerts.integrations import ROTATION_GRACE, IntegrationType, hash_key
from warroom.alerts.models import Integration
from warroom.clock import FixedClock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.errors import Invalid, NotFound


def _create(sessions: SessionFactory, clock: FixedClock, **extra: Any) -> tuple[int, str]:
    with unit_of_work(sessions) as session:
        make_service(session, clock.now(), "checkout")
        found, key = integrations.create(
            session=session,
            now=clock.now(),
            service_slug="checkout",
            type_=extra.pop("type_", IntegrationType.PAGERDUTY),
            **extra,
        )
        return found.id, key


def _by_key(
    sessions: SessionFactory,
    clock: FixedClock,
    key: str,
    type_: IntegrationType | None = None,
) -> int | None:
    with unit_of_work(sessions, write=False) as session:
        found = integrations.by_key(session=session, key=key, now=clock.now(), type_=type_)
        return found.id if found else None


def _rotate(sessions: SessionFactory, clock: FixedClock, integration_id: int) -> str:
    with unit_of_work(sessions) as session:
        found = integrations.get_or_404(session=session, integration_id=integration_id)
        return integrations.rotate(session=session, now=clock.now(), integration=found)


def _revoke(sessions: SessionFactory, clock: FixedClock, integration_id: int) -> None:
    with unit_of_work(sessions) as session:
        found = integrations.get_or_404(session=session, integration_id=integration_id)
        integrations.revoke(session=session, now=clock.now(), integration=found)


def test_create_stores_only_a_hash_of_a_32_character_key(sessions, clock):
    integration_id, key = _create(sessions, clock, name="prod AM", rate_limit_per_minute=120)
    assert len(key) == 32
    with unit_of_work(sessions, write=False) as session:
        row = session.get(Integration, integration_id)
        assert row is not None
        assert row.key_hash == hash_key(key) != key
        assert row.key_prefix == key[:6]
        assert (row.name, row.type, row.rate_limit_per_minute) == ("prod AM", "pagerduty", 120)
        assert row.service.slug == "checkout"
        assert (row.created_at, row.rotated_at, row.revoked_at) == (clock.now(), None, None)
        assert (row.rules, row.config) == ([], {})


def test_default_name_and_keys_differ(sessions, clock):
    integration_id, key = _create(sessions, clock)
    with unit_of_work(sessions) as session:
        other, other_key = integrations.create(
            session=session,
            now=clock.now(),
            service_slug="checkout",
            type_=IntegrationType.GRAFANA,
        )
        assert other.name == "checkout-grafana"
        assert session.get(Integration, integration_id).name == "checkout-pagerduty"  # type: ignore[union-attr]
    assert other_key != key


def test_create_refuses_unknown_service_and_bad_rules(sessions, clock):
    _create(sessions, clock)
    with unit_of_work(sessions) as session:
        with pytest.raises(Invalid) as unknown:
            integrations.create(
                session=session,
                now=clock.now(),
                service_slug="nope",
                type_=IntegrationType.GENERIC,
            )
        assert unknown.value.field == "service"
        with pytest.raises(Invalid) as bad:
            integrations.create(
                session=session,
                now=clock.now(),
                service_slug="checkout",
                type_=IntegrationType.GENERIC,
                rules_json=[{"match": [{"label": "a", "regex": "("}]}],
            )
        assert bad.value.field == "rules"
        assert "rules[0]" in bad.value.message


def test_by_key_finds_the_integration_and_checks_the_type(sessions, clock):
    integration_id, key = _create(sessions, clock)
    assert _by_key(sessions, clock, key) == integration_id
    assert _by_key(sessions, clock, key, IntegrationType.PAGERDUTY) == integration_id
    assert _by_key(sessions, clock, key, IntegrationType.ALERTMANAGER) is None
    assert _by_key(sessions, clock, "0" * 32) is None
    assert _by_key(sessions, clock, "") is None


def test_rotated_key_works_during_the_grace_period_only(sessions, clock):
    integration_id, old = _create(sessions, clock)
    new = _rotate(sessions, clock, integration_id)
    assert new != old
    assert _by_key(sessions, clock, new) == integration_id
    assert _by_key(sessions, clock, old) == integration_id
    clock.advance(ROTATION_GRACE - timedelta(seconds=1))
    assert _by_key(sessions, clock, old) == integration_id
    clock.advance(timedelta(seconds=1))
    assert _by_key(sessions, clock, old) is None
    assert _by_key(sessions, clock, new) == integration_id
    with unit_of_work(sessions, write=False) as session:
        row = session.get(Integration, integration_id)
        assert row is not None
        assert row.key_prefix == new[:6]
        assert row.rotated_at == clock.now() - ROTATION_GRACE


def test_revoke_stops_every_key_at_once(sessions, clock):
    integration_id, old = _create(sessions, clock)
    new = _rotate(sessions, clock, integration_id)
    clock.advance(timedelta(minutes=1))
    _revoke(sessions, clock, integration_id)
    assert _by_key(sessions, clock, new) is None
    assert _by_key(sessions, clock, old) is None
    revoked_at = clock.now()
    clock.advance(timedelta(minutes=1))
    _revoke(sessions, clock, integration_id)  # a second revoke changes nothing
    with unit_of_work(sessions, write=False) as session:
        row = session.get(Integration, integration_id)
        assert row is not None
        assert row.revoked_at == revoked_at


def test_revoked_integration_cannot_be_rotated(sessions, clock):
    integration_id, _ = _create(sessions, clock)
    _revoke(sessions, clock, integration_id)
    with pytest.raises(Invalid):
        _rotate(sessions, clock, integration_id)


def test_update_and_list(sessions, clock):
    integration_id, _ = _create(sessions, clock, type_=IntegrationType.GENERIC)
    with unit_of_work(sessions) as session:
        row = integrations.get_or_404(session=session, integration_id=integration_id)
        integrations.update(
            session=session,
            integration=row,
            name="renamed",
            rate_limit_per_minute=5,
            rules_json=[{"name": "r", "drop": True}],
            config={"paths": {"summary": "title"}},
        )
        with pytest.raises(Invalid):
            integrations.update(session=session, integration=row, rules_json=[{"x": 1}])
        with pytest.raises(Invalid):  # settings of another integration type
            integrations.update(session=session, integration=row, config={"hmac_secret": "s"})
    with unit_of_work(sessions, write=False) as session:
        [row] = integrations.list_integrations(session=session, service_slug="checkout")
        assert (row.name, row.rate_limit_per_minute) == ("renamed", 5)
        assert row.rules == [{"name": "r", "drop": True}]
        assert row.config == {"paths": {"summary": "title"}}
        assert integrations.list_integrations(session=session) == [row]
        with pytest.raises(NotFound):
            integrations.get_or_404(session=session, integration_id=integration_id + 1000)
