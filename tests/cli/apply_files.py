"""Organisation files for the `warroom apply` tests: the example, edited copies, line lookups."""

from __future__ import annotations

import textwrap
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "org.yaml"


def write(directory: Path, text: str, *, dedent: bool = True) -> Path:
    """``text`` saved as DIRECTORY/org.yaml."""
    path = directory / "org.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n") if dedent else text, encoding="utf-8")
    return path


def edited(old: str, new: str) -> str:
    """The example with its one occurrence of ``old`` replaced."""
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur once in {EXAMPLE}"
    return text.replace(old, new)


def line_of(path: Path, fragment: str) -> int:
    """The 1-based line of the only line of ``path`` holding ``fragment``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = [number for number, line in enumerate(lines, start=1) if fragment in line]
    assert len(found) == 1, f"{fragment!r} on lines {found} of {path}"
    return found[0]
