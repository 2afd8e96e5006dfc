"""JSON API for escalation policies and pages: list, escalate, reassign."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from pydantic import AfterValidator
from sqlalchemy.orm import Session

from warroom.db.uow import unit_of_work
from warroom.escalation import policies
from warroom.escalation import service as paging
from warroom.escalation.models import EscalationPolicy, Page
from warroom.escalation.schemas import (
    LevelRead,
    PageRead,
    PolicyRead,
    PolicyWrite,
    Reassign,
    ServicePolicy,
    TargetIn,
)
from warroom.incidents import service as incident_service
from warroom.incidents.rules import format_ref
from warroom.users import service as user_service
from warroom.users.models import User
from warroom.users.rules import slug_problem
from warroom.web.deps import Admin, ClockDep, Responder, Sessions, Viewer

router = APIRouter(prefix="/api/v1", tags=["paging"])


def _slug(value: str) -> str:
    """Slugs are stored lower case; any path spelling finds the same object."""
    value = value.strip().lower()
    problem = slug_problem(value)
    if problem:
        raise ValueError(problem)
    return value


SlugPath = Annotated[str, Path(min_length=1, max_length=63), AfterValidator(_slug)]
RefPath = Annotated[str, Path(min_length=1, max_length=32)]


def policy_read(session: Session, row: EscalationPolicy) -> PolicyRead:
    return PolicyRead(
        slug=row.slug,
        name=row.name,
        repeat=row.repeat,
        levels=[
            LevelRead(
                targets=[TargetIn(kind=t["kind"], ref=t["ref"]) for t in level["targets"]],
                timeout_minutes=int(level["timeout_seconds"]) / 60,
            )
            for level in row.levels
        ],
        services=policies.services_using(session=session, policy=row),
        updated_at=row.updated_at,
    )


def page_read(session: Session, page: Page) -> PageRead:
    by = session.get(User, page.acknowledged_by_id) if page.acknowledged_by_id else None
    return PageRead(
        id=page.id,
        incident=format_ref(page.incident_id),
        policy=page.policy_slug,
        status=page.status,
        urgency=page.urgency,
        level=page.level + 1,
        round=page.round,
        started_at=page.started_at,
        next_step_at=page.next_step_at,
        acknowledged_at=page.acknowledged_at,
        acknowledged_by=by.handle if by else None,
        ended_at=page.ended_at,
    )


@router.get("/escalation-policies")
def list_policies(_: Viewer, sessions: Sessions) -> list[PolicyRead]:
    with unit_of_work(sessions, write=False) as session:
        return [policy_read(session, row) for row in policies.list_policies(session=session)]


@router.get("/escalation-policies/{slug}")
def get_policy(slug: SlugPath, _: Viewer, sessions: Sessions) -> PolicyRead:
    with unit_of_work(sessions, write=False) as session:
        return policy_read(session, policies.get_or_404(session=session, slug=slug))


@router.put("/escalation-policies/{slug}")
def put_policy(
    slug: SlugPath,
    body: PolicyWrite,
    response: Response,
    _: Admin,
    sessions: Sessions,
    clock: ClockDep,
) -> PolicyRead:
    """Create or replace a policy; ``services`` (if given) are pointed at it."""
    levels = [
        {
            "targets": [t.model_dump() for t in level.targets],
            "timeout_seconds": round(level.timeout_minutes * 60),
        }
        for level in body.levels
    ]
    with unit_of_work(sessions) as session:
        row, created = policies.save(
            session=session,
            now=clock.now(),
            slug=slug.lower(),
            name=body.name,
            repeat=body.repeat,
            levels=levels,
        )
        for service_slug in body.services or []:
            service = user_service.get_service_or_raise(
                session=session, slug=service_slug, field="services"
            )
            policies.attach(session=session, service=service, policy=row)
        if created:
            response.status_code = status.HTTP_201_CREATED
        return policy_read(session, row)


@router.delete("/escalation-policies/{slug}", status_code=status.HTTP_204_NO_CONTENT)
def delete_policy(slug: SlugPath, _: Admin, sessions: Sessions) -> None:
    with unit_of_work(sessions) as session:
        policies.delete(session=session, policy=policies.get_or_404(session=session, slug=slug))


@router.put("/services/{slug}/escalation-policy")
def set_service_policy(
    slug: SlugPath, body: ServicePolicy, _: Admin, sessions: Sessions
) -> dict[str, str | None]:
    """Choose the policy that pages for a service (null: page nobody)."""
    with unit_of_work(sessions) as session:
        service = user_service.get_service_or_raise(session=session, slug=slug)
        policy = policies.get_or_404(session=session, slug=body.policy) if body.policy else None
        policies.attach(session=session, service=service, policy=policy)
        return {"service": service.slug, "policy": policy.slug if policy else None}


@router.get("/pages")
def list_pages(_: Viewer, sessions: Sessions, active: bool = False) -> list[PageRead]:
    with unit_of_work(sessions, write=False) as session:
        pages = paging.list_pages(session=session, active_only=active)
        return [page_read(session, page) for page in pages]


@router.get("/incidents/{ref}/pages")
def incident_pages(ref: RefPath, _: Viewer, sessions: Sessions) -> list[PageRead]:
    with unit_of_work(sessions, write=False) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref)
        return [page_read(session, p) for p in paging.pages_for(session=session, incident=incident)]


@router.post("/incidents/{ref}/escalate")
def escalate(ref: RefPath, principal: Responder, sessions: Sessions, clock: ClockDep) -> PageRead:
    """Page the next level now instead of waiting for the timeout."""
    with unit_of_work(sessions) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref, for_update=True)
        page = paging.escalate(
            session=session, now=clock.now(), incident=incident, actor=principal.load(session)
        )
        return page_read(session, page)


@router.post("/incidents/{ref}/reassign")
def reassign(
    ref: RefPath, body: Reassign, principal: Responder, sessions: Sessions, clock: ClockDep
) -> PageRead:
    """Page someone else now, on top of the running escalation."""
    with unit_of_work(sessions) as session:
        incident = incident_service.get_by_ref(session=session, ref=ref, for_update=True)
        to = user_service.get_by_handle_or_raise(session=session, handle=body.user)
        page = paging.reassign(
            session=session,
            now=clock.now(),
            incident=incident,
            actor=principal.load(session),
            to=to,
        )
        return page_read(session, page)
