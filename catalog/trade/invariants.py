"""The money invariants of trade, checked after every trade test and by operators' health
checks: a healthy platform returns no violations."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.ledger import service as ledger
from catalog.ledger.models import AccountKind, LedgerAccount, LedgerPosting, LedgerTransaction
from catalog.trade.machine import FINISHED
from catalog.trade.models import Order, OrderStatus

_SETTLEMENTS = ("release", "refund", "partial_refund")


def violations(session: Session) -> list[str]:
    found = ledger.violations(session)
    escrow = {
        owner: balance
        for owner, balance in session.execute(
            select(LedgerAccount.owner_id, LedgerAccount.balance).where(
                LedgerAccount.kind == AccountKind.ESCROW
            )
        )
    }
    kinds: dict[int, list[str]] = {}
    for order_id, kind in session.execute(
        select(LedgerTransaction.order_id, LedgerTransaction.kind).where(
            LedgerTransaction.order_id.is_not(None)
        )
    ):
        if order_id is not None:
            kinds.setdefault(order_id, []).append(kind)
    for order in session.execute(select(Order.id, Order.status, Order.price, Order.paid_at)).all():
        held = escrow.get(order.id, 0)
        posted = kinds.get(order.id, [])
        settlements = [kind for kind in posted if kind in _SETTLEMENTS]
        paid = "payment" in posted
        if len(settlements) > 1:
            found.append(f"order {order.id} settled {len(settlements)} times: {settlements}")
        if order.status in FINISHED:
            if held != 0:
                found.append(f"finished order {order.id} still holds {held} fen in escrow")
            if paid and not settlements:
                found.append(f"finished order {order.id} was paid but never settled")
        elif order.status is not OrderStatus.AWAITING_PAYMENT and held != order.price:
            found.append(f"open order {order.id} holds {held} fen, not its price {order.price}")
        if order.status is OrderStatus.COMPLETED and not any(
            kind in ("release", "partial_refund") for kind in settlements
        ):
            found.append(f"completed order {order.id} has no release")
    total = session.scalar(select(func.coalesce(func.sum(LedgerPosting.amount), 0)))
    if total:
        found.append(f"all postings together sum to {total}, not 0")
    return found
