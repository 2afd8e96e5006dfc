"""`warroom statuspage export DIR [--watch]`: the status page as static files.

Run with ``--watch`` beside a web server or a CDN upload: it re-exports on
every public change (the page version every post bumps) and, since the 90-day
bars move with the date even when nobody posts, at least once an hour.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from sqlalchemy.exc import SQLAlchemyError

from warroom.cli import context
from warroom.cli.output import console, esc
from warroom.clock import SystemClock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.statuspage import export, present
from warroom.statuspage import service as status_service
from warroom.statuspage.present import PageConfig
from warroom.web.status import page_config

REFRESH_SECONDS = 3600.0


class Exporter:
    """Writes the page from the database into one directory."""

    def __init__(self, directory: Path, base_url: str) -> None:
        config = context.settings()
        self.directory = directory
        self.sessions: SessionFactory = context.database(config)
        self.page: PageConfig = page_config(config)
        self.base = base_url.rstrip("/")
        self.host = urlsplit(self.base or config.base_url).hostname or "localhost"

    def version(self) -> int:
        with unit_of_work(self.sessions, write=False) as session:
            return status_service.version(session)

    def write(self) -> tuple[int, int]:
        """Export the page as it is now; returns its version and the number of files."""
        with unit_of_work(self.sessions, write=False) as session:
            version = status_service.version(session)
            snap = present.snapshot(session, self.page, SystemClock().now(), version)
        written = export.export(snap, self.directory, base=self.base, host=self.host)
        return version, len(written)


def export_once(directory: Path, base_url: str) -> None:
    """Render the status page into ``directory`` from the database."""
    _, count = Exporter(directory, base_url).write()
    console.print(f"wrote {count} files to {esc(str(directory))}")


def watch(directory: Path, base_url: str, interval: float) -> None:
    """Export, then again on every change, until SIGINT or SIGTERM.

    A database that cannot be reached leaves the files as they are (the last
    good page is better than none) and is tried again on the next tick.
    """
    exporter = Exporter(directory, base_url)
    stop = _stop_on_signals()
    exported: int | None = None
    exported_at = 0.0
    while not stop.is_set():
        try:
            due = time.monotonic() - exported_at >= REFRESH_SECONDS
            if due or exporter.version() != exported:
                exported, count = exporter.write()
                exported_at = time.monotonic()
                console.print(f"version {exported}: wrote {count} files to {esc(str(directory))}")
        except SQLAlchemyError as error:
            console.print(f"database unavailable ({type(error).__name__}); files left as they are")
        stop.wait(interval)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    return stop
