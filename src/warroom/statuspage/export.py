"""`warroom statuspage export DIR`: the same pages, JSON and feeds as static files."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from warroom.statuspage.pages import all_paths, render
from warroom.statuspage.present import Snapshot


def target(directory: Path, path: str) -> Path:
    """Where a page path goes: directories with index.html, so URLs keep their shape."""
    if path.endswith((".json", ".atom", ".rss")):
        return directory / path.lstrip("/")
    return directory / path.strip("/") / "index.html"


def export(snapshot: Snapshot, directory: Path, *, base: str, host: str) -> list[Path]:
    """Write every path; each file replaced atomically so a CDN never serves half a page."""
    written = []
    for path in all_paths(snapshot):
        # A static copy has no server behind it: no sign-up form.
        found = render(snapshot, path, base=base, host=host, dynamic=False)
        if found is None:
            continue
        destination = target(directory, path)
        destination.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=destination.parent, prefix=".tmp-")
        with os.fdopen(handle, "wb") as out:
            out.write(found[0])
        os.replace(temporary, destination)
        written.append(destination)
    return written
