"""Severity levels: stored per organisation, seeded with process.md's defaults."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.errors import Conflict, NotFound
from warroom.incidents.models import Severity
from warroom.incidents.rules import SeverityPolicy, severity_level_from
from warroom.incidents.schemas import SeverityWrite


def _seconds(value: int | None) -> timedelta | None:
    return timedelta(seconds=value) if value is not None else None


def policy_of(row: Severity) -> SeverityPolicy:
    """The pure policy behind a stored severity row."""
    return SeverityPolicy(
        level=row.level,
        name=row.name,
        description=row.description,
        ack_target=_seconds(row.ack_target_seconds),
        ack_next_business_day=row.ack_next_business_day,
        update_cadence=_seconds(row.update_cadence_seconds),
        postmortem_required=row.postmortem_required,
    )


def list_severities(*, session: Session) -> list[Severity]:
    """Every severity level, most severe first."""
    return list(session.scalars(select(Severity).order_by(Severity.level)))


def policies(*, session: Session) -> list[SeverityPolicy]:
    """Every severity as a pure policy."""
    return [policy_of(row) for row in list_severities(session=session)]


def resolve(*, session: Session, value: str | int) -> Severity:
    """The severity named by "1", "SEV-1" or a configured name, or Invalid."""
    level = severity_level_from(value, policies(session=session))
    row = session.get(Severity, level)
    assert row is not None  # severity_level_from only returns stored levels
    return row


def put(*, session: Session, level: int, severity_in: SeverityWrite) -> Severity:
    """Create or replace the severity at ``level``."""
    clash = session.scalars(
        select(Severity).where(Severity.name == severity_in.name, Severity.level != level)
    ).first()
    if clash is not None:
        raise Conflict(f"name {severity_in.name!r} is used by level {clash.level}", field="name")
    row = session.get(Severity, level) or Severity(level=level)
    row.name = severity_in.name
    row.description = severity_in.description
    row.ack_target_seconds = severity_in.ack_target_seconds
    row.ack_next_business_day = severity_in.ack_next_business_day
    row.update_cadence_seconds = severity_in.update_cadence_seconds
    row.postmortem_required = severity_in.postmortem_required
    session.add(row)
    session.flush()
    return row


def get_or_404(*, session: Session, level: int) -> Severity:
    """The severity at ``level``, or NotFound."""
    row = session.get(Severity, level)
    if row is None:
        raise NotFound(f"no severity level {level}")
    return row
