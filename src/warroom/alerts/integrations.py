"""Integration keys: create, find, rotate, revoke. Flushes, never commits."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from warroom.alerts import rules
from warroom.alerts.models import Integration
from warroom.errors import Invalid, NotFound
from warroom.users import auth
from warroom.users import service as user_service

ROTATION_GRACE = timedelta(hours=24)


class IntegrationType(StrEnum):
    ALERTMANAGER = "alertmanager"
    PAGERDUTY = "pagerduty"
    GRAFANA = "grafana"
    GENERIC = "generic"


def hash_key(key: str) -> str:
    """Integration keys are random like API tokens, so they are stored the same way."""
    return auth.hash_token(key)


def new_key() -> str:
    """A 32-character key, the length PagerDuty clients expect of a routing key."""
    return secrets.token_hex(16)


def create(
    *,
    session: Session,
    now: datetime,
    service_slug: str,
    type_: IntegrationType,
    name: str = "",
    rate_limit_per_minute: int = 0,
    rules_json: list[Any] | None = None,
    config: dict[str, Any] | None = None,
) -> tuple[Integration, str]:
    """Create an integration; returns it and its key (shown once, stored hashed)."""
    service = user_service.get_service_or_raise(session=session, slug=service_slug)
    config_errors = rules.config_problems(type_.value, config or {})
    if config_errors:
        raise Invalid("; ".join(config_errors), field="config")
    problems = rules.rule_problems(rules_json or [])
    if problems:
        raise Invalid("; ".join(problems), field="rules")
    key = new_key()
    integration = Integration(
        service_id=service.id,
        type=type_.value,
        name=name or f"{service.slug}-{type_.value}",
        key_hash=hash_key(key),
        key_prefix=key[:6],
        rate_limit_per_minute=rate_limit_per_minute,
        rules=rules_json or [],
        config=config or {},
        created_at=now,
    )
    integration.service = service
    session.add(integration)
    session.flush()
    return integration, key


def by_key(
    *, session: Session, key: str, now: datetime, type_: IntegrationType | None = None
) -> Integration | None:
    """The live integration a key opens (a rotated-out key works for a grace period)."""
    digest = hash_key(key)
    query = select(Integration).where(
        Integration.revoked_at.is_(None),
        or_(Integration.key_hash == digest, Integration.previous_key_hash == digest),
    )
    if type_ is not None:
        query = query.where(Integration.type == type_.value)
    for integration in session.scalars(query):
        if integration.key_hash == digest:
            return integration
        expires = integration.previous_key_expires_at
        if expires is not None and expires > now:
            return integration
    return None


def get_or_404(*, session: Session, integration_id: int) -> Integration:
    integration = session.get(Integration, integration_id)
    if integration is None:
        raise NotFound(f"no integration {integration_id}")
    return integration


def list_integrations(*, session: Session, service_slug: str | None = None) -> list[Integration]:
    """Integrations, optionally of one service."""
    query = select(Integration).order_by(Integration.id)
    if service_slug:
        service = user_service.get_service_or_raise(session=session, slug=service_slug)
        query = query.where(Integration.service_id == service.id)
    return list(session.scalars(query))


def rotate(*, session: Session, now: datetime, integration: Integration) -> str:
    """Issue a new key; the old one keeps working for ROTATION_GRACE."""
    if integration.revoked_at is not None:
        raise Invalid("a revoked integration cannot be rotated", field="id")
    key = new_key()
    integration.previous_key_hash = integration.key_hash
    integration.previous_key_expires_at = now + ROTATION_GRACE
    integration.key_hash = hash_key(key)
    integration.key_prefix = key[:6]
    integration.rotated_at = now
    session.flush()
    return key


def revoke(*, session: Session, now: datetime, integration: Integration) -> Integration:
    """Stop accepting events on this integration's keys at once."""
    if integration.revoked_at is None:
        integration.revoked_at = now
        session.flush()
    return integration


def update(
    *,
    session: Session,
    integration: Integration,
    name: str | None = None,
    rate_limit_per_minute: int | None = None,
    rules_json: list[Any] | None = None,
    config: dict[str, Any] | None = None,
) -> Integration:
    """Change an integration's name, rate limit, routing rules or format settings."""
    if rules_json is not None:
        problems = rules.rule_problems(rules_json)
        if problems:
            raise Invalid("; ".join(problems), field="rules")
        integration.rules = rules_json
    if name is not None:
        integration.name = name
    if rate_limit_per_minute is not None:
        integration.rate_limit_per_minute = rate_limit_per_minute
    if config is not None:
        merged = rules.merge_config(integration.config or {}, config)
        config_errors = rules.config_problems(integration.type, merged)
        if config_errors:
            raise Invalid("; ".join(config_errors), field="config")
        integration.config = merged
    session.flush()
    return integration
