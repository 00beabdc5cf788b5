"""The sandbox gateway's courier: posts owed notifications to the webhook over HTTP and
marks those the webhook acknowledged; the rest are retried with back-off."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from functools import cache

import httpx2
from sqlalchemy.orm import Session, sessionmaker

from catalog.clock import utcnow
from catalog.db import unit_of_work
from catalog.trade import sandbox_gateway
from catalog.trade.settings import get_trade_settings

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/api/v1/payments/sandbox/notify"


def webhook_url() -> str:
    # Read per round, not cached: `idlemarket serve` sets it for the port it binds.
    configured = (
        os.environ.get("TRADE_SANDBOX_NOTIFY_URL") or get_trade_settings().sandbox_notify_url
    )
    return configured or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}{WEBHOOK_PATH}"


def deliver_due_notifications(
    factory: sessionmaker[Session],
    *,
    client: httpx2.Client,
    url: str,
    now: datetime | None = None,
) -> int:
    """One round of deliveries; returns how many the webhook acknowledged. No database
    transaction is open while a request is in flight."""
    when = now or utcnow()
    with unit_of_work(factory) as session:
        deliveries = sandbox_gateway.due_deliveries(session, now=when)
    acknowledged = []
    for delivery in deliveries:
        try:
            response = client.post(
                url,
                content=delivery.body,
                headers={
                    "Content-Type": "application/json",
                    sandbox_gateway.SIGNATURE_HEADER: delivery.signature,
                },
                timeout=10,
            )
        except httpx2.HTTPError as error:
            log.warning("sandbox notification %s not delivered: %s", delivery.charge_id, error)
            continue
        if response.status_code == 200:
            acknowledged.append(delivery.charge_id)
        else:
            log.warning(
                "webhook refused notification %s: %s", delivery.charge_id, response.status_code
            )
    if acknowledged:
        with unit_of_work(factory) as session:
            for charge_id in acknowledged:
                sandbox_gateway.acknowledged(session, charge_id=charge_id, now=when)
    return len(acknowledged)


@cache
def _courier() -> httpx2.Client:
    # One client for the process: a new one every round (every second) built an SSL
    # context each time, a few milliseconds of a busy server's CPU for nothing.
    return httpx2.Client()


def deliver_sandbox_notifications(factory: sessionmaker[Session]) -> int:
    """The periodic job: deliver to this platform's own webhook."""
    return deliver_due_notifications(factory, client=_courier(), url=webhook_url())
