"""The hot path's hand-written SQL stays in step with the rules it mirrors."""

from __future__ import annotations

import re

from warroom.alerts import triggers
from warroom.incidents.rules import OPEN_PHASES


def test_open_incident_query_lists_exactly_the_open_phases():
    listed = set(re.findall(r"'(\w+)'", triggers.OPEN_INCIDENT))
    assert listed == {p.value for p in OPEN_PHASES}


def test_bump_only_touches_unresolved_alerts():
    assert "status != 'resolved'" in triggers.BUMP
