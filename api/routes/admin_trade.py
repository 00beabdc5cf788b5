"""Operators' and admins' side of trade: all orders, disputes, payouts, commission."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.deps import (
    CommissionAdmin,
    DbSession,
    DisputeResolver,
    IdempotencyKey,
    Now,
    OrderWatcher,
    Pagination,
    PayoutOperator,
    TradeSettingsDep,
)
from api.idempotency import once
from api.schemas.base import Page
from api.schemas.orders import (
    CommissionIn,
    CommissionOut,
    DisputeOut,
    OrderOut,
    OrderSummaryOut,
    ResolveDisputeIn,
    TradeHealthOut,
)
from api.schemas.wallet import PayOutIn, RejectWithdrawalIn, StaffWithdrawalOut, WithdrawalOut
from catalog.pagination import fetch_page
from catalog.trade import invariants, repository
from catalog.trade import service as trade
from catalog.trade.models import OrderStatus
from catalog.wallet import service as wallet
from catalog.wallet.models import WithdrawalStatus

router = APIRouter(prefix="/admin", tags=["admin: trade"])


@router.get("/orders")
def all_orders(
    session: DbSession,
    _operator: OrderWatcher,
    paging: Pagination,
    status: OrderStatus | None = None,
    buyer_id: Annotated[int | None, Query()] = None,
    seller_id: Annotated[int | None, Query()] = None,
) -> Page[OrderSummaryOut]:
    """Every order, newest first, filtered by status, buyer or seller."""
    stmt = repository.orders_of(buyer_id=buyer_id, seller_id=seller_id, status=status)
    orders, total = fetch_page(session, stmt, page=paging.page, page_size=paging.page_size)
    return paging.answer([OrderSummaryOut.of(order) for order in orders], total)


@router.get("/disputes")
def open_disputes(
    session: DbSession, _operator: DisputeResolver, paging: Pagination
) -> Page[DisputeOut]:
    """Disputes waiting for a decision, oldest first."""
    items, total = fetch_page(
        session, repository.open_disputes(), page=paging.page, page_size=paging.page_size
    )
    return paging.answer([DisputeOut.of(item) for item in items], total)


@router.post("/orders/{order_id}/resolve-dispute")
def resolve_dispute(
    order_id: int,
    body: ResolveDisputeIn,
    request: Request,
    session: DbSession,
    operator: DisputeResolver,
    now: Now,
    settings: TradeSettingsDep,
    key: IdempotencyKey = None,
) -> OrderOut:
    """Decide a dispute: refund_full, refund_partial (with refund_amount; the seller gets
    the rest less commission) or release to the seller."""

    def run() -> OrderOut:
        trade.resolve_dispute(
            session,
            operator=operator,
            order_id=order_id,
            outcome=body.outcome,
            refund_amount=body.refund_amount,
            note=body.note,
            now=now,
            settings=settings,
        )
        return OrderOut.of_view(trade.view_order(session, user=operator, order_id=order_id))

    return once(
        request,
        session,
        user=operator,
        key=key,
        body=body,
        status_code=200,
        answer_type=OrderOut,
        run=run,
    )


@router.get("/withdrawals")
def all_withdrawals(
    session: DbSession,
    _operator: PayoutOperator,
    paging: Pagination,
    status: WithdrawalStatus | None = WithdrawalStatus.REQUESTED,
) -> Page[StaffWithdrawalOut]:
    """Withdrawals to pay out (by default those still requested), oldest first, each with
    the payout account (number masked) the operator transfers to."""
    items, total = wallet.all_withdrawals(
        session, status=status, page=paging.page, page_size=paging.page_size
    )
    accounts = wallet.accounts_of_withdrawals(session, items)
    return paging.answer(
        [StaffWithdrawalOut.of_staff(item, accounts.get(item.payout_account_id)) for item in items],
        total,
    )


@router.post("/withdrawals/{withdrawal_id}/pay")
def pay_out(
    withdrawal_id: int, body: PayOutIn, session: DbSession, operator: PayoutOperator, now: Now
) -> WithdrawalOut:
    """Record that the money was transferred by hand, with the transfer's reference."""
    withdrawal = wallet.decide_withdrawal(
        session,
        operator=operator,
        withdrawal_id=withdrawal_id,
        paid=True,
        transfer_reference=body.transfer_reference,
        reason=None,
        now=now,
    )
    return WithdrawalOut.of(withdrawal)


@router.post("/withdrawals/{withdrawal_id}/reject")
def reject_withdrawal(
    withdrawal_id: int,
    body: RejectWithdrawalIn,
    session: DbSession,
    operator: PayoutOperator,
    now: Now,
) -> WithdrawalOut:
    """Refuse a withdrawal with a reason; the money goes back to the seller's balance."""
    withdrawal = wallet.decide_withdrawal(
        session,
        operator=operator,
        withdrawal_id=withdrawal_id,
        paid=False,
        transfer_reference=None,
        reason=body.reason,
        now=now,
    )
    return WithdrawalOut.of(withdrawal)


@router.get("/commission")
def get_commission(
    session: DbSession, _admin: CommissionAdmin, settings: TradeSettingsDep
) -> CommissionOut:
    """The commission rate new orders get (basis points: 100 = 1%)."""
    return CommissionOut(rate_bp=trade.current_commission_bp(session, settings))


@router.put("/commission")
def set_commission(body: CommissionIn, session: DbSession, admin: CommissionAdmin) -> CommissionOut:
    """Set the rate for orders created from now on; open orders keep the rate they have."""
    rate = trade.set_commission(session, admin=admin, rate_bp=body.rate_bp)
    return CommissionOut(rate_bp=rate.rate_bp)


@router.get("/trade/health")
def trade_health(session: DbSession, _operator: OrderWatcher) -> TradeHealthOut:
    """The money invariants (balanced ledger, escrow of finished orders at zero, one
    settlement per order); an empty list is a healthy ledger."""
    return TradeHealthOut(violations=invariants.violations(session))
