"""Schedule use-cases: save, look up, who is on call, shifts, feeds. Flushes, never commits.

Rows hold user handles and local "HH:MM" times; the pure rules (rules.py)
do the arithmetic on the dataclasses built here.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.errors import Invalid, NotFound
from warroom.oncall import rules
from warroom.oncall.models import Schedule, ScheduleLayer, ScheduleOverride
from warroom.users import service as user_service
from warroom.users.models import Team, User

MAX_RANGE = timedelta(days=366)


def _clock(value: str, field: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise Invalid(f"'{value}' is not a time of day (HH:MM)", field=field) from None


def _restriction(item: dict[str, Any], field: str) -> rules.Restriction:
    return rules.Restriction(
        days=frozenset(int(d) for d in item.get("days", range(7))),
        start=_clock(str(item.get("start", "")), f"{field}.start"),
        end=_clock(str(item.get("end", "")), f"{field}.end"),
    )


def _layer(row: ScheduleLayer) -> rules.Layer:
    field = f"layers[{row.position + 1}]"
    return rules.Layer(
        name=row.name,
        participants=tuple(row.participants),
        shift_count=row.shift_count,
        shift_unit=rules.ShiftUnit(row.shift_unit),
        handoff=_clock(row.handoff, f"{field}.handoff"),
        start=row.start_at,
        restrictions=tuple(
            _restriction(r, f"{field}.restrictions[{n}]")
            for n, r in enumerate(row.restrictions or [], start=1)
        ),
    )


def schedule_rules(row: Schedule) -> rules.Schedule:
    """The pure schedule a stored row describes."""
    return rules.Schedule(
        tz=row.time_zone,
        layers=tuple(_layer(layer) for layer in row.layers),
        overrides=tuple(
            rules.Override(person=o.user.handle, start=o.start_at, end=o.end_at)
            for o in row.overrides
        ),
    )


def get_or_404(*, session: Session, slug: str) -> Schedule:
    found = session.scalar(select(Schedule).where(Schedule.slug == slug))
    if found is None:
        raise NotFound(f"no schedule '{slug}'")
    return found


def list_schedules(*, session: Session) -> list[Schedule]:
    return list(session.scalars(select(Schedule).order_by(Schedule.slug)))


def save(
    *,
    session: Session,
    now: datetime,
    slug: str,
    name: str,
    time_zone: str,
    layers: list[dict[str, Any]],
    team_id: int | None = None,
) -> tuple[Schedule, bool]:
    """Create the schedule or replace its layers (overrides are kept); (schedule, created)."""
    for number, layer in enumerate(layers, start=1):
        for handle in layer["participants"]:
            user_service.get_by_handle_or_raise(
                session=session, handle=handle, field=f"layers[{number}].participants"
            )
    row = session.scalar(select(Schedule).where(Schedule.slug == slug))
    created = row is None
    if row is None:
        row = Schedule(slug=slug, created_at=now, revision=0)
        session.add(row)
    new_layers = [
        ScheduleLayer(
            position=n,
            name=item.get("name") or f"layer {n + 1}",
            participants=list(item["participants"]),
            shift_count=int(item["shift_count"]),
            shift_unit=str(item["shift_unit"]),
            handoff=str(item["handoff"]),
            start_at=item["start"],
            restrictions=list(item.get("restrictions") or []),
        )
        for n, item in enumerate(layers)
    ]
    candidate = Schedule(time_zone=time_zone, layers=new_layers, overrides=[])
    rules.validate_schedule(schedule_rules(candidate))
    row.name, row.time_zone = name, time_zone
    # No autoflush: the new row is not complete until _changed() below.
    with session.no_autoflush:
        row.team = session.get(Team, team_id) if team_id is not None else None
    row.layers = new_layers
    _changed(row, now)
    session.flush()
    return row, created


def _changed(row: Schedule, now: datetime) -> None:
    row.revision = (row.revision or 0) + 1
    row.updated_at = now


def add_override(
    *,
    session: Session,
    now: datetime,
    schedule: Schedule,
    user: User,
    start: datetime,
    end: datetime,
) -> ScheduleOverride:
    if end <= start:
        raise Invalid("an override must end after it starts", field="end")
    if end - start > MAX_RANGE:
        raise Invalid("an override may last at most a year", field="end")
    override = ScheduleOverride(user=user, start_at=start, end_at=end, created_at=now)
    schedule.overrides.append(override)
    _changed(schedule, now)
    session.flush()
    return override


def remove_override(
    *, session: Session, now: datetime, schedule: Schedule, override_id: int
) -> None:
    for override in schedule.overrides:
        if override.id == override_id:
            schedule.overrides.remove(override)
            _changed(schedule, now)
            session.flush()
            return
    raise NotFound(f"schedule '{schedule.slug}' has no override {override_id}")


def delete(*, session: Session, schedule: Schedule) -> None:
    session.delete(schedule)
    session.flush()


def on_call(*, schedule: Schedule, at: datetime) -> rules.Shift | None:
    return rules.oncall_at(schedule_rules(schedule), at)


def on_call_handle(*, session: Session, slug: str, at: datetime) -> str | None:
    """The handle of whoever ``slug`` has on call at ``at`` (None: nobody, or no schedule)."""
    row = session.scalar(select(Schedule).where(Schedule.slug == slug))
    if row is None:
        return None
    shift = on_call(schedule=row, at=at)
    return shift.person if shift else None


def shifts(*, schedule: Schedule, start: datetime, end: datetime) -> list[rules.Shift]:
    if end <= start:
        raise Invalid("the range must end after it starts", field="end")
    if end - start > MAX_RANGE:
        raise Invalid("ask for at most a year of shifts at once", field="end")
    return rules.final_shifts(schedule_rules(schedule), start, end)


def gaps(*, schedule: Schedule, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    return rules.coverage_gaps(schedule_rules(schedule), start, end)


def shifts_of(
    *, session: Session, handle: str, start: datetime, end: datetime
) -> list[tuple[Schedule, rules.Shift]]:
    """Every shift ``handle`` has on any schedule in [start, end), by start time."""
    found = [
        (row, shift)
        for row in list_schedules(session=session)
        for shift in shifts(schedule=row, start=start, end=end)
        if shift.person == handle
    ]
    return sorted(found, key=lambda pair: pair[1].start)


def people_on_call_soon(
    *, session: Session, now: datetime, within: timedelta = timedelta(hours=24)
) -> dict[str, list[tuple[Schedule, rules.Shift]]]:
    """Handles on call now or within ``within``, with their shifts."""
    people: dict[str, list[tuple[Schedule, rules.Shift]]] = {}
    for row in list_schedules(session=session):
        for shift in shifts(schedule=row, start=now, end=now + within):
            people.setdefault(shift.person, []).append((row, shift))
    return people
