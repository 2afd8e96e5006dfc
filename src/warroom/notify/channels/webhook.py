"""Webhooks: JSON POSTs signed the Standard Webhooks way (protocols.md §6)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import orjson

from warroom.notify.channels.base import Delivery, Message
from warroom.notify.rules import Outcome, classify_http, retry_after_delay
from warroom.signing import webhook_headers

TIMEOUT_SECONDS = 15.0


class WebhookChannel:
    """POSTs the message's data; the webhook-id header is the idempotency key."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)

    def send(self, url: str, secret: str | None, message: Message) -> Delivery:
        body = orjson.dumps(
            {
                "type": message.data.get("type", "notification"),
                "subject": message.subject,
                "text": message.text,
                "data": message.data,
            }
        )
        headers = {"content-type": "application/json", "user-agent": "warroom"}
        if secret:
            headers |= webhook_headers(secret, message.key, int(time.time()), body)
        else:
            headers["webhook-id"] = message.key
        try:
            response = self.client.post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            return Delivery(Outcome.RETRY, f"no answer from {url} within {TIMEOUT_SECONDS:.0f} s")
        except httpx.HTTPError as error:
            return Delivery(Outcome.RETRY, f"could not reach {url}: {error}")
        outcome = classify_http(response.status_code)
        wait = retry_after_delay(response.headers.get("retry-after"), datetime.now(UTC))
        return Delivery(outcome, f"{url} answered {response.status_code}", wait)
