from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api.deps import (
    CurrentUser,
    DbSession,
    IdempotencyKey,
    Now,
    Pagination,
    TradeSettingsDep,
    Writer,
)
from api.idempotency import once
from api.schemas.base import Page
from api.schemas.wallet import (
    LedgerLineOut,
    PayoutAccountIn,
    PayoutAccountOut,
    WalletOut,
    WithdrawalIn,
    WithdrawalOut,
)
from catalog.wallet import service as wallet

router = APIRouter(tags=["wallet"])


@router.get("/wallet")
def get_wallet(session: DbSession, user: CurrentUser, paging: Pagination) -> WalletOut:
    """Your balances in fen (available, in escrow, reserved for withdrawals) and your
    ledger lines, newest first."""
    balances = wallet.wallet_of(session, user)
    lines, total = wallet.ledger_lines(session, user, page=paging.page, page_size=paging.page_size)
    return WalletOut(
        available=balances.available,
        escrow=balances.escrow,
        reserved=balances.reserved,
        lines=[LedgerLineOut.of(line) for line in lines],
        lines_total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.get("/wallet/payout-accounts")
def list_payout_accounts(session: DbSession, user: CurrentUser) -> list[PayoutAccountOut]:
    """Your saved payout accounts, numbers masked."""
    return [PayoutAccountOut.of(account) for account in wallet.payout_accounts(session, user)]


@router.post("/wallet/payout-accounts", status_code=status.HTTP_201_CREATED)
def add_payout_account(body: PayoutAccountIn, session: DbSession, user: Writer) -> PayoutAccountOut:
    """Save an Alipay, WeChat or bank-card account; the number is encrypted at rest."""
    account = wallet.add_payout_account(
        session, user=user, kind=body.kind, holder_name=body.holder_name, number=body.number
    )
    return PayoutAccountOut.of(account)


@router.delete("/wallet/payout-accounts/{account_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_payout_account(account_id: int, session: DbSession, user: Writer, now: Now) -> Response:
    """Remove a payout account (withdrawals already made to it are kept)."""
    wallet.delete_payout_account(session, user=user, account_id=account_id, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/withdrawals", status_code=status.HTTP_201_CREATED)
def request_withdrawal(
    body: WithdrawalIn,
    request: Request,
    session: DbSession,
    user: Writer,
    now: Now,
    settings: TradeSettingsDep,
    key: IdempotencyKey = None,
) -> WithdrawalOut:
    """Withdraw from your available balance; the amount is reserved at once and an operator
    pays it out to the account."""

    def run() -> WithdrawalOut:
        withdrawal = wallet.request_withdrawal(
            session,
            user=user,
            account_id=body.payout_account_id,
            amount=body.amount,
            now=now,
            settings=settings,
        )
        return WithdrawalOut.of(withdrawal)

    return once(
        request,
        session,
        user=user,
        key=key,
        body=body,
        status_code=201,
        answer_type=WithdrawalOut,
        run=run,
    )


@router.get("/withdrawals")
def list_withdrawals(
    session: DbSession, user: CurrentUser, paging: Pagination
) -> Page[WithdrawalOut]:
    """Your withdrawals, newest first."""
    items, total = wallet.withdrawals_of(
        session, user, page=paging.page, page_size=paging.page_size
    )
    return paging.answer([WithdrawalOut.of(item) for item in items], total)
