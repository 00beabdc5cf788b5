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
    # Refunds and releases of the whole batch share the platform's accounts: lock them all
    # up front, in one order, so concurrent sweepers cannot deadlock on them.
    ledger.lock_accounts(
        session,
        [ledger.GATEWAY, ledger.PLATFORM_FEES]
        + [ledger.available(order.seller_id) for order in orders]
        + [ledger.escrow(order.id) for order in orders],
    )
    for order in orders:
        deadline = machine.deadline_for(order.status, settings)
        if deadline is None:  # a state without a timer kept a stale due_at; clear it
            order.due_at = None
            continue
        machine.apply(session, order, deadline[1], Step(now, Actor.SYSTEM), settings=settings)
    session.flush()
    return len(orders)
