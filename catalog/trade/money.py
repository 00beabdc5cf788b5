"""How an order's money moves: into escrow, and out of it exactly once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from catalog.ledger import service as ledger
from catalog.trade.models import Order


def commission(amount: int, rate_bp: int) -> int:
    """The platform's share of `amount`, rounded half up to a whole fen (the one rounding
    rule: the seller gets `amount - commission(amount)`, so the two always add up)."""
    return (amount * rate_bp + 5_000) // 10_000


def settlement_key(order_id: int) -> str:
    # One key for release, refund and partial refund: an order can settle only once.
    return f"order:{order_id}:settlement"


def take_payment(session: Session, order: Order) -> None:
    ledger.post(
        session,
        key=f"order:{order.id}:payment",
        kind="payment",
        order_id=order.id,
        lines=[(ledger.GATEWAY, -order.price), (ledger.escrow(order.id), order.price)],
    )


def refund_entry(order: Order) -> ledger.Entry:
    """The whole price back to the buyer, as one entry of a batch (ledger.post_many)."""
    return ledger.Entry(
        key=settlement_key(order.id),
        kind="refund",
        order_id=order.id,
        lines=((ledger.escrow(order.id), -order.price), (ledger.GATEWAY, order.price)),
    )


def refund(session: Session, order: Order) -> None:
    """The whole price back to the buyer."""
    ledger.post(
        session,
        key=settlement_key(order.id),
        kind="refund",
        order_id=order.id,
        lines=[(ledger.escrow(order.id), -order.price), (ledger.GATEWAY, order.price)],
    )


def release(session: Session, order: Order, *, refunded: int = 0) -> None:
    """Escrow to the seller less the commission; with `refunded`, that part goes back to
    the buyer first and the commission is taken on the rest only."""
    kept = order.price - refunded
    fee = commission(kept, order.commission_rate_bp)
    ledger.post(
        session,
        key=settlement_key(order.id),
        kind="partial_refund" if refunded else "release",
        order_id=order.id,
        lines=[
            (ledger.escrow(order.id), -order.price),
            (ledger.GATEWAY, refunded),
            (ledger.available(order.seller_id), kept - fee),
            (ledger.PLATFORM_FEES, fee),
        ],
    )
