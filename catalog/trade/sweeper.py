"""The deadline sweeper: claims orders whose `due_at` has passed and applies the state's
timeout transition. Claims skip rows another sweeper holds, and each order is changed
under its row lock, so running late, twice at once or after a crash is safe."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from catalog.goods import service as goods_service
from catalog.ledger import service as ledger
from catalog.notifications.service import Notice, notify_many
from catalog.trade import machine, money
from catalog.trade.machine import Step
from catalog.trade.models import Actor, Order
from catalog.trade.settings import TradeSettings

# Timeouts applied to a batch as a set, in a few statements: each cancels its orders and
# relists the goods, and those from a funded state refund the buyer in full (True). One
# order at a time, the sweeper managed about 300 unpaid and 130 paid orders a second.
# Their declared effects must stay exactly these; tests/trade/test_sweeper_sets.py checks.
SET_TIMEOUTS: dict[str, bool] = {
    "expire": False,
    "video_timeout": True,
    "confirm_timeout": True,
    "ship_timeout": True,
}


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
    sets: dict[str, list[Order]] = {}
    one_by_one: list[tuple[Order, str]] = []
    for order in orders:
        deadline = machine.deadline_for(order.status, settings)
        if deadline is None:  # a state without a timer kept a stale due_at; clear it
            order.due_at = None
        elif deadline[1] in SET_TIMEOUTS:
            sets.setdefault(deadline[1], []).append(order)
        else:
            one_by_one.append((order, deadline[1]))
    # A release credits its seller's balance: lock those up front, in one order, so two
    # sweepers whose batches share sellers cannot deadlock. The platform's accounts take
    # no row lock (ledger.SUMMED_ON_READ), so a sweep never holds up anyone's payment.
    sellers = [order.seller_id for order, name in one_by_one if name == "auto_complete"]
    if sellers:
        ledger.lock_accounts(session, [ledger.available(seller) for seller in sellers])
    for order, name in one_by_one:
        machine.apply(session, order, name, Step(now, Actor.SYSTEM), settings=settings)
    for name, group in sets.items():
        _cancel_as_set(session, group, name, refund=SET_TIMEOUTS[name], now=now)
    session.flush()
    return len(orders)


def _cancel_as_set(
    session: Session, orders: list[Order], name: str, *, refund: bool, now: datetime
) -> None:
    """machine.apply's effects for a whole group: cancelled, refunded in full if paid,
    goods relisted (search hears through the outbox), a timeline entry each, and both
    parties told."""
    transition = machine.TRANSITIONS[name]
    if refund:
        ledger.post_many(session, [money.refund_entry(order) for order in orders], now=now)
    session.execute(
        update(Order)
        .where(Order.id.in_([order.id for order in orders]), Order.status.in_(transition.sources))
        .values(
            status=transition.target,
            due_at=None,
            updated_at=now,
            finished_at=now,
            version=Order.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    step = Step(now, Actor.SYSTEM)
    machine.log_transitions(
        session,
        [
            machine.TimelineEntry(order.id, name, order.status, transition.target, step)
            for order in orders
        ],
    )
    goods_service.relist_many(session, goods_ids=[order.goods_id for order in orders], now=now)
    text = f"：{machine.STATUS_NAMES[transition.target]}"
    notify_many(
        session,
        notices=[
            Notice(party, "order", f"订单 #{order.id}{text}", order_id=order.id)
            for order in orders
            for party in (order.buyer_id, order.seller_id)
        ],
        now=now,
    )
    for order in orders:
        session.expire(order)
