"""The built-in sandbox payment gateway. It behaves like a real one: a charge, a pay step
(the shopper paying), then an HMAC-signed notification delivered to our webhook until it
is acknowledged, so it may arrive twice, late, or after other charges' notifications."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.errors import NotFound
from catalog.local_secrets import local_secret
from catalog.settings import get_settings
from catalog.trade.models import SandboxCharge
from catalog.trade.settings import get_trade_settings

NAME = "sandbox"
SIGNATURE_HEADER = "X-Sandbox-Signature"
# Back-off between delivery attempts of one notification, capped at the last step.
RETRY_STEPS = (1, 5, 30, 120, 600)


@dataclass(frozen=True)
class Notification:
    ref: str
    amount: int
    status: str
    paid_at: datetime


@dataclass(frozen=True)
class Delivery:
    charge_id: int
    body: bytes
    signature: str


class BadSignature(Exception):
    pass


@lru_cache(maxsize=1)
def _secret() -> bytes:
    configured = get_trade_settings().sandbox_secret.encode()
    return configured or local_secret(get_settings().home / "sandbox_gateway.key")


def sign(body: bytes) -> str:
    return hmac.new(_secret(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str) -> Notification:
    """The notification in `body` if `signature` is the gateway's; BadSignature otherwise."""
    if not hmac.compare_digest(sign(body), signature):
        raise BadSignature("the signature does not match the body")
    try:
        data = json.loads(body)
        return Notification(
            ref=str(data["ref"]),
            amount=int(data["amount"]),
            status=str(data["status"]),
            paid_at=datetime.fromisoformat(data["paid_at"]),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise BadSignature(f"a signed but unreadable notification: {error}") from error


def create_charge(session: Session, *, amount: int) -> str:
    """Open a charge at the gateway; returns its reference."""
    ref = f"sbx_{secrets.token_hex(12)}"
    session.add(SandboxCharge(ref=ref, amount=amount))
    return ref


def pay(session: Session, *, ref: str, now: datetime) -> SandboxCharge:
    """The shopper pays the charge (again: nothing more happens). The gateway then owes
    our webhook a signed notification."""
    charge = session.scalar(select(SandboxCharge).where(SandboxCharge.ref == ref).with_for_update())
    if charge is None:
        raise NotFound("no such sandbox charge", code="charge_not_found")
    if charge.paid_at is None:
        charge.paid_at = now
        body = {"ref": ref, "amount": charge.amount, "status": "paid", "paid_at": now.isoformat()}
        charge.notification = json.dumps(body, sort_keys=True)
        charge.signature = sign(charge.notification.encode())
        charge.next_delivery_at = now
    return charge


def due_deliveries(session: Session, *, now: datetime, limit: int = 100) -> list[Delivery]:
    """Notifications owed to the webhook now; each is pushed back a step so another
    deliverer running at the same time does not send it too."""
    charges = session.scalars(
        select(SandboxCharge)
        .where(SandboxCharge.next_delivery_at <= now)
        .order_by(SandboxCharge.next_delivery_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    deliveries = []
    for charge in charges:
        assert charge.notification is not None
        assert charge.signature is not None
        step = RETRY_STEPS[min(charge.delivery_attempts, len(RETRY_STEPS) - 1)]
        charge.delivery_attempts += 1
        charge.next_delivery_at = now + timedelta(seconds=step)
        deliveries.append(Delivery(charge.id, charge.notification.encode(), charge.signature))
    return deliveries


def acknowledged(session: Session, *, charge_id: int, now: datetime) -> None:
    charge = session.get_one(SandboxCharge, charge_id)
    charge.delivered_at = now
    charge.next_delivery_at = None
