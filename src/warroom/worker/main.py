"""Entry point of the worker: build it from settings, run it alone or beside the server."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta
from urllib.parse import urlsplit

from warroom.clock import Clock, SystemClock
from warroom.db.engine import SessionFactory, make_engine, make_session_factory
from warroom.notify.channels.email import EmailChannel
from warroom.notify.channels.webhook import WebhookChannel
from warroom.settings import Settings
from warroom.worker.cycle import Worker
from warroom.worker.jobs import Jobs
from warroom.worker.messages import Links

log = logging.getLogger(__name__)


def build(settings: Settings, sessions: SessionFactory, clock: Clock) -> Worker:
    """A worker configured from ``settings``."""
    domain = urlsplit(settings.base_url).hostname or "localhost"
    jobs = Jobs(
        email=EmailChannel(
            settings.smtp_url,
            settings.smtp_from,
            domain,
            # Without an SMTP server a laptop still sees its pages, as files.
            spool_dir=settings.var_dir / "mail" if settings.env == "development" else None,
        ),
        webhook=WebhookChannel(),
        links=Links(
            base_url=settings.base_url,
            secret=settings.secret_key.encode(),
            ack_valid_for=timedelta(hours=settings.ack_link_hours),
        ),
        retry_base=timedelta(seconds=settings.retry_base_seconds),
        max_attempts=settings.max_attempts,
        page_name=settings.status_page_name,
    )
    return Worker(
        sessions,
        clock,
        jobs,
        poll_seconds=settings.worker_poll_seconds,
        lock_for=timedelta(seconds=settings.worker_lock_seconds),
    )


class Background:
    """A worker on a daemon thread inside `warroom serve`."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.stop_event = threading.Event()
        self.thread = threading.Thread(
            target=worker.run, args=(self.stop_event,), name="worker", daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.worker.wake.set()
        self.thread.join(timeout=10)


def run(settings: Settings) -> None:
    """`warroom worker`: run until SIGINT or SIGTERM, finishing the job at hand."""
    sessions = make_session_factory(make_engine(settings.resolved_database_url))
    worker = build(settings, sessions, SystemClock())
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        log.info("worker %s stopping (signal %d)", worker.name, signum)
        stop.set()
        worker.wake.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    log.info("worker %s started", worker.name)
    worker.run(stop)
