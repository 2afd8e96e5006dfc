"""Job handlers: what each outbox message kind does. Idempotent by design.

Escalation steps and reminders run in one write transaction. A notification
runs in three steps so that no database lock is held while talking to an
SMTP server or a webhook: prepare (read), deliver (no database), record
(write). If the process dies between delivering and recording, the message is
claimed again later and resent with the same key.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from warroom.escalation import service as paging
from warroom.escalation.models import Page
from warroom.escalation.rules import STOPPED_PAGE
from warroom.incidents import reminders
from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident
from warroom.incidents.rules import OPEN_PHASES, Phase
from warroom.notify import service as notify_service
from warroom.notify.channels.base import Delivery, Message
from warroom.notify.channels.email import EmailChannel
from warroom.notify.channels.webhook import WebhookChannel
from warroom.notify.models import ContactMethod
from warroom.notify.rules import ContactKind, Outcome, is_dead, retry_delay
from warroom.outbox.models import OutboxMessage
from warroom.outbox.rules import Result
from warroom.postmortems import actions
from warroom.postmortems.models import ActionItem
from warroom.postmortems.rules import ActionStatus
from warroom.statuspage import service as status_service
from warroom.statuspage import subscribers
from warroom.users.models import User
from warroom.worker import maintenance_jobs, messages, status_jobs
from warroom.worker.messages import Links

REMINDER = reminders.REMINDER


@dataclass(frozen=True)
class Prepared:
    """A notification ready to go out, read from the database."""

    kind: ContactKind
    target: str
    secret: str | None
    label: str
    handle: str
    contact_id: int | None  # None: a status page subscriber, who has no contact method
    incident_id: int | None
    message: Message
    subscriber_id: int | None = None  # a status page subscriber's mail


class Jobs:
    """Handlers for every message kind, with the channels they deliver through."""

    def __init__(
        self,
        *,
        email: EmailChannel,
        webhook: WebhookChannel,
        links: Links,
        retry_base: timedelta,
        max_attempts: int,
        rand: Callable[[], float] = random.random,
        page_name: str = "warroom",
    ) -> None:
        self.page_name = page_name
        self.email = email
        self.webhook = webhook
        self.links = links
        self.retry_base = retry_base
        self.max_attempts = max_attempts
        self.rand = rand

    def run(self, session: Session, now: datetime, message: OutboxMessage) -> Result:
        """Run a job that only touches the database."""
        payload = message.payload
        if message.kind == paging.ESCALATE:
            fired = paging.fire_step(
                session=session,
                now=now,
                page_id=int(payload["page_id"]),
                generation=int(payload["generation"]),
                round_=int(payload["round"]),
                level=int(payload["level"]),
            )
            return (
                Result.done() if fired else Result.cancelled("the page was stopped or superseded")
            )
        if message.kind == REMINDER:
            return self._remind(session, now, message)
        if message.kind == actions.REMINDER:
            return self._remind_owner(session, now, message)
        if message.kind == status_service.NOTIFY_SUBSCRIBERS:
            return status_jobs.fan_out(session, now, message)
        if message.kind == status_service.REMIND_COMMS:
            return status_jobs.remind_comms(session, now, message)
        if message.kind == maintenance_jobs.TIMER:
            return maintenance_jobs.run(session, now, message)
        return Result.dead(f"no handler for message kind '{message.kind}'")

    def prepare(self, session: Session, now: datetime, message: OutboxMessage) -> Prepared | Result:
        """Read what a notification needs; a Result when it should not be sent."""
        if message.kind == subscribers.SUBSCRIBER_MAIL:
            return self._subscriber_mail(session, message)
        payload = message.payload
        contact = session.get(ContactMethod, int(payload["contact_id"]))
        user = session.get(User, int(payload["user_id"]))
        if contact is None or user is None:
            return Result.cancelled("the contact method or person was removed")
        if contact.disabled_at is not None:
            return Result.cancelled(f"the contact method is disabled: {contact.disabled_reason}")
        rendered = self._render(session, now, message, user, contact)
        if isinstance(rendered, Result):
            return rendered
        return Prepared(
            kind=ContactKind(contact.kind),
            target=contact.target,
            secret=contact.secret,
            label=contact.label or contact.kind,
            handle=user.handle,
            contact_id=contact.id,
            incident_id=message.incident_id,
            message=rendered,
        )

    def _subscriber_mail(self, session: Session, message: OutboxMessage) -> Prepared | Result:
        found = status_jobs.mail(session, message, self.links, self.page_name)
        if isinstance(found, Result):
            return found
        subscriber, mail = found
        return Prepared(
            kind=ContactKind.EMAIL,
            target=subscriber.email,
            secret=None,
            label="subscriber",
            handle=subscriber.email,
            contact_id=None,
            incident_id=None,
            message=mail,
            subscriber_id=subscriber.id,
        )

    def _render(
        self,
        session: Session,
        now: datetime,
        message: OutboxMessage,
        user: User,
        contact: ContactMethod,
    ) -> Message | Result:
        payload = message.payload
        purpose = payload.get("purpose")
        if purpose == "test":
            return messages.test_message(key=message.key, user=user, label=contact.label)
        incident = session.get(Incident, message.incident_id) if message.incident_id else None
        if incident is None:
            return Result.cancelled("the incident is gone")
        if purpose == "page":
            page = session.get(Page, int(payload["page_id"]))
            # An exhausted page still delivers what it already planned (a retry held
            # up by an outage); only an acknowledgement or resolution makes it moot.
            if page is None or page.status in STOPPED_PAGE:
                return Result.cancelled("paging stopped before this notification was due")
            return messages.page_message(
                key=message.key,
                incident=incident,
                user=user,
                page_id=page.id,
                level=int(payload["level"]),
                links=self.links,
                now=now,
            )
        if purpose == "action_reminder":
            item = session.get(ActionItem, int(payload["action_id"]))
            if item is None or item.status != ActionStatus.OPEN.value:
                return Result.cancelled("the action item is closed")
            return messages.action_message(
                key=message.key, item=item, incident=incident, today=now.date()
            )
        due = datetime.fromisoformat(str(payload["due"]))
        if purpose == "status_reminder":
            return messages.status_reminder_message(
                key=message.key,
                incident=incident,
                user=user,
                due=due,
                late=bool(payload.get("late")),
            )
        return messages.reminder_message(
            key=message.key, incident=incident, user=user, due=due, late=bool(payload.get("late"))
        )

    def deliver(self, prepared: Prepared) -> Delivery:
        """Send through the contact's channel. No database here."""
        if prepared.kind is ContactKind.EMAIL:
            return self.email.send(prepared.target, prepared.message)
        return self.webhook.send(prepared.target, prepared.secret, prepared.message)

    def record(
        self,
        session: Session,
        now: datetime,
        message: OutboxMessage,
        prepared: Prepared,
        delivery: Delivery,
    ) -> Result:
        """Write the attempt's result (and the timeline line); the outbox result."""
        attempt = message.attempts + 1
        if prepared.subscriber_id is not None:
            _count_bounce(session, now, prepared.subscriber_id, delivery)
        what = f"{prepared.kind.value.capitalize()} to @{prepared.handle} ({prepared.label})"
        contact = session.get(ContactMethod, prepared.contact_id) if prepared.contact_id else None
        if delivery.outcome is Outcome.DELIVERED:
            if contact is not None:
                contact.last_success_at = now
            self._timeline(
                session, now, prepared, "delivered", f"{what} delivered: {delivery.detail}"
            )
            return Result.done()
        if delivery.outcome is Outcome.RETRY and not is_dead(attempt, self.max_attempts):
            wait = delivery.retry_after or retry_delay(
                attempt, base=self.retry_base, cap=self.retry_base * 120, rand=self.rand
            )
            retry = f"retrying in {_seconds(wait)}"
            text = f"{what} failed (attempt {attempt}): {delivery.detail}; {retry}"
            self._timeline(session, now, prepared, "delivery_failed", text)
            return Result.retry(delivery.detail, wait)
        if delivery.outcome is Outcome.GONE and contact is not None:
            notify_service.disable_contact(
                session=session, now=now, method=contact, why=delivery.detail
            )
        text = f"{what} dead-lettered after {attempt} attempt(s): {delivery.detail}"
        self._timeline(session, now, prepared, "delivery_dead", text)
        return Result.dead(delivery.detail)

    @staticmethod
    def _timeline(
        session: Session, now: datetime, prepared: Prepared, kind: str, text: str
    ) -> None:
        if prepared.incident_id is None:
            return
        incident = session.get(Incident, prepared.incident_id)
        if incident is not None:
            data = {"key": prepared.message.key, "contact_id": prepared.contact_id}
            incident_service.record(
                session=session,
                incident=incident,
                now=now,
                actor=None,
                kind=kind,
                text=text,
                data=data,
            )

    def _remind(self, session: Session, now: datetime, message: OutboxMessage) -> Result:
        payload = message.payload
        incident = session.get(Incident, message.incident_id) if message.incident_id else None
        due = datetime.fromisoformat(str(payload["due"]))
        if incident is None or Phase(incident.phase) not in OPEN_PHASES:
            return Result.cancelled("the incident is no longer open")
        if incident.next_update_due_at is None or incident.next_update_due_at != due:
            return Result.cancelled("an update was posted since")
        late = bool(payload.get("late"))
        if late:
            incident_service.record(
                session=session,
                incident=incident,
                now=now,
                actor=None,
                kind="update_late",
                text=f"Internal update late: it was due at {due:%Y-%m-%d %H:%M} UTC",
                data={"due": due.isoformat()},
            )
        person = incident.comms or incident.commander
        if person is not None:
            notify_service.plan_message(
                session=session,
                now=now,
                user=person,
                purpose="reminder",
                key=message.key,
                payload={"due": due.isoformat(), "late": late},
                incident_id=incident.id,
            )
        return Result.done()

    @staticmethod
    def _remind_owner(session: Session, now: datetime, message: OutboxMessage) -> Result:
        item = session.get(ActionItem, int(message.payload["action_id"]))
        if item is None or item.status != ActionStatus.OPEN.value:
            return Result.cancelled("the action item is closed")
        if item.due_on.isoformat() != message.payload.get("due_on"):
            return Result.cancelled("the due date changed since")
        notify_service.plan_message(
            session=session,
            now=now,
            user=item.owner,
            purpose="action_reminder",
            key=message.key,
            payload={"action_id": item.id},
            incident_id=item.incident_id,
        )
        return Result.done()


def _seconds(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _count_bounce(session: Session, now: datetime, subscriber_id: int, delivery: Delivery) -> None:
    subscribers.count_bounce(
        session=session,
        now=now,
        subscriber_id=subscriber_id,
        delivered=delivery.outcome is Outcome.DELIVERED,
        bounced=delivery.bounced,
    )
