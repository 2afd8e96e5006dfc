"""The storage layer round-trips an incident on each backend."""

from __future__ import annotations

from tests.factories import make_incident, make_user
from warroom.db.uow import unit_of_work
from warroom.incidents import service as incident_service


def test_declared_incident_reads_back_with_utc_times(sessions, clock):
    with unit_of_work(sessions) as session:
        alice = make_user(session, clock.now())
        incident = make_incident(session, clock.now(), alice)
        ref = f"INC-{incident.id}"
    with unit_of_work(sessions, write=False) as session:
        loaded = incident_service.get_by_ref(session=session, ref=ref)
        assert loaded.declared_at == clock.now()
        assert loaded.declared_at.tzinfo is not None
        assert loaded.severity.name == "SEV-1"
        entries = incident_service.timeline(session=session, incident=loaded)
        assert [e.kind for e in entries] == ["declared"]
