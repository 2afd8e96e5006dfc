"""JSON API over status mail subscribers, for admins: who gets posts, who bounced, removal.

Sign-up, confirmation and unsubscribing are the subscribers' own public pages
(subscribe_pages.py); this is the organisation's view of the list, e.g. to
answer "why did I get no mail" or a request to erase an address.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from warroom.db.uow import unit_of_work
from warroom.statuspage import subscribers
from warroom.statuspage.models import Subscriber
from warroom.statuspage.rules import SubscriberState, subscriber_state
from warroom.statuspage.schemas import SubscriberRead
from warroom.web.deps import Admin, Sessions

router = APIRouter(prefix="/api/v1/statuspage/subscribers", tags=["status page"])
MAX_LIMIT = 1000


@router.get("")
def list_subscribers(
    _: Admin,
    sessions: Sessions,
    state: SubscriberState | None = None,
    after: Annotated[int, Query(ge=0, description="list subscribers with a larger id")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> list[SubscriberRead]:
    """Subscribers by id; page on with ``after`` set to the last id shown."""
    with unit_of_work(sessions, write=False) as session:
        rows = subscribers.list_subscribers(session=session, state=state, after=after, limit=limit)
        public_ids = subscribers.component_public_ids(session=session)
        return [_read(row, public_ids) for row in rows]


@router.delete("/{subscriber_id}")
def remove_subscriber(
    subscriber_id: Annotated[int, Path(ge=1)], _: Admin, sessions: Sessions
) -> SubscriberRead:
    """Remove an address from the list; shows what it was.

    Mail already queued for it is cancelled when its turn comes (the worker finds
    no subscriber: ids are never given out again).
    """
    with unit_of_work(sessions) as session:
        found = subscribers.get_or_404(session=session, subscriber_id=subscriber_id)
        shown = _read(found, subscribers.component_public_ids(session=session))
        subscribers.unsubscribe(session=session, subscriber=found)
        return shown


def _read(row: Subscriber, public_ids: dict[int, str]) -> SubscriberRead:
    chosen = None
    if row.component_ids is not None:
        # A component deleted since is simply no longer listed.
        chosen = [public_ids[i] for i in row.component_ids if i in public_ids]
    return SubscriberRead(
        id=row.id,
        email=row.email,
        state=subscriber_state(
            confirmed=row.confirmed_at is not None, suppressed=row.suppressed_at is not None
        ),
        components=chosen,
        bounces=row.bounces or 0,
        created_at=row.created_at,
        confirmed_at=row.confirmed_at,
        suppressed_at=row.suppressed_at,
    )
