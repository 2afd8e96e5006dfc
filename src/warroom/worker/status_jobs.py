"""Status page jobs: fan a post out to subscribers, their mail, and the Comms Lead's reminders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from warroom.incidents import service as incident_service
from warroom.incidents.models import Incident
from warroom.notify import service as notify_service
from warroom.notify.channels.base import Message
from warroom.outbox.models import OutboxMessage
from warroom.outbox.rules import Result
from warroom.signing import feed_token
from warroom.statuspage import subscribers
from warroom.statuspage.models import StatusIncident, StatusPost, Subscriber
from warroom.worker.messages import Links


def confirm_url(links: Links, subscriber: Subscriber, choice: str | None = None) -> str:
    """The confirmation link; a new component choice travels in it, signed."""
    token = feed_token(links.secret, subscribers.confirm_subject(subscriber.id, choice))
    if choice is not None:
        token = f"{choice}.{token}"
    return f"{links.base_url}/status/subscribe/{subscriber.id}/{token}"


def unsubscribe_url(links: Links, subscriber: Subscriber) -> str:
    token = feed_token(links.secret, f"unsubscribe:{subscriber.id}")
    return f"{links.base_url}/status/unsubscribe/{subscriber.id}/{token}"


def fan_out(session: Session, now: datetime, message: OutboxMessage) -> Result:
    subscribers.fan_out(session=session, now=now, post_id=int(message.payload["post_id"]))
    return Result.done()


def mail(
    session: Session, message: OutboxMessage, links: Links, page_name: str
) -> tuple[Subscriber, Message] | Result:
    """The mail one subscriber gets: a confirmation, or a post with its unsubscribe link."""
    subscriber = session.get(Subscriber, int(message.payload["subscriber_id"]))
    if subscriber is None:
        return Result.cancelled("the subscriber left")
    leave = unsubscribe_url(links, subscriber)
    if message.payload.get("purpose") == "confirm":
        text = (
            f"Someone (hopefully you) asked to get {page_name} status updates at this address.\n"
            f"Confirm: {confirm_url(links, subscriber, message.payload.get('choice'))}\n\n"
            "If it was not you, ignore this mail."
        )
        return subscriber, Message(
            message.key, f"Confirm your {page_name} status subscription", text
        )
    if subscriber.suppressed_at is not None:
        return Result.cancelled(f"the address bounced {subscriber.bounces} times in a row")
    if subscriber.confirmed_at is None:  # posts go to confirmed addresses only (double opt-in)
        return Result.cancelled("the address is not confirmed")
    made = session.get(StatusPost, int(message.payload["post_id"]))
    shown = session.get(StatusIncident, made.status_incident_id) if made else None
    if made is None or shown is None:
        return Result.cancelled("the post is gone")
    status = made.status.replace("_", " ").capitalize()
    changes = "\n".join(
        f"- {a['name']}: {a['new_status'].replace('_', ' ')}" for a in made.affected
    )
    text = "\n".join(
        part
        for part in (
            f"{status}: {shown.title}",
            "",
            made.message,
            "",
            changes,
            f"Details: {links.base_url}/status/incidents/{shown.public_id}",
            f"Unsubscribe: {leave}",
        )
        if part is not None
    )
    return subscriber, Message(
        message.key, f"[{page_name}] {shown.title}: {status}", text, {"unsubscribe": leave}
    )


def remind_comms(session: Session, now: datetime, message: OutboxMessage) -> Result:
    """Remind the Comms Lead (else the IC) of the promised public update; note it if late."""
    shown = session.get(StatusIncident, int(message.payload["status_incident_id"]))
    if shown is None or shown.status == "resolved":
        return Result.cancelled("the public incident is resolved")
    latest = shown.posts[0] if shown.posts else None
    if latest is None or latest.id != int(message.payload["post_id"]):
        return Result.cancelled("a newer update was posted")
    incident = session.get(Incident, shown.incident_id) if shown.incident_id else None
    if incident is None:
        return Result.done()
    late = bool(message.payload.get("late"))
    if late:
        incident_service.record(
            session=session,
            incident=incident,
            now=now,
            actor=None,
            kind="status_update_late",
            text="Status page update late: customers were promised one by now",
            data={"status_incident": shown.public_id},
        )
    person = incident.comms or incident.commander
    if person is not None:
        notify_service.plan_message(
            session=session,
            now=now,
            user=person,
            purpose="status_reminder",
            key=message.key,
            payload={"due": (latest.next_update_at or now).isoformat(), "late": late},
            incident_id=incident.id,
        )
    return Result.done()
