"""Action items: owner and due date required, reminders through the outbox. Flushes only."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from warroom.errors import Conflict, Invalid, NotFound
from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident
from warroom.outbox import service as outbox
from warroom.postmortems import rules
from warroom.postmortems.markdown import ActionLine
from warroom.postmortems.models import ActionItem
from warroom.postmortems.rules import ActionStatus, Category, Priority
from warroom.users import service as user_service
from warroom.users.models import User

REMINDER = "action_reminder"
REMIND_AT = time(9, 0)


def as_line(item: ActionItem) -> ActionLine:
    return ActionLine(
        category=Category(item.category),
        title=item.title,
        priority=Priority(item.priority),
        owner=item.owner.handle,
        due_on=item.due_on,
        done=item.status == ActionStatus.DONE.value,
    )


def describe(item: ActionItem) -> str:
    return (
        f"{item.category.capitalize()}: {item.title} "
        f"({item.priority}, @{item.owner.handle}, by {item.due_on:%Y-%m-%d})"
    )


def for_incident(*, session: Session, incident: Incident) -> list[ActionItem]:
    query = select(ActionItem).where(ActionItem.incident_id == incident.id)
    return list(session.scalars(query.order_by(ActionItem.id)))


def get_or_404(*, session: Session, item_id: int) -> ActionItem:
    item = session.get(ActionItem, item_id)
    if item is None:
        raise NotFound(f"no action item {item_id}")
    return item


def add(
    *,
    session: Session,
    now: datetime,
    incident: Incident,
    actor: User | None,
    title: str,
    category: str,
    priority: str,
    owner: str,
    due_on: date,
    tracker_url: str = "",
) -> ActionItem:
    """Add an action item; every one has an owner and a due date."""
    if not title.strip():
        raise Invalid("an action item needs a title", field="title")
    person = user_service.get_by_handle_or_raise(session=session, handle=owner, field="owner")
    if due_on < incident.declared_at.date():
        raise Invalid("the due date is before the incident began", field="due")
    item = ActionItem(
        incident_id=incident.id,
        # One line: the title is a line of the postmortem's Markdown.
        title=" ".join(title.split())[: rules.MAX_TITLE],
        category=rules.parse_category(category).value,
        priority=rules.parse_priority(priority).value,
        owner=person,
        due_on=due_on,
        status=ActionStatus.OPEN.value,
        reason="",
        tracker_url=tracker_url,
        created_at=now,
    )
    session.add(item)
    session.flush()
    _schedule_reminders(session, now, item)
    incident_service.record(
        session=session,
        incident=incident,
        now=now,
        actor=actor,
        kind="action_added",
        text=f"Action item: {describe(item)}",
        data={"action_id": item.id},
    )
    return item


def _schedule_reminders(session: Session, now: datetime, item: ActionItem) -> None:
    """A reminder the working day before the due date and one the day after, if still open."""
    before = datetime.combine(item.due_on - timedelta(days=1), REMIND_AT, UTC)
    after = datetime.combine(item.due_on + timedelta(days=1), REMIND_AT, UTC)
    for name, at in (("before", before), ("after", after)):
        outbox.enqueue(
            session=session,
            now=now,
            kind=REMINDER,
            key=f"action-{item.id}-{item.due_on:%Y%m%d}-{name}",
            due_at=max(at, now),
            payload={"action_id": item.id, "when": name, "due_on": item.due_on.isoformat()},
            incident_id=item.incident_id,
        )


def close(
    *,
    session: Session,
    now: datetime,
    item: ActionItem,
    actor: User,
    status: ActionStatus,
    reason: str = "",
) -> ActionItem:
    """Mark done, or won't do (with the reason why)."""
    if item.status != ActionStatus.OPEN.value:
        raise Conflict(f"action item {item.id} is already {item.status}", field="status")
    if status is ActionStatus.WONT_DO and not reason.strip():
        raise Invalid("say why it won't be done", field="reason")
    item.status, item.reason, item.closed_at = status.value, reason.strip(), now
    incident = session.get(Incident, item.incident_id)
    assert incident is not None
    word = "done" if status is ActionStatus.DONE else f"won't do ({item.reason})"
    incident_service.record(
        session=session,
        incident=incident,
        now=now,
        actor=actor,
        kind="action_closed",
        text=f"Action item {word}: {describe(item)}",
        data={"action_id": item.id},
    )
    session.flush()
    return item


def change_due(*, session: Session, now: datetime, item: ActionItem, due_on: date) -> ActionItem:
    item.due_on = due_on
    session.flush()
    _schedule_reminders(session, now, item)
    return item


def list_items(
    *,
    session: Session,
    today: date,
    overdue: bool = False,
    owner: str | None = None,
    status: ActionStatus | None = None,
    limit: int = 500,
) -> list[ActionItem]:
    query = select(ActionItem).order_by(ActionItem.due_on, ActionItem.id).limit(limit)
    if overdue:
        query = query.where(ActionItem.status == ActionStatus.OPEN.value, ActionItem.due_on < today)
    elif status is not None:
        query = query.where(ActionItem.status == status.value)
    if owner:
        person = user_service.get_by_handle_or_raise(session=session, handle=owner, field="owner")
        query = query.where(ActionItem.owner_id == person.id)
    return list(session.scalars(query))


def sync(
    *, session: Session, now: datetime, incident: Incident, actor: User, lines: list[ActionLine]
) -> None:
    """Apply an edited Action Items section: new lines are added, [x] marks done."""
    existing = {(i.category, i.title): i for i in for_incident(session=session, incident=incident)}
    for line in lines:
        item = existing.get((line.category.value, line.title))
        if item is None:
            try:
                item = add(
                    session=session,
                    now=now,
                    incident=incident,
                    actor=actor,
                    title=line.title,
                    category=line.category.value,
                    priority=line.priority.value,
                    owner=line.owner,
                    due_on=line.due_on,
                )
            except Invalid as error:
                raise _on_line(line, error) from None
        if line.done and item.status == ActionStatus.OPEN.value:
            close(session=session, now=now, item=item, actor=actor, status=ActionStatus.DONE)


def _on_line(line: ActionLine, error: Invalid) -> Invalid:
    """``error`` worded as markdown.parse() words its own: section and line first."""
    if not line.number:
        return error
    return Invalid(f"Action Items, line {line.number}: {error.message}", field="Action Items")
