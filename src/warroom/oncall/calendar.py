"""On-call shifts as an iCalendar (RFC 5545) feed that calendar apps can subscribe to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from icalendar import Calendar, Event

from warroom.oncall.rotation import Shift
from warroom.oncall.zones import as_utc

PRODID = "-//warroom//oncall//EN"


def shift_uid(shift: Shift, *, uid_prefix: str, domain: str) -> str:
    """The UID of the calendar slot ``shift`` fills.

    It names the layer and start but not the person, so a slot handed to
    someone else updates the existing event instead of adding a second one.
    """
    start = as_utc(shift.start, "start").strftime("%Y%m%dT%H%M%SZ")
    return f"{uid_prefix}-{shift.layer or 'override'}-{start}@{domain}"


def render_ics(
    calendar_name: str,
    shifts: Sequence[Shift],
    *,
    uid_prefix: str,
    domain: str,
    sequence: int,
    now: datetime,
) -> bytes:
    """Render ``shifts`` as a VCALENDAR with one VEVENT each.

    The caller bumps ``sequence`` whenever the schedule changes, so clients
    replace the events they already have; ``person`` may be a display name.
    """
    stamp = as_utc(now, "now")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", calendar_name)
    seen: set[str] = set()
    for shift in shifts:
        uid = shift_uid(shift, uid_prefix=uid_prefix, domain=domain)
        if uid in seen:
            # Clients keep one event per UID and would silently drop the other.
            raise ValueError(f"two shifts share the calendar slot {uid}")
        seen.add(uid)
        calendar.add_component(_event(shift, uid, sequence, stamp))
    return bytes(calendar.to_ical())


def _event(shift: Shift, uid: str, sequence: int, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("summary", f"On call: {shift.person}")
    event.add("dtstart", shift.start.astimezone(UTC))
    event.add("dtend", shift.end.astimezone(UTC))
    event.add("dtstamp", stamp)
    event.add("sequence", sequence)
    return event
