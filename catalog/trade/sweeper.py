"""The deadline sweeper: claims orders whose `due_at` has passed and applies the state's
timeout transition. Claims skip rows another sweeper holds, and each transition re-checks
the state under the row lock, so running late, twice at once or after a crash is safe."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.ledger import service as ledger
from catalog.trade import machine
from catalog.trade.machine import Step
from catalog.trade.models import Actor, Order
from catalog.trade.settings import TradeSettings


def sweep_due_orders(
    session: Session, *, now: datetime, settings: TradeSettings, limit: int = 500
) -> int:
    """Apply every due timeout among the next `limit` due orders; returns how many."""
    orders = session.scalars(
        select(Order)
        .where(Order.due_at <= now)
        .order_by(Order.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    if not orders:
        return 0
    # A release credits its seller's balance: lock those up front, in one order, so two
    # sweepers whose batches share sellers cannot deadlock. The platform's accounts take
    # no row lock (ledger.SUMMED_ON_READ), so a sweep never holds up anyone's payment.
    releases = [
        order
        for order in orders
        if (machine.deadline_for(order.status, settings) or ("", ""))[1] == "auto_complete"
    ]
    if releases:
        ledger.lock_accounts(session, [ledger.available(order.seller_id) for order in releases])
    for order in orders:
        deadline = machine.deadline_for(order.status, settings)
        if deadline is None:  # a state without a timer kept a stale due_at; clear it
            order.due_at = None
            continue
        machine.apply(session, order, deadline[1], Step(now, Actor.SYSTEM), settings=settings)
    session.flush()
    return len(orders)
