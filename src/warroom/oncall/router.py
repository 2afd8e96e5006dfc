"""JSON API for schedules and who is on call, and the calendar feeds."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import AfterValidator

from warroom.db.uow import unit_of_work
from warroom.errors import Conflict, Forbidden, Invalid, NotFound
from warroom.escalation import policies
from warroom.oncall import rules
from warroom.oncall import service as oncall_service
from warroom.oncall.calendar import render_ics
from warroom.oncall.models import Schedule
from warroom.oncall.schemas import (
    DstChange,
    Gap,
    LayerRead,
    OnCallRead,
    OverrideIn,
    OverrideRead,
    PreviewRead,
    ScheduleRead,
    ScheduleWrite,
    ShiftRead,
)
from warroom.signing import feed_token, feed_token_valid
from warroom.users import service as user_service
from warroom.users.rules import slug_problem
from warroom.web.deps import Admin, ClockDep, Responder, Sessions, Viewer

router = APIRouter(tags=["on-call"])


def _slug(value: str) -> str:
    """Slugs are stored lower case; any path spelling finds the same object."""
    value = value.strip().lower()
    problem = slug_problem(value)
    if problem:
        raise ValueError(problem)
    return value


SlugPath = Annotated[str, Path(min_length=1, max_length=63), AfterValidator(_slug)]
FEED_PAST = timedelta(days=14)
FEED_AHEAD = timedelta(days=180)


def _secret(request: Request) -> bytes:
    return str(request.app.state.settings.secret_key).encode()


def feed_url(request: Request, subject: str, path: str) -> str:
    base = request.app.state.settings.base_url
    return f"{base}{path}?token={feed_token(_secret(request), subject)}"


def schedule_read(row: Schedule, now: datetime, url: str | None = None) -> ScheduleRead:
    shift = oncall_service.on_call(schedule=row, at=now)
    return ScheduleRead(
        slug=row.slug,
        name=row.name,
        time_zone=row.time_zone,
        team=row.team.slug if row.team else None,
        revision=row.revision,
        layers=[
            LayerRead(
                name=layer.name,
                participants=layer.participants,
                shift_count=layer.shift_count,
                shift_unit=layer.shift_unit,
                handoff=layer.handoff,
                start=layer.start_at,
                restrictions=layer.restrictions or [],
            )
            for layer in row.layers
        ],
        overrides=[
            OverrideRead(id=o.id, user=o.user.handle, start=o.start_at, end=o.end_at)
            for o in row.overrides
            if o.end_at > now
        ],
        on_call_now=shift.person if shift else None,
        feed_url=url,
    )


@router.get("/api/v1/schedules")
def list_schedules(_: Viewer, sessions: Sessions, clock: ClockDep) -> list[ScheduleRead]:
    now = clock.now()
    with unit_of_work(sessions, write=False) as session:
        return [schedule_read(row, now) for row in oncall_service.list_schedules(session=session)]


@router.get("/api/v1/schedules/{slug}")
def get_schedule(
    slug: SlugPath, request: Request, _: Viewer, sessions: Sessions, clock: ClockDep
) -> ScheduleRead:
    with unit_of_work(sessions, write=False) as session:
        row = oncall_service.get_or_404(session=session, slug=slug)
        url = feed_url(request, f"schedule:{row.slug}", f"/oncall/{row.slug}.ics")
        return schedule_read(row, clock.now(), url)


@router.put("/api/v1/schedules/{slug}")
def put_schedule(
    slug: SlugPath,
    body: ScheduleWrite,
    response: Response,
    _: Admin,
    sessions: Sessions,
    clock: ClockDep,
) -> ScheduleRead:
    """Create or replace a schedule's layers (its overrides are kept)."""
    now = clock.now()
    with unit_of_work(sessions) as session:
        team_id = (
            user_service.get_team_or_raise(session=session, slug=body.team).id
            if body.team
            else None
        )
        row, created = oncall_service.save(
            session=session,
            now=now,
            slug=slug.lower(),
            name=body.name,
            time_zone=body.time_zone,
            layers=[layer.model_dump() for layer in body.layers],
            team_id=team_id,
        )
        if created:
            response.status_code = status.HTTP_201_CREATED
        return schedule_read(row, now)


