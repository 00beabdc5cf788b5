"""Sellers' money: the wallet view, payout accounts, and withdrawals that reserve funds at
once and are paid out (or rejected) by an operator by hand."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from catalog.identity.field_crypto import encrypt_field
from catalog.ledger import service as ledger
from catalog.ledger.models import AccountKind, LedgerAccount, LedgerPosting, LedgerTransaction
from catalog.pagination import fetch_page
from catalog.settings import get_settings
from catalog.trade.machine import FINISHED
from catalog.trade.models import Order
from catalog.trade.settings import TradeSettings
from catalog.users.models import User
from catalog.wallet.models import PayoutAccount, PayoutKind, Withdrawal, WithdrawalStatus

MAX_PAYOUT_ACCOUNTS = 5
_NUMBER_RULES: dict[PayoutKind, tuple[re.Pattern[str], str]] = {
    # An Alipay account is a phone number or an email address.
    PayoutKind.ALIPAY: (
        re.compile(r"1[3-9]\d{9}|[^@\s]{1,64}@[^@\s]{1,190}\.[A-Za-z]{2,}"),
        "an Alipay account is a mainland mobile number or an email address",
    ),
    PayoutKind.WECHAT: (
        re.compile(r"[A-Za-z][A-Za-z0-9_-]{5,19}|1[3-9]\d{9}"),
        "a WeChat id is 6 to 20 letters, digits, _ or - from a letter on, or a mobile number",
    ),
    PayoutKind.BANK_CARD: (re.compile(r"\d{12,19}"), "a bank card number is 12 to 19 digits"),
}


@dataclass(frozen=True)
class Wallet:
    available: int
    escrow: int
    reserved: int


@dataclass(frozen=True)
class LedgerLine:
    id: int
    account: str
    amount: int
    kind: str
    order_id: int | None
    withdrawal_id: int | None
    at: datetime


def wallet_of(session: Session, user: User) -> Wallet:
    """What the user may withdraw, what buyers paid for their open sales (escrow), and what
    is set aside for withdrawals not yet paid out."""
    balances = ledger.balances(session, [ledger.available(user.id), ledger.reserved(user.id)])
    open_sales = select(Order.id).where(Order.seller_id == user.id, Order.status.not_in(FINISHED))
    escrow = session.scalar(
        select(func.coalesce(func.sum(LedgerAccount.balance), 0)).where(
            LedgerAccount.kind == AccountKind.ESCROW, LedgerAccount.owner_id.in_(open_sales)
        )
    )
    return Wallet(
        available=balances[ledger.available(user.id)],
        escrow=int(escrow or 0),
        reserved=balances[ledger.reserved(user.id)],
    )


def ledger_lines(
    session: Session, user: User, *, page: int, page_size: int
) -> tuple[list[LedgerLine], int]:
    """The postings on the user's accounts, newest first."""
    mine = select(LedgerAccount.id).where(
        LedgerAccount.kind.in_([AccountKind.AVAILABLE, AccountKind.RESERVED]),
        LedgerAccount.owner_id == user.id,
    )
    stmt = (
        select(
            LedgerPosting.id,
            LedgerAccount.kind,
            LedgerPosting.amount,
            LedgerTransaction.kind,
            LedgerTransaction.order_id,
            LedgerTransaction.withdrawal_id,
            LedgerTransaction.created_at,
        )
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerPosting.transaction_id)
        .where(LedgerPosting.account_id.in_(mine))
        .order_by(LedgerPosting.id.desc())
    )
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(stmt.offset((page - 1) * page_size).limit(page_size)).all()
    return [LedgerLine(r[0], str(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows], total


def add_payout_account(
    session: Session, *, user: User, kind: PayoutKind, holder_name: str, number: str
) -> PayoutAccount:
    """Save an account to withdraw to; the number is encrypted and shown masked from now on."""
    holder_name = holder_name.strip()
    if not 2 <= len(holder_name) <= 40:
        raise InvalidInput(
            "the holder's name is 2 to 40 characters", code="invalid_length", field="holder_name"
        )
    number = re.sub(r"[\s-]", "", number) if kind is PayoutKind.BANK_CARD else number.strip()
    pattern, rule = _NUMBER_RULES[kind]
    if not pattern.fullmatch(number):
        raise InvalidInput(rule, code="invalid_account_number", field="number")
    if kind is PayoutKind.BANK_CARD and not _luhn_valid(number):
        raise InvalidInput(
            "this bank card number has a typo", code="invalid_account_number", field="number"
        )
    count = session.scalar(
        select(func.count())
        .select_from(PayoutAccount)
        .where(PayoutAccount.user_id == user.id, PayoutAccount.deleted_at.is_(None))
    )
    if (count or 0) >= MAX_PAYOUT_ACCOUNTS:
        raise Conflict(f"at most {MAX_PAYOUT_ACCOUNTS} payout accounts", code="too_many_accounts")
    account = PayoutAccount(
        user_id=user.id,
        kind=kind,
        holder_name=holder_name,
        number_encrypted=encrypt_field(number),
        number_masked=mask_account_number(number),
    )
    session.add(account)
    session.flush()
    return account


def payout_accounts(session: Session, user: User) -> list[PayoutAccount]:
    return list(
        session.scalars(
            select(PayoutAccount)
            .where(PayoutAccount.user_id == user.id, PayoutAccount.deleted_at.is_(None))
            .order_by(PayoutAccount.id)
        )
    )


def delete_payout_account(session: Session, *, user: User, account_id: int, now: datetime) -> None:
    """Remove an account from the list; withdrawals already made to it keep pointing at it."""
    account = _own_account(session, user, account_id)
    account.deleted_at = now


def request_withdrawal(
    session: Session,
    *,
    user: User,
    account_id: int,
    amount: int,
    now: datetime,
    settings: TradeSettings,
) -> Withdrawal:
    """Ask for `amount` to be paid out; it moves from available to reserved at once, so it
    cannot be spent twice, whatever other withdrawals race with this one."""
    if get_settings().require_verification_to_withdraw and user.verified_at is None:
        raise PermissionDenied(
            "complete real-name verification before withdrawing", code="verification_required"
        )
    if amount < settings.withdrawal_min_fen:
        raise InvalidInput(
            f"withdraw at least {settings.withdrawal_min_fen} fen",
            code="amount_too_small",
            field="amount",
        )
    account = _own_account(session, user, account_id)
    withdrawal = Withdrawal(
        user_id=user.id,
        payout_account_id=account.id,
        amount=amount,
        status=WithdrawalStatus.REQUESTED,
        requested_at=now,
    )
    session.add(withdrawal)
    session.flush()
    ledger.post(
        session,
        key=f"withdrawal:{withdrawal.id}:request",
        kind="withdrawal_requested",
        withdrawal_id=withdrawal.id,
        lines=[(ledger.available(user.id), -amount), (ledger.reserved(user.id), amount)],
    )
    return withdrawal


def decide_withdrawal(
    session: Session,
    *,
    operator: User,
    withdrawal_id: int,
    paid: bool,
    transfer_reference: str | None,
    reason: str | None,
    now: datetime,
) -> Withdrawal:
    """An operator paid the money out by hand (with the transfer's reference), or refused
    (with a reason) and the money goes back to available."""
    withdrawal = session.get(
        Withdrawal, withdrawal_id, with_for_update=True, populate_existing=True
    )
    if withdrawal is None:
        raise NotFound("no such withdrawal", code="withdrawal_not_found")
    if withdrawal.status is not WithdrawalStatus.REQUESTED:
        raise Conflict(
            f"this withdrawal is {withdrawal.status.value} already",
            code="withdrawal_decided",
            status=withdrawal.status.value,
        )
    text = (transfer_reference if paid else reason) or ""
    if not 2 <= len(text.strip()) <= 100:
        field = "transfer_reference" if paid else "reason"
        raise InvalidInput(
            f"give the {field.replace('_', ' ')} (2 to 100 characters)",
            code="missing_field",
            field=field,
        )
    user_reserved = ledger.reserved(withdrawal.user_id)
    if paid:
        lines = [(user_reserved, -withdrawal.amount), (ledger.PAYOUTS, withdrawal.amount)]
        withdrawal.status = WithdrawalStatus.PAID
        withdrawal.transfer_reference = text.strip()
    else:
        lines = [
            (user_reserved, -withdrawal.amount),
            (ledger.available(withdrawal.user_id), withdrawal.amount),
        ]
        withdrawal.status = WithdrawalStatus.REJECTED
        withdrawal.rejection_reason = text.strip()
    ledger.post(
        session,
        key=f"withdrawal:{withdrawal.id}:decision",
        kind="withdrawal_paid" if paid else "withdrawal_rejected",
        withdrawal_id=withdrawal.id,
        lines=lines,
    )
    withdrawal.decided_by = operator.id
    withdrawal.decided_at = now
    session.flush()
    return withdrawal


def withdrawals_of(
    session: Session, user: User, *, page: int, page_size: int
) -> tuple[list[Withdrawal], int]:
    stmt = select(Withdrawal).where(Withdrawal.user_id == user.id).order_by(Withdrawal.id.desc())
    return fetch_page(session, stmt, page=page, page_size=page_size)


def all_withdrawals(
    session: Session, *, status: WithdrawalStatus | None, page: int, page_size: int
) -> tuple[list[Withdrawal], int]:
    """For operators: oldest requests first, so nobody waits longest."""
    stmt = select(Withdrawal).order_by(Withdrawal.id)
    if status is not None:
        stmt = stmt.where(Withdrawal.status == status)
    return fetch_page(session, stmt, page=page, page_size=page_size)


def accounts_of_withdrawals(
    session: Session, withdrawals: list[Withdrawal]
) -> dict[int, PayoutAccount]:
    """The payout accounts the withdrawals go to (deleted ones too), by id, in one query."""
    ids = {item.payout_account_id for item in withdrawals}
    if not ids:
        return {}
    return {
        account.id: account
        for account in session.scalars(select(PayoutAccount).where(PayoutAccount.id.in_(ids)))
    }


def mask_account_number(number: str) -> str:
    if "@" in number:
        name, domain = number.split("@", 1)
        return f"{name[:1]}***@{domain}"
    return f"{number[:3]}****{number[-4:]}" if len(number) > 8 else f"{number[:1]}****{number[-1:]}"


def _own_account(session: Session, user: User, account_id: int) -> PayoutAccount:
    account = session.get(PayoutAccount, account_id)
    if account is None or account.user_id != user.id or account.deleted_at is not None:
        raise NotFound("no such payout account", code="payout_account_not_found")
    return account


def _luhn_valid(number: str) -> bool:
    total = 0
    for index, digit in enumerate(reversed(number)):
        value = int(digit) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0
