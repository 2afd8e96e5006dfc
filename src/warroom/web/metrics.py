"""Incident gauges computed at scrape time from the database."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from warroom.clock import Clock
from warroom.db.engine import SessionFactory
from warroom.db.uow import unit_of_work
from warroom.incidents import queries as incident_queries

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