@router.delete("/api/v1/schedules/{slug}", status_code=status.HTTP_204_NO_CONTENT)
def delete_schedule(slug: SlugPath, _: Admin, sessions: Sessions) -> None:
    """Delete a schedule no escalation policy pages (409 names the policies that do)."""
    with unit_of_work(sessions) as session:
        users = policies.policies_using_schedule(session=session, slug=slug)
        if users:
            raise Conflict(
                f"escalation policies page this schedule: {', '.join(users)}; change them first"
            )
        oncall_service.delete(
            session=session, schedule=oncall_service.get_or_404(session=session, slug=slug)
        )


@router.post("/api/v1/schedules/{slug}/overrides", status_code=status.HTTP_201_CREATED)
def add_override(
    slug: SlugPath, body: OverrideIn, _: Responder, sessions: Sessions, clock: ClockDep
) -> OverrideRead:
    now = clock.now()
    with unit_of_work(sessions) as session:
        row = oncall_service.get_or_404(session=session, slug=slug)
        user = user_service.get_by_handle_or_raise(session=session, handle=body.user)
        override = oncall_service.add_override(
            session=session, now=now, schedule=row, user=user, start=body.start, end=body.end
        )
        return OverrideRead(
            id=override.id, user=user.handle, start=override.start_at, end=override.end_at
        )


@router.delete("/api/v1/schedules/{slug}/overrides/{override_id}", status_code=204)
def remove_override(
    slug: SlugPath, override_id: int, _: Responder, sessions: Sessions, clock: ClockDep
) -> None:
    with unit_of_work(sessions) as session:
        row = oncall_service.get_or_404(session=session, slug=slug)
        oncall_service.remove_override(
            session=session, now=clock.now(), schedule=row, override_id=override_id
        )


@router.get("/api/v1/oncall")
def who_is_on_call(
    _: Viewer,
    sessions: Sessions,
    clock: ClockDep,
    schedule: Annotated[str | None, Query(max_length=63)] = None,
    at: datetime | None = None,
) -> list[OnCallRead]:
    """Who is on call now (or ``at``), per schedule."""
    when = _aware(at) if at else clock.now()
    with unit_of_work(sessions, write=False) as session:
        rows = (
            [oncall_service.get_or_404(session=session, slug=schedule)]
            if schedule
            else oncall_service.list_schedules(session=session)
        )
        answers = []
        for row in rows:
            shift = oncall_service.on_call(schedule=row, at=when)
            answers.append(
                OnCallRead(
                    schedule=row.slug,
                    name=row.name,
                    at=when,
                    user=shift.person if shift else None,
                    until=shift.end if shift else None,
                )
            )
        return answers


def _aware(value: datetime, field: str = "at") -> datetime:
    if value.tzinfo is None:
        raise Invalid("give the time with its offset, e.g. 2026-03-08T09:00:00-05:00", field=field)
    return value


@router.get("/api/v1/schedules/{slug}/preview")
def preview(
    slug: SlugPath,
    _: Viewer,
    sessions: Sessions,
    clock: ClockDep,
    weeks: Annotated[int, Query(ge=1, le=52)] = 4,
    start: datetime | None = None,
) -> PreviewRead:
    """The final shifts, coverage gaps and DST changes over the next ``weeks``."""
    begin = _aware(start, "start") if start else clock.now()
    end = begin + timedelta(weeks=weeks)
    with unit_of_work(sessions, write=False) as session:
        row = oncall_service.get_or_404(session=session, slug=slug)
        shifts = oncall_service.shifts(schedule=row, start=begin, end=end)
        return PreviewRead(
            schedule=row.slug,
            time_zone=row.time_zone,
            start=begin,
            end=end,
            shifts=[
                ShiftRead(schedule=row.slug, user=s.person, start=s.start, end=s.end, layer=s.layer)
                for s in shifts
            ],
            gaps=[
                Gap(start=a, end=b)
                for a, b in oncall_service.gaps(schedule=row, start=begin, end=end)
            ],
            dst_changes=[
                DstChange(at=at, offset_before=_offset(before), offset_after=_offset(after))
                for at, before, after in rules.dst_changes(row.time_zone, begin, end)
            ],
        )


