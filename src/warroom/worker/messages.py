"""The words of pages, tests and reminders, with the one-click ack link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from warroom.incidents.models import Incident
from warroom.incidents.rules import format_ref
from warroom.notify.channels.base import Message
from warroom.notify.rules import sign_ack_token
from warroom.postmortems.actions import describe
from warroom.postmortems.models import ActionItem
from warroom.users.models import User


@dataclass(frozen=True)
class Links:
    """What a message needs to point back at warroom."""

    base_url: str
    secret: bytes
    ack_valid_for: timedelta


def page_message(
    *,
    key: str,
    incident: Incident,
    user: User,
    page_id: int,
    level: int,
    links: Links,
    now: datetime,
) -> Message:
    ref = format_ref(incident.id)
    token = sign_ack_token(links.secret, page_id, user.handle, now + links.ack_valid_for)
    ack_url = f"{links.base_url}/ack/{token}"
    services = ", ".join(s.slug for s in incident.services) or "no service"
    subject = f"[{incident.severity.name}] {ref}: {incident.title}"
    text = "\n".join(
        [
            f"{incident.severity.name} {ref}: {incident.title}",
            f"Service: {services}",
            f"Phase: {incident.phase}",
            f"Paged: @{user.handle} (level {level + 1})",
            "",
            f"Acknowledge: {ack_url}",
            f"Incident: {links.base_url}/api/v1/incidents/{ref}",
            "",
            f"Or from a terminal: warroom ack {ref}",
        ]
    )
    data = {
        "type": "page",
        "incident": ref,
        "severity": incident.severity.name,
        "title": incident.title,
        "page_id": page_id,
        "level": level + 1,
        "user": user.handle,
        "ack_url": ack_url,
    }
    return Message(key=key, subject=subject, text=text, data=data)


def test_message(*, key: str, user: User, label: str) -> Message:
    text = (
        f"This is a test notification from warroom for @{user.handle} through '{label}'.\n"
        "If you can read it, pages will reach you here."
    )
    return Message(
        key=key,
        subject="warroom test notification",
        text=text,
        data={"type": "test", "user": user.handle},
    )


def reminder_message(
    *, key: str, incident: Incident, user: User, due: datetime, late: bool
) -> Message:
    ref = format_ref(incident.id)
    when = "is overdue" if late else f"is due at {due:%H:%M} UTC"
    subject = f"[{incident.severity.name}] {ref}: internal update {when}"
    text = (
        f"@{user.handle}, the next internal update of {ref} ({incident.title}) {when}.\n"
        f"Post it with: warroom update {ref} --impact ... --theory ... --next ..."
    )
    return Message(
        key=key, subject=subject, text=text, data={"type": "update_reminder", "incident": ref}
    )


def action_message(*, key: str, item: ActionItem, incident: Incident, today: date) -> Message:
    ref = format_ref(incident.id)
    late = item.due_on < today
    when = f"was due {item.due_on:%Y-%m-%d}" if late else f"is due {item.due_on:%Y-%m-%d}"
    subject = f"{ref} action item {when}: {item.title}"
    text = (
        f"@{item.owner.handle}, an action item from {ref} ({incident.title}) {when}:\n"
        f"  {describe(item)}\n"
        f"Close it with: warroom action done {item.id}"
    )
    return Message(
        key=key, subject=subject, text=text, data={"type": "action_reminder", "action": item.id}
    )


def status_reminder_message(
    *, key: str, incident: Incident, user: User, due: datetime, late: bool
) -> Message:
    ref = format_ref(incident.id)
    when = "is overdue" if late else f"is due at {due:%H:%M} UTC"
    subject = f"[{incident.severity.name}] {ref}: status page update {when}"
    text = (
        f"@{user.handle}, customers were promised the next status page update of {ref} "
        f"({incident.title}); it {when}.\n"
        f"Post it with: warroom statuspage post {ref} --status ... --message ..."
    )
    return Message(
        key=key, subject=subject, text=text, data={"type": "status_reminder", "incident": ref}
    )
