"""Posting money: each transaction's lines sum to zero and are written with the balances
they change, in the caller's database transaction, so money moves whole or not at all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from catalog.clock import utcnow
from catalog.db import on_postgres
from catalog.errors import Conflict
from catalog.ledger.models import (
    MAY_GO_NEGATIVE,
    PLATFORM,
    SUMMED_ON_READ,
    AccountKind,
    LedgerAccount,
    LedgerPosting,
    LedgerTransaction,
)


@dataclass(frozen=True, order=True)
class Account:
    kind: AccountKind
    owner_id: int = PLATFORM


GATEWAY = Account(AccountKind.GATEWAY)
PLATFORM_FEES = Account(AccountKind.PLATFORM_FEES)
PAYOUTS = Account(AccountKind.PAYOUTS)
STRAY_PAYMENTS = Account(AccountKind.STRAY_PAYMENTS)


def escrow(order_id: int) -> Account:
    return Account(AccountKind.ESCROW, order_id)


def available(user_id: int) -> Account:
    return Account(AccountKind.AVAILABLE, user_id)


def reserved(user_id: int) -> Account:
    return Account(AccountKind.RESERVED, user_id)


class InsufficientFunds(Conflict):
    code = "insufficient_funds"


def post(
    session: Session,
    *,
    key: str,
    kind: str,
    lines: Sequence[tuple[Account, int]],
    order_id: int | None = None,
    withdrawal_id: int | None = None,
    memo: str = "",
) -> int:
    """Write one balanced transaction and return its id. `key` names what it is for and is
    unique, so the same movement can never be posted twice; an account that may not go
    negative refuses.
    A caller posting several times in one database transaction locks its accounts first
    (lock_accounts)."""
    lines = [(account, amount) for account, amount in lines if amount != 0]
    if sum(amount for _, amount in lines) != 0:
        raise ValueError(f"unbalanced ledger transaction {key}: {lines}")
    # A Core INSERT: the ORM's flush of a new object cost more than the statement.
    transaction_id = session.scalars(
        insert(LedgerTransaction).returning(LedgerTransaction.id),
        [
            {
                "key": key,
                "kind": kind,
                "order_id": order_id,
                "withdrawal_id": withdrawal_id,
                "memo": memo,
                "created_at": utcnow(),
            }
        ],
    ).one()
    ids = account_ids(session, [account for account, _ in lines])
    # Balances change in account-id order, so two transactions touching the same accounts
    # lock them in the same order and cannot deadlock.
    for account, amount in sorted(lines, key=lambda line: ids[line[0]]):
        if account.kind in SUMMED_ON_READ:
            continue
        changed = session.execute(
            update(LedgerAccount)
            .where(LedgerAccount.id == ids[account])
            .where(LedgerAccount.may_go_negative | (LedgerAccount.balance + amount >= 0))
            .values(balance=LedgerAccount.balance + amount)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise InsufficientFunds(
                "not enough money in the account for this", account=account.kind.value
            )
    session.execute(
        insert(LedgerPosting),
        [
            {"transaction_id": transaction_id, "account_id": ids[account], "amount": amount}
            for account, amount in lines
        ],
    )
    return transaction_id


@dataclass(frozen=True)
class Entry:
    """One balanced transaction to post among many (post_many)."""

    key: str
    kind: str
    lines: tuple[tuple[Account, int], ...]
    order_id: int | None = None


def post_many(session: Session, entries: Sequence[Entry], *, now: datetime) -> None:
    """Many balanced transactions in a few statements (a sweeper's batch of refunds), with
    the same rules as `post`: each sums to zero, each key posts once, and no account that
    may not go negative does. The accounts are locked in id order, then checked."""
    if not entries:
        return
    for entry in entries:
        if sum(amount for _, amount in entry.lines) != 0:
            raise ValueError(f"unbalanced ledger transaction {entry.key}: {entry.lines}")
    ids = account_ids(session, [account for entry in entries for account, _ in entry.lines])
    deltas: dict[int, int] = {}
    for entry in entries:
        for account, amount in entry.lines:
            if account.kind not in SUMMED_ON_READ:
                deltas[ids[account]] = deltas.get(ids[account], 0) + amount
    if deltas:
        held = session.execute(
            select(
                LedgerAccount.id,
                LedgerAccount.kind,
                LedgerAccount.balance,
                LedgerAccount.may_go_negative,
            )
            .where(LedgerAccount.id.in_(deltas))
            .order_by(LedgerAccount.id)
            .with_for_update()
        ).all()
        for account_id, kind, held_balance, may_go_negative in held:
            if not may_go_negative and held_balance + deltas[account_id] < 0:
                raise InsufficientFunds(
                    "not enough money in the account for this", account=str(kind)
                )
        session.execute(
            update(LedgerAccount)
            .where(LedgerAccount.id.in_(deltas))
            .values(balance=LedgerAccount.balance + case(deltas, value=LedgerAccount.id, else_=0))
            .execution_options(synchronize_session=False)
        )
    transaction_ids = session.scalars(
        insert(LedgerTransaction).returning(LedgerTransaction.id, sort_by_parameter_order=True),
        [
            {
                "key": entry.key,
                "kind": entry.kind,
                "order_id": entry.order_id,
                "withdrawal_id": None,
                "memo": "",
                "created_at": now,
            }
            for entry in entries
        ],
    ).all()
    session.execute(
        insert(LedgerPosting),
        [
            {"transaction_id": transaction_id, "account_id": ids[account], "amount": amount}
            for transaction_id, entry in zip(transaction_ids, entries, strict=True)
            for account, amount in entry.lines
            if amount != 0
        ],
    )


def lock_accounts(session: Session, accounts: Sequence[Account]) -> None:
    """Open and lock `accounts` in id order, for a transaction about to post several
    times (a sweeper's batch): its later postings then wait for nobody, so two such
    transactions cannot take shared accounts in opposite orders and deadlock."""
    ids = account_ids(session, accounts)
    session.execute(
        select(LedgerAccount.id)
        .where(LedgerAccount.id.in_(ids.values()))
        .order_by(LedgerAccount.id)
        .with_for_update()
    )


def account_ids(session: Session, accounts: Sequence[Account]) -> dict[Account, int]:
    """The ids of `accounts`, opening the ones that do not exist yet (safely under races)."""
    wanted = sorted(set(accounts))
    found_ids = _find_accounts(session, wanted)
    missing = [account for account in wanted if account not in found_ids]
    if not missing:
        return found_ids
    rows = [
        {
            "kind": account.kind.value,
            "owner_id": account.owner_id,
            "may_go_negative": account.kind in MAY_GO_NEGATIVE,
            "balance": 0,
        }
        for account in missing
    ]
    upsert = pg_insert if on_postgres(session) else sqlite_insert
    opened = session.execute(
        upsert(LedgerAccount)
        .on_conflict_do_nothing(index_elements=["kind", "owner_id"])
        .returning(LedgerAccount.kind, LedgerAccount.owner_id, LedgerAccount.id),
        rows,
    )
    found_ids.update({Account(AccountKind(kind), owner): id_ for kind, owner, id_ in opened})
    if len(found_ids) == len(wanted):
        return found_ids
    # Another transaction opened some of them meanwhile: theirs are not returned.
    return _find_accounts(session, wanted)


def _find_accounts(session: Session, wanted: Sequence[Account]) -> dict[Account, int]:
    found = session.execute(
        select(LedgerAccount.kind, LedgerAccount.owner_id, LedgerAccount.id).where(
            tuple_(LedgerAccount.kind, LedgerAccount.owner_id).in_(
                [(account.kind.value, account.owner_id) for account in wanted]
            )
        )
    )
    return {Account(AccountKind(kind), owner): id_ for kind, owner, id_ in found}


def balance(session: Session, account: Account) -> int:
    return balances(session, [account])[account]


def balances(session: Session, accounts: Sequence[Account]) -> dict[Account, int]:
    """Balances of `accounts` (0 for accounts never used); the platform's accounts are
    summed from their postings."""
    result = dict.fromkeys(accounts, 0)
    stored = [account for account in accounts if account.kind not in SUMMED_ON_READ]
    summed = [account for account in accounts if account.kind in SUMMED_ON_READ]
    if stored:
        for kind, owner, amount in session.execute(
            select(LedgerAccount.kind, LedgerAccount.owner_id, LedgerAccount.balance).where(
                tuple_(LedgerAccount.kind, LedgerAccount.owner_id).in_(
                    [(account.kind.value, account.owner_id) for account in stored]
                )
            )
        ):
            result[Account(AccountKind(kind), owner)] = int(amount)
    for account in summed:
        total = session.scalar(
            select(func.coalesce(func.sum(LedgerPosting.amount), 0))
            .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
            .where(LedgerAccount.kind == account.kind, LedgerAccount.owner_id == account.owner_id)
        )
        result[account] = int(total or 0)
    return result


def violations(session: Session) -> list[str]:
    """Broken ledger invariants (none in a healthy ledger): unbalanced transactions,
    balances that disagree with their postings, accounts below zero that may not be."""
    found: list[str] = []
    unbalanced = session.execute(
        select(LedgerPosting.transaction_id, func.sum(LedgerPosting.amount))
        .group_by(LedgerPosting.transaction_id)
        .having(func.sum(LedgerPosting.amount) != 0)
    ).all()
    found += [f"transaction {tid} sums to {total}" for tid, total in unbalanced]
    posted = (
        select(LedgerPosting.account_id, func.sum(LedgerPosting.amount).label("total"))
        .group_by(LedgerPosting.account_id)
        .subquery()
    )
    drift = session.execute(
        select(LedgerAccount.id, LedgerAccount.balance, posted.c.total)
        .outerjoin(posted, posted.c.account_id == LedgerAccount.id)
        .where(
            LedgerAccount.kind.not_in(SUMMED_ON_READ),
            LedgerAccount.balance != func.coalesce(posted.c.total, 0),
        )
    ).all()
    found += [f"account {aid} holds {bal} but its postings sum to {tot}" for aid, bal, tot in drift]
    negative = session.execute(
        select(LedgerAccount.id, LedgerAccount.kind, func.coalesce(posted.c.total, 0))
        .outerjoin(posted, posted.c.account_id == LedgerAccount.id)
        .where(func.coalesce(posted.c.total, 0) < 0, LedgerAccount.may_go_negative.is_(False))
    ).all()
    found += [f"{kind} account {aid} is below zero: {bal}" for aid, kind, bal in negative]
    return found
