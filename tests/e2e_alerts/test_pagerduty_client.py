"""The official PagerDuty client (`pagerduty.EventsApiV2Client`) against a running warroom.

warroom's /v2/enqueue promises that any tool that can send to PagerDuty can
send to it by changing the host (design.md); this drives PagerDuty's own
Python client through trigger, acknowledge and resolve (protocols.md 2.1).
"""

from __future__ import annotations

from typing import Any

import pagerduty
import pytest

from tests.e2e_alerts.conftest import Keys
from tests.e2e_alerts.harness import Warroom

pytestmark = pytest.mark.e2e

DEDUP_KEY = "checkout/payments-api/5xx"
SUMMARY = "Checkout: payment errors above 5% 💳 — Zahlungsfehler 決済エラー"
DETAILS: dict[str, Any] = {
    "error_rate": 0.0731,
    "threshold": 0.05,
    "firing": True,
    "region": "eu-west-1",
    "hosts": ["pay-1", "pay-2", {"name": "pay-3", "draining": None}],
    "breakdown": {"by_code": {"502": 114, "503": 12}, "by_route": [["/pay", 120], ["/cart", 6]]},
    "runbook": {"url": "https://runbooks.invalid/checkout", "steps": [], "owner": {}},
    "note": "ümlaut, ✓, \t tab and \n newline",
}


class LoopbackEventsClient(pagerduty.EventsApiV2Client):
    """PagerDuty's client, unchanged except that it may use a plain-HTTP loopback base URL.

    `ApiClient.url` (the base URL the constructor's ``base_url`` sets) accepts only
    https://; the test server speaks plain HTTP on 127.0.0.1. This setter accepts
    only that, so the client's default (events.pagerduty.com) is refused: nothing
    can leave the machine.
    """

    @property
    def url(self) -> str:
        return self._loopback_url

    @url.setter
    def url(self, base_url: str) -> None:
        if not base_url.startswith("http://127.0.0.1:"):
            raise ValueError(f"tests send only to a loopback warroom, not {base_url}")
        self._loopback_url = base_url


def by_key(warroom: Warroom, dedup_key: str) -> list[dict[str, Any]]:
    return [a for a in warroom.alerts() if a["dedup_key"] == dedup_key]


def test_official_client_triggers_acknowledges_and_resolves(
    warroom: Warroom, integrations: Keys
) -> None:
    with LoopbackEventsClient(integrations.pagerduty, base_url=warroom.url) as client:
        assert client.url == warroom.url
        sent = client.trigger(
            SUMMARY,
            "pay-1.checkout.internal",
            dedup_key=DEDUP_KEY,
            severity="warning",
            custom_details=DETAILS,
        )
        assert sent == DEDUP_KEY
        (alert,) = by_key(warroom, DEDUP_KEY)
        assert alert["status"] == "triggered"
        assert alert["summary"] == SUMMARY
        assert alert["source"] == "pay-1.checkout.internal"
        assert alert["severity"] == "warning"
        assert alert["service"] == "checkout"
        assert alert["integration"] == "checkout-pagerduty"
        assert alert["details"] == DETAILS
        ref = alert["incident"]
        incident = warroom.incident(ref)
        assert incident["phase"] == "detection"
        assert incident["acknowledged_at"] is None

        # A second trigger with the key adds to the open alert.
        assert client.trigger(SUMMARY, "pay-1.checkout.internal", dedup_key=DEDUP_KEY) == DEDUP_KEY
        (alert,) = by_key(warroom, DEDUP_KEY)
        assert alert["count"] == 2

        assert client.acknowledge(DEDUP_KEY) == DEDUP_KEY
        (alert,) = by_key(warroom, DEDUP_KEY)
        assert alert["status"] == "acknowledged"
        assert alert["acknowledged_at"] is not None
        incident = warroom.incident(ref)
        assert incident["acknowledged_at"] is not None
        assert incident["acknowledged_by"] is None  # the integration, not a person

        assert client.resolve(DEDUP_KEY) == DEDUP_KEY
        (alert,) = by_key(warroom, DEDUP_KEY)
        assert alert["status"] == "resolved"
        assert alert["resolved_at"] is not None
        # Somebody acknowledged it, so the incident stays theirs to close.
        assert warroom.incident(ref)["phase"] == "detection"

        # Acknowledging or resolving what is not open is accepted and changes nothing.
        assert client.acknowledge(DEDUP_KEY) == DEDUP_KEY
        assert client.resolve("never-triggered") == "never-triggered"
        assert [a["status"] for a in by_key(warroom, DEDUP_KEY)] == ["resolved"]
        assert by_key(warroom, "never-triggered") == []

        generated = client.trigger("Checkout: card network timeouts", "pay-2.checkout.internal")
        assert isinstance(generated, str)
        assert generated not in ("", DEDUP_KEY)
        (fresh,) = by_key(warroom, generated)
        assert fresh["status"] == "triggered"
        assert fresh["severity"] == "critical"  # the client's default
        assert fresh["incident"] == ref  # joins the incident that is still open

        # After resolution the same key opens a new alert, as on PagerDuty.
        assert client.trigger(SUMMARY, "pay-1.checkout.internal", dedup_key=DEDUP_KEY) == DEDUP_KEY

    listed = [a for a in warroom.cli_alerts() if a["dedup_key"] == DEDUP_KEY]
    assert sorted(a["status"] for a in listed) == ["resolved", "triggered"]
    assert [a["count"] for a in listed if a["status"] == "triggered"] == [1]
    timeline = warroom.incident(ref, timeline=True)["timeline"]
    kinds = [e["kind"] for e in timeline]
    assert kinds.count("alert_triggered") == 3
    assert kinds.count("acknowledged") == 1
    assert "Acknowledged via integration checkout-pagerduty" in [e["text"] for e in timeline]
