from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from api.schemas.base import Input, Output
from catalog.wallet.models import PayoutAccount, PayoutKind, Withdrawal, WithdrawalStatus
from catalog.wallet.service import LedgerLine

Id = Annotated[int, Field(strict=True)]


class PayoutAccountIn(Input):
    kind: PayoutKind
    holder_name: Annotated[str, StringConstraints(min_length=2, max_length=40)]
    number: Annotated[str, StringConstraints(min_length=4, max_length=254)]


class PayoutAccountOut(Output):
    id: int
    kind: PayoutKind
    holder_name: str
    number_masked: str
    created_at: datetime

    @classmethod
    def of(cls, account: PayoutAccount) -> PayoutAccountOut:
        return cls.model_validate(account)


class WithdrawalIn(Input):
    payout_account_id: Id
    amount: Annotated[int, Field(strict=True, gt=0, description="fen")]


class WithdrawalOut(Output):
    id: int
    user_id: int
    payout_account_id: int
    amount: int
    status: WithdrawalStatus
    transfer_reference: str | None
    rejection_reason: str | None
    requested_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, withdrawal: Withdrawal) -> WithdrawalOut:
        return cls.model_validate(withdrawal)


class LedgerLineOut(Output):
    id: int
    account: str = Field(description="available or reserved")
    amount: int = Field(description="fen; positive adds to the account")
    kind: str
    order_id: int | None
    withdrawal_id: int | None
    at: datetime

    @classmethod
    def of(cls, line: LedgerLine) -> LedgerLineOut:
        return cls.model_validate(line)


class WalletOut(Output):
    available: int = Field(description="fen you may withdraw")
    escrow: int = Field(description="fen buyers paid for your open sales")
    reserved: int = Field(description="fen set aside for withdrawals not yet paid out")
    lines: list[LedgerLineOut]
    lines_total: int
    page: int
    page_size: int


class PayOutIn(Input):
    transfer_reference: Annotated[str, StringConstraints(min_length=2, max_length=100)]


class RejectWithdrawalIn(Input):
    reason: Annotated[str, StringConstraints(min_length=2, max_length=500)]


class StaffWithdrawalOut(WithdrawalOut):
    """A withdrawal as operators see it: with the account to pay, its number masked."""

    payout_account: PayoutAccountOut | None = Field(
        default=None, description="where the money goes (number masked)"
    )

    @classmethod
    def of_staff(cls, withdrawal: Withdrawal, account: PayoutAccount | None) -> StaffWithdrawalOut:
        return cls(
            **WithdrawalOut.of(withdrawal).model_dump(),
            payout_account=PayoutAccountOut.of(account) if account is not None else None,
        )
