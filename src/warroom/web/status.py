"""Wiring of the public status page into the server: its snapshot source and page config."""

from __future__ import annotations

from urllib.parse import urlsplit

from warroom.clock import Clock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.settings import Settings
from warroom.statuspage import service as status_service
from warroom.statuspage.pages import StatusPages
from warroom.statuspage.present import PageConfig, Snapshot, snapshot


def page_config(settings: Settings) -> PageConfig:
    return PageConfig(
        name=settings.status_page_name,
        url=f"{settings.base_url}/status",
        time_zone=settings.time_zone,
        secret=settings.secret_key,
    )


def status_pages(settings: Settings, sessions: SessionFactory, clock: Clock) -> StatusPages:
    config = page_config(settings)

    def load() -> int:
        with unit_of_work(sessions, write=False) as session:
            return status_service.version(session)

    def build(version: int) -> Snapshot:
        with unit_of_work(sessions, write=False) as session:
            return snapshot(session, config, clock.now(), version)

    host = urlsplit(settings.base_url).hostname or "localhost"
    return StatusPages(load, build, base=config.url, host=host)
