"""Paying orders through the gateway port: start a payment, then apply the gateway's
signed notification exactly once, however often, late or out of order it arrives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.errors import Conflict, InvalidInput, NotFound
from catalog.ledger import service as ledger
from catalog.trade import machine, sandbox_gateway
from catalog.trade.machine import Step
from catalog.trade.models import Actor, Order, OrderStatus, Payment, PaymentStatus
from catalog.trade.service import order_for
from catalog.trade.settings import TradeSettings
from catalog.users.models import User

Outcome = Literal["applied", "duplicate", "returned"]


@dataclass(frozen=True)
class StartedPayment:
    payment: Payment
    pay_path: str
    """Where the shopper pays (the sandbox's pay step; a real gateway's cashier page)."""


def start_payment(session: Session, *, buyer: User, order_id: int, now: datetime) -> StartedPayment:
    """A payment for the buyer's unpaid order; asking again gives the same open payment."""
    order, role = order_for(session, user=buyer, order_id=order_id, lock=True)
    if role is not Actor.BUYER:
        raise NotFound("no such order", code="order_not_found")
    machine.allowed(order, "pay", Actor.SYSTEM)  # refuses orders that are past paying
    if order.due_at is not None and order.due_at <= now:
        raise Conflict("this order expired unpaid", code="deadline_passed")
    payment = session.scalar(
        select(Payment).where(Payment.order_id == order.id, Payment.status == PaymentStatus.PENDING)
    )
    if payment is None:
        ref = sandbox_gateway.create_charge(session, amount=order.price)
        payment = Payment(
            order_id=order.id,
            gateway=sandbox_gateway.NAME,
            gateway_ref=ref,
            amount=order.price,
            status=PaymentStatus.PENDING,
            created_at=now,
        )
        session.add(payment)
        session.flush()
    return StartedPayment(payment, f"/payments/sandbox/{payment.gateway_ref}/pay")


def apply_notification(
    session: Session,
    *,
    notification: sandbox_gateway.Notification,
    now: datetime,
    settings: TradeSettings,
) -> Outcome:
    """Money arrived at the gateway for one of our payments. The first notice puts it in
    the order's escrow; repeats change nothing; money for an order that no longer takes
    it (expired, cancelled, already paid) goes straight back to the buyer."""
    payment = session.scalar(
        select(Payment).where(Payment.gateway_ref == notification.ref).with_for_update()
    )
    if payment is None:
        raise NotFound("no payment with this reference", code="unknown_payment")
    if notification.status != "paid":
        raise InvalidInput(f"unknown payment status {notification.status!r}", code="unknown_status")
    if notification.amount != payment.amount:
        raise InvalidInput(
            f"the notice says {notification.amount} fen but the payment is {payment.amount}",
            code="amount_mismatch",
        )
    if payment.status is not PaymentStatus.PENDING:
        return "duplicate"
    order = session.get_one(Order, payment.order_id, with_for_update=True, populate_existing=True)
    # The shopper's moment of paying decides, not the notice's arrival: paid in time, a
    # late notice still pays the order; paid after the deadline, the money goes back
    # even if the sweeper has not expired the order yet.
    in_time = order.due_at is None or notification.paid_at <= order.due_at
    applies = order.status is OrderStatus.AWAITING_PAYMENT and in_time
    # Settled before the postings, so the payment row is written once with both changes.
    payment.settled_at = now
    payment.status = PaymentStatus.SUCCEEDED if applies else PaymentStatus.RETURNED
    if applies:
        step = Step(now, Actor.SYSTEM, note=f"payment {payment.gateway_ref}")
        machine.apply(session, order, "pay", step, settings=settings)
    else:
        _return_stray(session, payment)
    session.flush()
    return "applied" if applies else "returned"


def _return_stray(session: Session, payment: Payment) -> None:
    # Booked in and straight back out, so the ledger shows the money came and went.
    ledger.post(
        session,
        key=f"payment:{payment.id}:stray",
        kind="stray_payment",
        order_id=payment.order_id,
        lines=[(ledger.GATEWAY, -payment.amount), (ledger.STRAY_PAYMENTS, payment.amount)],
    )
    ledger.post(
        session,
        key=f"payment:{payment.id}:returned",
        kind="stray_payment_returned",
        order_id=payment.order_id,
        lines=[(ledger.STRAY_PAYMENTS, -payment.amount), (ledger.GATEWAY, payment.amount)],
    )
