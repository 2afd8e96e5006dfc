"""The postmortem as Markdown (process.md §5), and reading an edited one back.

Layout:
    # Incident Postmortem: <title> (<YYYY-MM-DD>)
    ## Summary / ## Timeline / ## Root Cause / ## Impact / ## Action Items
and, when written, ## Contributing Factors and ## Lessons. Timeline lines are
`HH:MM - text` in the organisation's time zone; a `### YYYY-MM-DD` line starts
each further day of an incident that crosses midnight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from warroom.errors import Invalid
from warroom.postmortems.rules import Category, Priority, duration_text

IMPACT_FIELDS = {
    "failed_requests": "Failed requests",
    "failed_transactions": "Failed transactions",
    "revenue_estimate": "Revenue estimate",
    "minutes_degraded": "Minutes degraded",
    "notes": "Notes",
}
SECTIONS = ("Summary", "Timeline", "Root Cause", "Impact", "Action Items")
OPTIONAL = ("Contributing Factors", "Lessons")
TIMELINE_LINE = re.compile(r"^(\d{1,2}):(\d{2})\s+-\s+(.+)$")
DAY_LINE = re.compile(r"^###\s+(\d{4}-\d{2}-\d{2})\s*$")
ACTION_LINE = re.compile(
    r"^- \[( |x|X)\] (\w+): (.+) \((P\d), @([\w.-]+), by (\d{1,2})/(\d{1,2})\)$"
)


@dataclass(frozen=True)
class ActionLine:
    category: Category
    title: str
    priority: Priority
    owner: str
    due_on: date
    done: bool
    # Where parse() read it, so that errors found later (an unknown owner)
    # name the line too; 0 for a line made from a stored item.
    number: int = field(default=0, compare=False)


@dataclass
class Document:
    title: str
    day: date
    summary: str = ""
    timeline: list[tuple[datetime, str]] = field(default_factory=list)
    root_cause: str = ""
    impact: dict[str, Any] = field(default_factory=dict)
    duration_seconds: float | None = None
    actions: list[ActionLine] = field(default_factory=list)
    contributing_factors: str = ""
    lessons: str = ""


def render(doc: Document, zone: ZoneInfo) -> str:
    out = [f"# Incident Postmortem: {doc.title} ({doc.day:%Y-%m-%d})", "", "## Summary", ""]
    out += [doc.summary.strip() or "_To be written._", "", "## Timeline", ""]
    out += _timeline_lines(doc.timeline, zone, doc.day) or ["_No entries._"]
    out += ["", "## Root Cause", "", doc.root_cause.strip() or "_To be written._", ""]
    out += ["## Impact", "", *_impact_lines(doc), "", "## Action Items", ""]
    out += [_action_line(a) for a in doc.actions] or ["_None yet._"]
    for heading, text in (
        ("Contributing Factors", doc.contributing_factors),
        ("Lessons", doc.lessons),
    ):
        if text.strip():
            out += ["", f"## {heading}", "", text.strip()]
    return "\n".join(out) + "\n"


def _timeline_lines(timeline: list[tuple[datetime, str]], zone: ZoneInfo, day: date) -> list[str]:
    """`HH:MM - text` lines; a `### YYYY-MM-DD` line before any entry not on ``day`` or the last."""
    lines: list[str] = []
    current = day
    for at, text in sorted(timeline, key=lambda item: item[0]):
        local = at.astimezone(zone)
        if local.date() != current:
            current = local.date()
            lines.append(f"### {current:%Y-%m-%d}")
        lines.append(f"{local:%H:%M} - {' '.join(text.split())}")
    return lines


def _impact_lines(doc: Document) -> list[str]:
    lines = []
    if doc.duration_seconds is not None:
        lines.append(f"- Duration: {duration_text(doc.duration_seconds)}")
    for key, label in IMPACT_FIELDS.items():
        value = doc.impact.get(key)
        if value not in (None, ""):
            lines.append(f"- {label}: {value}")
    return lines or ["- _Not measured yet._"]


def _action_line(action: ActionLine) -> str:
    box = "x" if action.done else " "
    due = f"{action.due_on.month:02d}/{action.due_on.day:02d}"
    return (
        f"- [{box}] {action.category.value.capitalize()}: {action.title} "
        f"({action.priority.value}, @{action.owner}, by {due})"
    )


def _sections(text: str) -> dict[str, list[tuple[int, str]]]:
    sections: dict[str, list[tuple[int, str]]] = {}
    current: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("## "):
            current = line[3:].strip()
            if current not in SECTIONS + OPTIONAL:
                raise Invalid(f"line {number}: unknown section '## {current}'", field=current)
            sections[current] = []
        elif current is not None:
            sections[current].append((number, line))
    missing = [s for s in SECTIONS if s not in sections]
    if missing:
        raise Invalid(
            f"missing section(s): {', '.join('## ' + s for s in missing)}", field=missing[0]
        )
    return sections


PLACEHOLDERS = frozenset(
    {"_To be written._", "_No entries._", "_None yet._", "_Not measured yet._"}
)


def _prose(lines: list[tuple[int, str]]) -> str:
    text = "\n".join(line for _, line in lines).strip()
    return "" if text in PLACEHOLDERS else text


def parse(text: str, *, zone: ZoneInfo, day: date) -> Document:
    """Read an edited postmortem; errors name the section and line."""
    sections = _sections(text)
    doc = Document(title="", day=day)
    doc.summary = _prose(sections["Summary"])
    doc.root_cause = _prose(sections["Root Cause"])
    doc.contributing_factors = _prose(sections.get("Contributing Factors", []))
    doc.lessons = _prose(sections.get("Lessons", []))
    doc.timeline = _parse_timeline(sections["Timeline"], zone, day)
    doc.impact = _parse_impact(sections["Impact"])
    doc.actions = _parse_actions(sections["Action Items"], day)
    return doc


def _parse_timeline(
    lines: list[tuple[int, str]], zone: ZoneInfo, day: date
) -> list[tuple[datetime, str]]:
    entries: list[tuple[datetime, str]] = []
    current = day
    for number, line in lines:
        stripped = line.strip()
        if not stripped or (stripped.startswith("_") and stripped.endswith("_")):
            continue
        day_match = DAY_LINE.match(stripped)
        if day_match:
            current = date.fromisoformat(day_match.group(1))
            continue
        match = TIMELINE_LINE.match(stripped)
        if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise Invalid(
                f"Timeline, line {number}: expected 'HH:MM - text', got {stripped!r}",
                field="Timeline",
            )
        local = datetime.combine(current, time(int(match.group(1)), int(match.group(2))), zone)
        entries.append((local.astimezone(ZoneInfo("UTC")), match.group(3).strip()))
    return entries


def _parse_impact(lines: list[tuple[int, str]]) -> dict[str, Any]:
    labels = {label.lower(): key for key, label in IMPACT_FIELDS.items()}
    impact: dict[str, Any] = {}
    for number, line in lines:
        stripped = line.strip()
        if not stripped.startswith("- ") or stripped.startswith("- _"):
            continue
        label, _, value = stripped[2:].partition(":")
        key = labels.get(label.strip().lower())
        if label.strip().lower() == "duration":
            continue  # computed from the incident
        if key is None:
            names = ", ".join(IMPACT_FIELDS.values())
            raise Invalid(
                f"Impact, line {number}: unknown figure {label.strip()!r} (use {names})",
                field="Impact",
            )
        impact[key] = _number(value.strip(), number) if key != "notes" else value.strip()
    return impact


def _number(value: str, line: int) -> float | int:
    cleaned = value.replace(",", "").replace("_", "").lstrip("$€£")
    try:
        number = float(cleaned)
    except ValueError:
        raise Invalid(f"Impact, line {line}: {value!r} is not a number", field="Impact") from None
    if number < 0:
        raise Invalid(f"Impact, line {line}: figures cannot be negative", field="Impact")
    return int(number) if number.is_integer() else number


def _parse_actions(lines: list[tuple[int, str]], day: date) -> list[ActionLine]:
    actions = []
    for number, line in lines:
        stripped = line.strip()
        if not stripped or (stripped.startswith("_") and stripped.endswith("_")):
            continue
        match = ACTION_LINE.match(stripped)
        if match is None:
            raise Invalid(
                f"Action Items, line {number}: expected '- [ ] Fix: text (P0, @owner, by MM/DD)'",
                field="Action Items",
            )
        box, category, title, priority, owner, month, dom = match.groups()
        try:
            due = _due(int(month), int(dom), day)
            parsed = ActionLine(
                Category(category.lower()),
                title.strip(),
                Priority(priority),
                owner,
                due,
                box != " ",
                number,
            )
        except ValueError as error:
            raise Invalid(f"Action Items, line {number}: {error}", field="Action Items") from None
        actions.append(parsed)
    return actions


def _due(month: int, dom: int, day: date) -> date:
    """MM/DD on or after the incident's day (an item due in January follows a December one)."""
    for year in range(day.year, day.year + 5):  # 02/29 waits for a leap year
        try:
            candidate = date(year, month, dom)
        except ValueError:
            if year == day.year + 4:
                raise
            continue
        if candidate >= day:
            return candidate
    raise ValueError(f"no date {month:02d}/{dom:02d} after {day}")
