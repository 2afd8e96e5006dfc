"""Reading YAML for `warroom apply`: values with the line each came from, and typed readers.

YAML 1.1 quirks are undone where they bite: `17:00` is a clock, not 1020
minutes, and `country: NO` is Norway, not false. A reader records a problem
with its line and raises Skip, so one pass reports every problem of a file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import yaml

Where = tuple[str | int, ...]
Reader = Callable[["Checker", Where], Any]
MAX_NODES = 100_000  # values built, aliases expanded: enough for any organisation
MAX_DEPTH = 32
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Problem:
    """Something wrong in the file, at a line."""

    line: int
    message: str


class Skip(Exception):
    """A value was unusable; its problem is already recorded."""


def label(where: Where) -> str:
    """A path as people write it: users[0].contact_methods[1]."""
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


class Checker:
    """The file's values, the line of each, and the problems found so far."""

    def __init__(self) -> None:
        self.data: Any = None
        self.lines: dict[Where, int] = {(): 1}
        self.raw: dict[Where, str] = {}
        self.problems: list[Problem] = []
        self.built = 0

    def line(self, where: Where) -> int:
        while where not in self.lines:
            where = where[:-1]
        return self.lines[where]

    def fail(self, where: Where, message: str) -> Skip:
        """Record a problem at ``where``; returns Skip for the caller to raise."""
        name = label(where)
        self.problems.append(Problem(self.line(where), f"{name}: {message}" if name else message))
        return Skip()

    def get(self, where: Where) -> Any:
        value = self.data
        for part in where:
            value = value[part]
        return value

    def has(self, where: Where, key: str) -> bool:
        value = self.get(where)
        return isinstance(value, dict) and key in value

    def text_of(self, where: Where) -> str | None:
        """A scalar as text: plain scalars YAML turned into numbers or booleans as written."""
        value = self.get(where)
        if isinstance(value, str):
            return value
        if value is None or isinstance(value, dict | list):
            return None
        return self.raw.get(where)

    def keys(self, where: Where, known: Collection[str], required: Iterable[str] = ()) -> None:
        """Check ``where`` is a mapping with only ``known`` keys and every ``required`` one."""
        value = self.get(where)
        if not isinstance(value, dict):
            raise self.fail(where, "must be a mapping of key: value")
        for key in value:
            if key not in known:
                hint = ", ".join(sorted(known))
                self.fail((*where, key), f"unknown key '{key}' (known keys: {hint})")
        missing = [key for key in required if key not in value]
        if missing:
            raise self.fail(where, f"missing {', '.join(repr(k) for k in missing)}")

    def read(self, where: Where, reader: Reader) -> Any:
        return reader(self, where)

    def fields(self, where: Where, spec: dict[str, Reader]) -> dict[str, Any]:
        """The keys of ``spec`` present at ``where``, each read; unusable ones left out."""
        found: dict[str, Any] = {}
        for key, reader in spec.items():
            if self.has(where, key):
                try:
                    found[key] = reader(self, (*where, key))
                except Skip:
                    continue
        return found

    def each(self, where: Where, reader: Reader, *, at_most: int = 500) -> list[Any]:
        """Every item of the list at ``where`` read; unusable items left out."""
        value = self.get(where)
        if not isinstance(value, list):
            raise self.fail(where, "must be a list")
        if len(value) > at_most:
            raise self.fail(where, f"at most {at_most} items")
        items = []
        for index in range(len(value)):
            try:
                items.append(reader(self, (*where, index)))
            except Skip:
                continue
        return items

    def plain(self, where: Where) -> Any:
        """The value at ``where`` as JSON: dates and other YAML-only scalars as written."""
        value = self.get(where)
        if isinstance(value, dict):
            return {k: self.plain((*where, k)) for k in value}
        if isinstance(value, list):
            return [self.plain((*where, i)) for i in range(len(value))]
        if isinstance(value, date | datetime):
            return self.raw.get(where, str(value))
        return value


def load(text: str) -> Checker:
    """Parse YAML keeping each value's line; syntax problems land in ``problems``."""
    checker = Checker()
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        checker.data = {} if node is None else _build(loader, node, (), checker, 0)
    except Skip:
        checker.data = None  # too large or deep: the problem is recorded
    except yaml.MarkedYAMLError as error:
        checker.problems.append(_syntax_problem(error))
    except yaml.YAMLError as error:  # a ReaderError: bytes that are not text
        position = getattr(error, "position", 0)
        line = text[:position].count("\n") + 1
        checker.problems.append(Problem(line, f"not valid YAML: {error}"))
    finally:
        loader.dispose()
    return checker


def _own_keys(node: yaml.MappingNode, c: Checker) -> None:
    """Problems with the keys written in this mapping: not plain text, or given twice."""
    seen: set[str] = set()
    for key_node, _ in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            c.problems.append(Problem(line, "keys must be plain text"))
        elif key_node.tag != "tag:yaml.org,2002:merge":
            if key_node.value in seen:
                c.problems.append(Problem(line, f"duplicate key '{key_node.value}'"))
            seen.add(key_node.value)


