"""Atom and RSS history feeds shaped like a hosted Statuspage's (protocols.md §3 "Feeds")."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from warroom.statuspage.publish import IncidentView, PageInfo, UpdateView, localise
from warroom.statuspage.rules import MaintenanceStatus, PostStatus, clean_text

ATOM_NS = "http://www.w3.org/2005/Atom"

# The words a hosted page prints in <strong>; consumers read the first one
# as the current status, so updates stay newest first.
STATUS_WORDS: dict[PostStatus | MaintenanceStatus, str] = {
    PostStatus.INVESTIGATING: "Investigating",
    PostStatus.IDENTIFIED: "Identified",
    PostStatus.MONITORING: "Monitoring",
    PostStatus.RESOLVED: "Resolved",
    PostStatus.POSTMORTEM: "Postmortem",
    MaintenanceStatus.SCHEDULED: "Scheduled",
    MaintenanceStatus.IN_PROGRESS: "In progress",
    MaintenanceStatus.VERIFYING: "Verifying",
    MaintenanceStatus.COMPLETED: "Completed",
}
UNCHANGED_WORD = "Update"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def feed_title(page: PageInfo) -> str:
    """The feed title a hosted page uses: "<Page name> Status - Incident History"."""
    return f"{clean_text(page.name)} Status - Incident History"


def head_links(page: PageInfo, *, base_url: str) -> list[dict[str, str]]:
    """Attributes of the ``<link rel="alternate">`` tags that advertise both feeds."""
    base = base_url.rstrip("/")
    name = f"{page.name} Status History"
    return [
        {
            "rel": "alternate",
            "type": "application/atom+xml",
            "href": f"{base}/history.atom",
            "title": f"{name} - Atom Feed",
        },
        {
            "rel": "alternate",
            "type": "application/rss+xml",
            "href": f"{base}/history.rss",
            "title": f"{name} - RSS Feed",
        },
    ]


def _when(value: datetime, zone: ZoneInfo) -> str:
    # Built by hand: strftime's month names follow the process locale.
    local = localise(value, zone)
    month = MONTHS[local.month - 1]
    return f"{month} {local.day}, {local.year} - {local:%H:%M} {local.tzname()}"


def _words(updates: Sequence[UpdateView]) -> list[str]:
    # A post that keeps the previous (older) post's status reads "Update".
    words = []
    for index, update in enumerate(updates):
        older = updates[index + 1] if index + 1 < len(updates) else None
        same = older is not None and older.status == update.status
        words.append(UNCHANGED_WORD if same else STATUS_WORDS[update.status])
    return words


def _body_html(body: str) -> str:
    lines = clean_text(body).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br>".join(html.escape(line) for line in lines)


def content_html(incident: IncidentView, zone: ZoneInfo) -> str:
    """Every update, newest first: ``<p><small>when</small><br><strong>Word</strong> - body``."""
    paragraphs = [
        f"<p><small>{html.escape(_when(update.display_at, zone))}</small><br>"
        f"<strong>{word}</strong> - {_body_html(update.body)}</p>"
        for update, word in zip(incident.updates, _words(incident.updates), strict=True)
    ]
    return "".join(paragraphs)


def _entry_id(host: str, incident: IncidentView) -> str:
    # Real pages use an internal number; the API id keeps the tag unique without one.
    key = str(incident.number) if incident.number > 0 else incident.id
    return f"tag:{host},2005:Incident/{key}"


def _latest(incident: IncidentView) -> datetime:
    return max((u.updated_at for u in incident.updates), default=incident.updated_at)


def _newest_first(incidents: Sequence[IncidentView]) -> list[IncidentView]:
    return sorted(incidents, key=lambda i: i.created_at, reverse=True)


def _add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    child = ET.SubElement(parent, tag, {k: clean_text(v) for k, v in attrs.items()})
    if text is not None:
        child.text = clean_text(text)
    return child


def _rfc3339(value: datetime, zone: ZoneInfo) -> str:
    return localise(value, zone).isoformat(timespec="seconds")


def _serialise(root: ET.Element) -> bytes:
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def atom_feed(
    page: PageInfo, incidents: Sequence[IncidentView], *, host: str, base_url: str
) -> bytes:
    """``history.atom``: one entry per incident or maintenance, newest first."""
    zone, base, ordered = page.zone, base_url.rstrip("/"), _newest_first(incidents)
    root = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": "en-US"})
    _add(root, "id", f"tag:{host},2005:/history")
    _add(root, "link", rel="alternate", type="text/html", href=base)
    _add(root, "link", rel="self", type="application/atom+xml", href=f"{base}/history.atom")
    _add(root, "title", feed_title(page))
    updated = max((_latest(i) for i in ordered), default=page.updated_at)
    _add(root, "updated", _rfc3339(updated, zone))
    _add(_add(root, "author"), "name", page.name)
    for incident in ordered:
        entry = _add(root, "entry")
        _add(entry, "id", _entry_id(host, incident))
        _add(entry, "published", _rfc3339(incident.created_at, zone))
        _add(entry, "updated", _rfc3339(_latest(incident), zone))
        href = f"{base}/incidents/{incident.id}"
        _add(entry, "link", rel="alternate", type="text/html", href=href)
        _add(entry, "title", incident.name)
        _add(entry, "content", content_html(incident, zone), type="html")
    return _serialise(root)


def rss_feed(
    page: PageInfo, incidents: Sequence[IncidentView], *, host: str, base_url: str
) -> bytes:
    """``history.rss``: RSS 2.0 with the same entries as the Atom feed."""
    zone, base, ordered = page.zone, base_url.rstrip("/"), _newest_first(incidents)
    root = ET.Element("rss", {"version": "2.0", "xmlns:atom": ATOM_NS})
    channel = _add(root, "channel")
    _add(channel, "title", feed_title(page))
    _add(channel, "link", base)
    _add(channel, "description", feed_title(page))
    self_href = f"{base}/history.rss"
    _add(channel, "atom:link", href=self_href, rel="self", type="application/rss+xml")
    updated = max((_latest(i) for i in ordered), default=page.updated_at)
    _add(channel, "pubDate", format_datetime(localise(updated, zone)))
    for incident in ordered:
        item = _add(channel, "item")
        _add(item, "title", incident.name)
        _add(item, "description", content_html(incident, zone))
        _add(item, "pubDate", format_datetime(localise(incident.created_at, zone)))
        _add(item, "link", f"{base}/incidents/{incident.id}")
        _add(item, "guid", _entry_id(host, incident), isPermaLink="false")
    return _serialise(root)
