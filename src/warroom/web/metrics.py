"""Incident gauges computed at scrape time from the database."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import timedelta

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from warroom.clock import Clock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.incidents import queries as incident_queries
from warroom.reports import service as report_service
from warroom.statuspage.pages import StatusPages

log = logging.getLogger(__name__)


class IncidentCollector(Collector):
    """Open incidents and overdue internal updates, by severity and drill flag.

    Read from the database on each scrape, so every server process reports
    the same truth instead of its own counters.
    """

    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        open_incidents = GaugeMetricFamily(
            "warroom_incidents_open", "Incidents not yet resolved", labels=["severity", "drill"]
        )
        overdue = GaugeMetricFamily(
            "warroom_incidents_update_overdue",
            "Open incidents whose internal update is overdue",
            labels=["severity", "drill"],
        )
        try:
            with unit_of_work(self.sessions, write=False) as session:
                rows = incident_queries.open_counts(session=session, now=self.clock.now())
        except SQLAlchemyError as error:
            # The request metrics matter most when the database is in trouble.
            log.warning("incident gauges skipped: %s", type(error).__name__)
            return
        for severity, drill, count, late in rows:
            labels = [severity, str(drill).lower()]
            open_incidents.add_metric(labels, count)
            overdue.add_metric(labels, late)
        yield open_incidents
        yield overdue


class ProgramCollector(Collector):
    """The last 30 days' MTTD/MTTA/MTTM/MTTR and compliance by severity (drills excluded).

    A report reads every incident of the period, so the figures are kept for
    ``ttl`` seconds rather than recomputed on every scrape.
    """

    def __init__(self, sessions: SessionFactory, clock: Clock, ttl: float = 60.0) -> None:
        self.sessions = sessions
        self.clock = clock
        self.ttl = ttl
        self._cached: tuple[float, list[GaugeMetricFamily]] | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = time.monotonic()
        if self._cached is None or self._cached[0] < now:
            try:
                self._cached = (now + self.ttl, self._families())
            except SQLAlchemyError as error:
                log.warning("program gauges skipped: %s", type(error).__name__)
                return
        yield from self._cached[1]

    def _families(self) -> list[GaugeMetricFamily]:
        now = self.clock.now()
        with unit_of_work(self.sessions, write=False) as session:
            built = report_service.build(
                session=session, now=now, since=now - timedelta(days=30), by="severity"
            )
        times = GaugeMetricFamily(
            "warroom_incident_minutes",
            "Minutes from detection (MTTD: from impact start) over the last 30 days",
            labels=["severity", "measure", "stat"],
        )
        ratios = GaugeMetricFamily(
            "warroom_compliance_ratio",
            "Share of targets met over the last 30 days",
            labels=["severity", "target"],
        )
        for group in [*built.groups, built.overall]:
            for measure, stat in group.stats.items():
                for name in ("mean", "median", "p90"):
                    value = getattr(stat, name)
                    if value is not None:
                        times.add_metric([group.key, measure, name], value)
            for target, value in (
                ("ack", group.ack_compliance),
                ("update_cadence", group.update_compliance),
                ("postmortem_on_time", group.postmortems_on_time),
            ):
                if value is not None:
                    ratios.add_metric([group.key, target], value)
        if built.actions_on_time_ratio is not None:
            ratios.add_metric(["all", "action_items_on_time"], built.actions_on_time_ratio)
        return [times, ratios]


class StatusPageCollector(Collector):
    """Public status page responses by status code, counted by the page app itself."""

    def __init__(self, pages: StatusPages) -> None:
        self._pages = pages

    def collect(self) -> Iterator[CounterMetricFamily]:
        served = CounterMetricFamily(
            "warroom_status_page_responses",
            "Responses of the public status page (HTML, JSON, feeds) by status code",
            labels=["status"],
        )
        for code, count in sorted(self._pages.responses.items()):
            served.add_metric([str(code)], count)
        yield served