def _syntax_problem(error: yaml.MarkedYAMLError) -> Problem:
    mark, start = error.problem_mark, error.context_mark
    what = str(error.problem or error.context or "unreadable")
    if error.context and error.problem:
        began = f" at line {start.line + 1}" if start and mark and start.line != mark.line else ""
        what = f"{what} ({error.context}{began})"
    at = mark or start
    return Problem(at.line + 1 if at else 1, f"not valid YAML: {what}")


def _build(loader: yaml.SafeLoader, node: yaml.Node, where: Where, c: Checker, depth: int) -> Any:
    c.lines.setdefault(where, node.start_mark.line + 1)
    c.built += 1
    if depth > MAX_DEPTH or c.built > MAX_NODES:
        raise c.fail(where, "nested too deeply or too large (a recursive alias?)")
    if isinstance(node, yaml.MappingNode):
        _own_keys(node, c)
        loader.flatten_mapping(node)  # `<<: *defaults` first, then the node's own keys win
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                inner = (*where, str(key_node.value))
                c.lines[inner] = key_node.start_mark.line + 1
                mapping[str(key_node.value)] = _build(loader, value_node, inner, c, depth + 1)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(loader, item, (*where, index), c, depth + 1)
            for index, item in enumerate(node.value)
        ]
    c.raw[where] = str(node.value)
    return loader.construct_object(node)


def text(
    limit: int = 200, *, empty: bool = False, check: Callable[[str], str | None] | None = None
) -> Reader:
    """A string of at most ``limit`` characters, optionally checked."""

    def read(c: Checker, where: Where) -> str:
        value = c.text_of(where)
        if value is None:
            raise c.fail(where, "must be text")
        value = value.strip()
        if not value and not empty:
            raise c.fail(where, "must not be empty")
        if len(value) > limit or "\x00" in value:
            raise c.fail(where, f"must be at most {limit} characters")
        problem = check(value) if check else None
        if problem:
            raise c.fail(where, f"'{value}' {problem}")
        return value

    return read


def nullable(reader: Reader) -> Reader:
    """``reader``, or null."""

    def read(c: Checker, where: Where) -> Any:
        return None if c.get(where) is None else reader(c, where)

    return read


def choice(*options: str) -> Reader:
    def read(c: Checker, where: Where) -> str:
        value = c.text_of(where)
        if value not in options:
            raise c.fail(where, f"must be one of {', '.join(options)}")
        return value

    return read


def integer(low: int, high: int) -> Reader:
    def read(c: Checker, where: Where) -> int:
        value = c.get(where)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise c.fail(where, f"must be a whole number from {low} to {high}")
        return value

    return read


def flag(c: Checker, where: Where) -> bool:
    value = c.get(where)
    if not isinstance(value, bool):
        raise c.fail(where, "must be true or false")
    return value


def duration(low: int, high: int) -> Reader:
    """Seconds from "90s", "2m", "1h30m" or "1d" (a bare number counts minutes)."""

    def read(c: Checker, where: Where) -> int:
        written = (c.text_of(where) or "").strip().lower().replace(" ", "")
        found = DURATION.match(written + ("m" if written.isdigit() else ""))
        if not written or found is None:
            raise c.fail(where, "must be a duration such as 30s, 5m, 1h30m or 1d")
        days, hours, minutes, seconds = (int(part or 0) for part in found.groups())
        total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
        if not low <= total <= high:
            raise c.fail(where, f"must be between {span(low)} and {span(high)}")
        return total

    return read


def span(seconds: int) -> str:
    """Seconds written back the way a file would say them: 90s, 5m, 1h30m."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = (f"{hours}h" * bool(hours), f"{minutes}m" * bool(minutes), f"{secs}s" * bool(secs))
    return "".join(parts) or "0m"


def clock(c: Checker, where: Where) -> str:
    """A wall-clock time HH:MM (YAML reads 17:00 as a number; the text is used)."""
    value = (c.text_of(where) or "").strip()
    if len(value) == 4 and value[1] == ":":
        value = "0" + value
    if not CLOCK.match(value):
        raise c.fail(where, "must be a time of day such as 09:00")
    return value


def moment(c: Checker, where: Where) -> datetime:
    """An ISO 8601 date and time with its UTC offset."""
    value = c.text_of(where) or ""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise c.fail(where, "must be a date and time such as 2026-01-05T09:00:00+01:00") from None
    if parsed.tzinfo is None:
        raise c.fail(where, "needs a UTC offset, e.g. 2026-01-05T09:00:00+01:00")
    return parsed


def weekdays(c: Checker, where: Where) -> list[int]:
    """Days as numbers (0 = Monday) or names (mon, tue, ...), in week order."""

    def day(c: Checker, at: Where) -> int:
        value = c.get(at)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
            return value
        name = str(c.text_of(at) or "").strip().lower()[:3]
        if name not in DAYS:
            raise c.fail(at, "must be a day: mon ... sun, or 0 (Monday) ... 6")
        return DAYS.index(name)

    days = c.each(where, day, at_most=7)
    if not days:
        raise c.fail(where, "must name at least one day")
    return sorted(set(days))


def day_names(days: list[int]) -> str:
    return ", ".join(DAYS[d] for d in days)
