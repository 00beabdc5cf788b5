from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from catalog.clock import utcnow
from catalog.db import Base, BigIntId, UtcDateTime, string_enum


class AccountKind(enum.StrEnum):
    # Outside money: paid in by buyers at the gateway (negative), returned as refunds.
    GATEWAY = "gateway"
    # What a buyer paid for one order, held until it is released or refunded.
    ESCROW = "escrow"
    # A seller's money they may withdraw.
    AVAILABLE = "available"
    # A seller's money set aside for withdrawals an operator has not paid out yet.
    RESERVED = "reserved"
    PLATFORM_FEES = "platform_fees"
    # Money sent out to sellers' own accounts.
    PAYOUTS = "payouts"
    # Payments that arrived for orders that no longer take them, until they are returned.
    STRAY_PAYMENTS = "stray_payments"


# Only the outside world's side may run negative; every other account going below zero
# would mean money created from nothing.
MAY_GO_NEGATIVE = frozenset({AccountKind.GATEWAY})
# The platform's own accounts: every payment, refund, fee and payout on the platform posts
# to them, so one balance row updated by each posting would make all of the platform's
# money wait in line for it. Their balance is the sum of their postings, read when asked.
# None can be overdrawn: the gateway is the outside world, fees and payouts only ever
# receive, and stray payments leave in the same transaction they arrive in.
SUMMED_ON_READ = frozenset(
    {
        AccountKind.GATEWAY,
        AccountKind.PLATFORM_FEES,
        AccountKind.PAYOUTS,
        AccountKind.STRAY_PAYMENTS,
    }
)
# Accounts of the platform itself have no owner; 0 stands for none so (kind, owner) is unique.
PLATFORM = 0


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (UniqueConstraint("kind", "owner_id", name="uq_ledger_accounts_kind_owner"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    kind: Mapped[AccountKind] = mapped_column(string_enum(AccountKind))
    # The user (available, reserved), the order (escrow) or PLATFORM.
    owner_id: Mapped[int] = mapped_column(BigInteger)
    may_go_negative: Mapped[bool] = mapped_column(Boolean, default=False)
    # The sum of the account's postings, kept in the same transaction as they are written
    # (always 0 for the platform's accounts, SUMMED_ON_READ).
    balance: Mapped[int] = mapped_column(BigInteger, default=0)


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    # What the money moved for, unique: the same payment or release can never post twice.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    withdrawal_id: Mapped[int | None] = mapped_column(ForeignKey("withdrawals.id"), index=True)
    memo: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LedgerPosting(Base):
    """One line of a transaction; positive adds to the account, negative takes from it."""

    __tablename__ = "ledger_postings"
    __table_args__ = (Index("ix_ledger_postings_account", "account_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
