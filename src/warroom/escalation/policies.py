"""Escalation policy use-cases: create, update, look up, attach to services. Flushes only."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.errors import Invalid, NotFound
from warroom.escalation import rules
from warroom.escalation.models import EscalationPolicy
from warroom.oncall.models import Schedule
from warroom.users import service as user_service
from warroom.users.models import Service


def policy_rules(row: EscalationPolicy) -> rules.Policy:
    """The pure policy a stored row describes."""
    levels = tuple(
        rules.Level(
            targets=tuple(
                rules.Target(rules.TargetKind(t["kind"]), str(t["ref"])) for t in level["targets"]
            ),
            timeout=timedelta(seconds=int(level["timeout_seconds"])),
        )
        for level in row.levels
    )
    return rules.Policy(name=row.slug, levels=levels, repeat=row.repeat)


def _normalised(levels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Targets as stored and looked up: handles without '@', everything lower case."""
    return [
        {
            **level,
            "targets": [
                {"kind": t["kind"], "ref": str(t["ref"]).strip().removeprefix("@").lower()}
                for t in level["targets"]
            ],
        }
        for level in levels
    ]


def _check_targets(session: Session, levels: list[dict[str, Any]]) -> None:
    for number, level in enumerate(levels, start=1):
        for target in level["targets"]:
            if target["kind"] == rules.TargetKind.USER.value:
                user_service.get_by_handle_or_raise(
                    session=session, handle=target["ref"], field=f"levels[{number}].targets"
                )
            elif session.scalar(select(Schedule.id).where(Schedule.slug == target["ref"])) is None:
                raise Invalid(
                    f"level {number}: no schedule '{target['ref']}'", field=f"levels[{number}]"
                )


def get_or_404(*, session: Session, slug: str) -> EscalationPolicy:
    found = session.scalar(select(EscalationPolicy).where(EscalationPolicy.slug == slug))
    if found is None:
        raise NotFound(f"no escalation policy '{slug}'")
    return found


def list_policies(*, session: Session) -> list[EscalationPolicy]:
    return list(session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.slug)))


def save(
    *,
    session: Session,
    now: datetime,
    slug: str,
    name: str,
    repeat: int,
    levels: list[dict[str, Any]],
) -> tuple[EscalationPolicy, bool]:
    """Create the policy or replace its definition; (policy, created)."""
    levels = _normalised(levels)
    row = session.scalar(select(EscalationPolicy).where(EscalationPolicy.slug == slug))
    created = row is None
    candidate = EscalationPolicy(slug=slug, name=name, repeat=repeat, levels=levels)
    rules.validate_policy(policy_rules(candidate))
    _check_targets(session, levels)
    if row is None:
        row = EscalationPolicy(slug=slug, created_at=now)
        session.add(row)
    row.name, row.repeat, row.levels, row.updated_at = name, repeat, levels, now
    session.flush()
    return row, created


def delete(*, session: Session, policy: EscalationPolicy) -> None:
    """Delete a policy; services that used it page nobody until given another."""
    session.delete(policy)
    session.flush()


def attach(*, session: Session, service: Service, policy: EscalationPolicy | None) -> None:
    """Make ``policy`` the one that pages for ``service`` (None: no paging)."""
    service.escalation_policy_id = policy.id if policy else None
    session.flush()


def policies_using_schedule(*, session: Session, slug: str) -> list[str]:
    """Policies with a level that pages the schedule ``slug``."""
    return [
        row.slug
        for row in list_policies(session=session)
        if any(
            t["kind"] == "schedule" and t["ref"] == slug
            for level in row.levels
            for t in level["targets"]
        )
    ]


def services_using(*, session: Session, policy: EscalationPolicy) -> list[str]:
    query = select(Service.slug).where(Service.escalation_policy_id == policy.id)
    return list(session.scalars(query.order_by(Service.slug)))