def _offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@router.get("/api/v1/users/{handle}/shifts")
def user_shifts(
    handle: SlugPath,
    request: Request,
    _: Viewer,
    sessions: Sessions,
    clock: ClockDep,
    days: Annotated[int, Query(ge=1, le=366)] = 28,
) -> list[ShiftRead]:
    now = clock.now()
    with unit_of_work(sessions, write=False) as session:
        user = user_service.get_or_404(session=session, handle=handle)
        found = oncall_service.shifts_of(
            session=session, handle=user.handle, start=now, end=now + timedelta(days=days)
        )
        return [
            ShiftRead(schedule=row.slug, user=s.person, start=s.start, end=s.end, layer=s.layer)
            for row, s in found
        ]


ICS = "text/calendar; charset=utf-8"


@router.get("/oncall/{name}.ics", include_in_schema=True)
def schedule_feed(
    name: SlugPath,
    request: Request,
    sessions: Sessions,
    clock: ClockDep,
    token: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """The schedule's shifts as an iCalendar feed; ``token`` comes from the schedule's feed_url."""
    if not feed_token_valid(_secret(request), f"schedule:{name}", token):
        raise NotFound("no such calendar feed (check the token in the URL)")
    now = clock.now()
    with unit_of_work(sessions, write=False) as session:
        row = oncall_service.get_or_404(session=session, slug=name)
        shifts = oncall_service.shifts(
            schedule=row, start=_day(now - FEED_PAST), end=now + FEED_AHEAD
        )
        body = render_ics(
            f"On call: {row.name}",
            shifts,
            uid_prefix=f"schedule-{row.id}",
            domain=_domain(request),
            sequence=row.revision,
            now=now,
        )
    return Response(body, media_type=ICS)


@router.get("/oncall/users/{handle}.ics")
def user_feed(
    handle: SlugPath,
    request: Request,
    sessions: Sessions,
    clock: ClockDep,
    token: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """One person's shifts on every schedule as an iCalendar feed."""
    if not feed_token_valid(_secret(request), f"user:{handle}", token):
        raise NotFound("no such calendar feed (check the token in the URL)")
    now = clock.now()
    with unit_of_work(sessions, write=False) as session:
        user = user_service.get_or_404(session=session, handle=handle)
        found = oncall_service.shifts_of(
            session=session, handle=user.handle, start=_day(now - FEED_PAST), end=now + FEED_AHEAD
        )
        # One calendar over several schedules: each shift's layer names its schedule too.
        shifts = [
            rules.Shift(s.person, s.start, s.end, f"{row.slug}.{s.layer or 'override'}")
            for row, s in found
        ]
        sequence = sum(row.revision for row in oncall_service.list_schedules(session=session))
        body = render_ics(
            f"On call: @{user.handle}",
            shifts,
            uid_prefix=f"user-{user.id}",
            domain=_domain(request),
            sequence=sequence,
            now=now,
        )
    return Response(body, media_type=ICS)


@router.get("/api/v1/users/{handle}/feed")
def user_feed_url(
    handle: SlugPath, request: Request, principal: Viewer, sessions: Sessions
) -> dict[str, str]:
    """The URL of a person's calendar feed (only for themselves, or for an admin)."""
    with unit_of_work(sessions, write=False) as session:
        user = user_service.get_or_404(session=session, handle=handle)
    if principal.handle != user.handle and principal.role.value != "admin":
        raise Forbidden("only the person themselves or an admin can see a personal feed URL")
    return {"url": feed_url(request, f"user:{user.handle}", f"/oncall/users/{user.handle}.ics")}


def _day(value: datetime) -> datetime:
    # A fixed window start keeps the first event's UID steady for a whole day.
    return value.replace(hour=0, minute=0, second=0, microsecond=0)


def _domain(request: Request) -> str:
    return urlsplit(request.app.state.settings.base_url).hostname or "warroom"
