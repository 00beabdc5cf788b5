"""Random sequences of everything buyers, sellers, operators, the gateway and the clock do
to orders and wallets, at the service level: whatever is refused, after every step the
ledger is sound, no seller's balance is below zero, and goods follow their orders."""

from __future__ import annotations

import sqlite3
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Literal, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog import schema
from catalog.db import make_engine, make_session_factory, unit_of_work
from catalog.errors import CatalogError
from catalog.goods.models import Goods, GoodsStatus
from catalog.ledger import service as ledger
from catalog.ledger.models import AccountKind, LedgerAccount, LedgerTransaction
from catalog.media.store import MediaStore
from catalog.seed.taxonomy import ensure_categories
from catalog.trade import invariants, payments, sandbox_gateway
from catalog.trade import service as trade
from catalog.trade.machine import FINISHED, TRANSITIONS
from catalog.trade.models import DisputeOutcome, Order, OrderStatus, Payment, PaymentStatus
from catalog.trade.settings import TradeSettings
from catalog.trade.sweeper import sweep_due_orders
from catalog.users.models import Role, User
from catalog.wallet import service as wallet
from catalog.wallet.models import PayoutKind, Withdrawal, WithdrawalStatus
from tests.catalog.test_videos import mp4_video
from tests.factories import make_user
from tests.trade.test_webhooks import listed_goods_rows

T = TypeVar("T")
Party = Literal["buyer", "seller"]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
PRICES = (15_00, 99_00, 1_999)
SELLERS = 2
BUYERS = 2
MINUTES_PER_DAY = 24 * 60
# Any jump up to eleven days, or one landing just past a deadline of the machine.
JUMPS = st.one_of(
    st.integers(min_value=1, max_value=11 * MINUTES_PER_DAY),
    st.sampled_from([31, 3 * 60 + 1, MINUTES_PER_DAY + 1, 72 * 60 + 1, 10 * MINUTES_PER_DAY + 1]),
)
# Picks one of the orders (or notifications, withdrawals) made so far, modulo how many.
PICK = st.integers(min_value=0, max_value=1_000)
PARTY = st.sampled_from(["buyer", "seller"])


@cache
def _video() -> bytes:
    return mp4_video(seconds=4)


class Trading(RuleBasedStateMachine):
    """Two sellers with three listed goods each, two buyers, an operator and a clock, on a
    fresh copy of the migrated database. Every step is its own unit of work, as in the API:
    a refused step leaves nothing behind."""

    def __init__(self, template: Path, folder: Path) -> None:
        super().__init__()
        self.folder = folder / uuid.uuid4().hex
        self.folder.mkdir()
        database = self.folder / "trade.db"
        with (
            closing(sqlite3.connect(template)) as source,
            closing(sqlite3.connect(database)) as copy,
        ):
            source.backup(copy)
        self.engine = make_engine(f"sqlite:///{database}")
        self.factory = make_session_factory(self.engine)
        self.store = MediaStore(self.folder / "media")
        self.now = T0
        self.settings = TradeSettings()
        self.orders: list[int] = []
        self.notifications: list[sandbox_gateway.Notification] = []
        self.first_outcome: dict[str, str] = {}
        self.withdrawals: list[int] = []
        with unit_of_work(self.factory) as session:
            sellers = [make_user(session, nickname="卖家", verified=True) for _ in range(SELLERS)]
            self.sellers = [seller.id for seller in sellers]
            self.buyers = [make_user(session, nickname="买家").id for _ in range(BUYERS)]
            self.operator = make_user(session, role=Role.OPERATOR, nickname="客服").id
            self.goods = [
                goods_id
                for seller in sellers
                for goods_id in listed_goods_rows(session, seller=seller, prices=PRICES)
            ]
            self.payout_accounts = {
                seller.id: wallet.add_payout_account(
                    session,
                    user=seller,
                    kind=PayoutKind.BANK_CARD,
                    holder_name="王小明",
                    number="6222 0212 3456 7890 128",
                ).id
                for seller in sellers
            }

    @initialize(policy=st.sampled_from(["refund", "accept"]))
    def video_policy(self, policy: Literal["refund", "accept"]) -> None:
        """What a buyer's silence about the video means: both policies are run."""
        self.settings = TradeSettings(unconfirmed_video_policy=policy)

    def teardown(self) -> None:
        self.engine.dispose()

    def _attempt(self, step: Callable[[Session], T]) -> T | None:
        """Run `step` in its own transaction; None if the services refused it."""
        try:
            with unit_of_work(self.factory) as session:
                return step(session)
        except CatalogError:
            return None

    def _ready(self, step: str) -> list[int]:
        """The orders in a state `step` applies to."""
        with unit_of_work(self.factory) as session:
            return list(
                session.scalars(
                    select(Order.id)
                    .where(Order.status.in_(TRANSITIONS[step].sources))
                    .order_by(Order.id)
                )
            )

    def _order(self, pick: int, step: str) -> int:
        """One of the orders `step` applies to, so sequences reach deep states; every
        fourth pick any order at all, so refusals are exercised too."""
        candidates = (self._ready(step) if pick % 4 else []) or self.orders
        return candidates[pick % len(candidates)]

    @staticmethod
    def _party(session: Session, order_id: int, party: Party) -> User:
        order = session.get_one(Order, order_id)
        return session.get_one(User, order.buyer_id if party == "buyer" else order.seller_id)

    def _tell(self, told: sandbox_gateway.Notification) -> None:
        outcome = self._attempt(
            lambda session: payments.apply_notification(
                session, notification=told, now=self.now, settings=self.settings
            )
        )
        assert outcome is not None, "a genuine notification is never refused"
        if told.ref in self.first_outcome:
            assert outcome == "duplicate", f"{told.ref} was {self.first_outcome[told.ref]}"
        else:
            assert outcome in ("applied", "returned")
            self.first_outcome[told.ref] = outcome

    # The steps, on one order; the rules below choose the order and the particulars.

    def _pay(self, order_id: int, tellings: int) -> None:
        """The buyer pays at the gateway; its notice comes now, twice, or later (tell)."""

        def step(session: Session) -> sandbox_gateway.Notification:
            buyer = self._party(session, order_id, "buyer")
            started = payments.start_payment(session, buyer=buyer, order_id=order_id, now=self.now)
            charge = sandbox_gateway.pay(session, ref=started.payment.gateway_ref, now=self.now)
            assert charge.notification is not None
            assert charge.signature is not None
            return sandbox_gateway.verify(charge.notification.encode(), charge.signature)

        told = self._attempt(step)
        if told is None:
            return
        self.notifications.append(told)
        for _ in range(tellings):
            self._tell(told)

    def _upload_video(self, order_id: int) -> None:
        self._attempt(
            lambda session: trade.upload_video(
                session,
                seller=self._party(session, order_id, "seller"),
                order_id=order_id,
                data=_video(),
                store=self.store,
                now=self.now,
                settings=self.settings,
            )
        )

    def _ship(self, order_id: int) -> None:
        self._attempt(
            lambda session: trade.ship(
                session,
                seller=self._party(session, order_id, "seller"),
                order_id=order_id,
                carrier="ZTO",
                tracking_number="ZT7300012345",
                now=self.now,
                settings=self.settings,
            )
        )

    def _act(self, order_id: int, party: Party, action: str) -> None:
        # Cancelling is one request for either side; the service picks the transition.
        step = trade.cancel if action in ("cancel", "seller_cancel") else None
        self._attempt(
            lambda session: (
                step(
                    session,
                    user=self._party(session, order_id, party),
                    order_id=order_id,
                    now=self.now,
                    settings=self.settings,
                )
                if step is not None
                else trade.act(
                    session,
                    user=self._party(session, order_id, party),
                    order_id=order_id,
                    action=action,
                    now=self.now,
                    settings=self.settings,
                )
            )
        )

    def _dispute(self, order_id: int, party: Party) -> None:
        self._attempt(
            lambda session: trade.open_dispute(
                session,
                user=self._party(session, order_id, party),
                order_id=order_id,
                reason="收到的东西有划痕",
                now=self.now,
                settings=self.settings,
            )
        )

    def _resolve(self, order_id: int, outcome: DisputeOutcome, share: int) -> None:
        """An operator decides; a partial refund gives back `share` percent of the price."""

        def step(session: Session) -> None:
            price = session.get_one(Order, order_id).price
            partial = outcome is DisputeOutcome.REFUND_PARTIAL
            trade.resolve_dispute(
                session,
                operator=session.get_one(User, self.operator),
                order_id=order_id,
                outcome=outcome,
                refund_amount=max(1, price * share // 100) if partial else None,
                note="按聊天记录处理",
                now=self.now,
                settings=self.settings,
            )

        self._attempt(step)

    @rule(pick=PICK, buyer=st.integers(0, BUYERS - 1))
    def place(self, pick: int, buyer: int) -> None:
        """A buyer orders goods: mostly listed ones; every fourth pick any goods at all."""
        with unit_of_work(self.factory) as session:
            listed = session.scalars(
                select(Goods.id).where(Goods.status == GoodsStatus.LISTED).order_by(Goods.id)
            ).all()
        candidates = (listed if pick % 4 else []) or self.goods
        goods_id = candidates[pick % len(candidates)]
        order = self._attempt(
            lambda session: (
                trade.place_order(
                    session,
                    buyer=session.get_one(User, self.buyers[buyer]),
                    goods_id=goods_id,
                    now=self.now,
                    settings=self.settings,
                ).id
            )
        )
        if order is not None:
            self.orders.append(order)

    @precondition(lambda self: self._ready("pay"))
    @rule(pick=PICK, tellings=st.integers(min_value=0, max_value=2))
    def pay(self, pick: int, tellings: int) -> None:
        self._pay(self._order(pick, "pay"), tellings)

    @precondition(lambda self: self.notifications)
    @rule(pick=PICK)
    def tell(self, pick: int) -> None:
        """A notification arrives (again, or late)."""
        self._tell(self.notifications[pick % len(self.notifications)])

    @precondition(lambda self: self._ready("upload_video"))
    @rule(pick=PICK)
    def upload_video(self, pick: int) -> None:
        self._upload_video(self._order(pick, "upload_video"))

    @precondition(lambda self: self._ready("confirm_video"))
    @rule(pick=PICK)
    def confirm_video(self, pick: int) -> None:
        self._act(self._order(pick, "confirm_video"), "buyer", "confirm_video")

    @precondition(lambda self: self._ready("ship"))
    @rule(pick=PICK)
    def ship(self, pick: int) -> None:
        self._ship(self._order(pick, "ship"))

    @precondition(lambda self: self._ready("mark_complete"))
    @rule(pick=PICK)
    def mark_complete(self, pick: int) -> None:
        self._act(self._order(pick, "mark_complete"), "seller", "mark_complete")

    @precondition(lambda self: self._ready("confirm_receipt"))
    @rule(pick=PICK)
    def confirm_receipt(self, pick: int) -> None:
        self._act(self._order(pick, "confirm_receipt"), "buyer", "confirm_receipt")

    @precondition(lambda self: self._ready("cancel"))
    @rule(pick=PICK, party=PARTY)
    def cancel(self, pick: int, party: Party) -> None:
        self._act(self._order(pick, "cancel"), party, "cancel")

    @precondition(lambda self: self._ready("seller_cancel"))
    @rule(pick=PICK)
    def seller_cancel(self, pick: int) -> None:
        self._act(self._order(pick, "seller_cancel"), "seller", "seller_cancel")

    @precondition(lambda self: self._ready("dispute"))
    @rule(pick=PICK, party=PARTY)
    def dispute(self, pick: int, party: Party) -> None:
        self._dispute(self._order(pick, "dispute"), party)

    @precondition(lambda self: self._ready("resolve_release"))
    @rule(pick=PICK, outcome=st.sampled_from(DisputeOutcome), share=st.integers(1, 99))
    def resolve(self, pick: int, outcome: DisputeOutcome, share: int) -> None:
        self._resolve(self._order(pick, "resolve_release"), outcome, share)

    @precondition(lambda self: self.orders)
    @rule(pick=PICK, share=st.integers(1, 99))
    def moves_on(self, pick: int, share: int) -> None:
        """An open order takes its usual next step (paid and told at once, the video, the
        confirmation, shipping, receipt, a partial refund): without it, few random
        sequences would get far enough to release money and withdraw it."""
        with unit_of_work(self.factory) as session:
            open_orders = list(
                session.execute(
                    select(Order.id, Order.status)
                    .where(Order.status.not_in(FINISHED))
                    .order_by(Order.id)
                )
            )
        if not open_orders:
            return
        order_id, status = open_orders[pick % len(open_orders)]
        if status is OrderStatus.AWAITING_PAYMENT:
            self._pay(order_id, tellings=1)
        elif status is OrderStatus.PAID:
            self._upload_video(order_id)
        elif status is OrderStatus.VIDEO_UPLOADED:
            self._act(order_id, "buyer", "confirm_video")
        elif status is OrderStatus.VIDEO_CONFIRMED:
            self._ship(order_id)
        elif status is OrderStatus.DISPUTED:
            self._resolve(order_id, DisputeOutcome.REFUND_PARTIAL, share)
        else:
            self._act(order_id, "buyer", "confirm_receipt")

    def _someone_has_money(self) -> bool:
        with unit_of_work(self.factory) as session:
            balances = ledger.balances(session, [ledger.available(s) for s in self.sellers])
        return any(balances.values())

    @precondition(_someone_has_money)
    @rule(seller=st.integers(0, SELLERS - 1), amount=st.integers(min_value=1, max_value=120_00))
    def withdraw(self, seller: int, amount: int) -> None:
        seller_id = self.sellers[seller]
        withdrawal = self._attempt(
            lambda session: (
                wallet.request_withdrawal(
                    session,
                    user=session.get_one(User, seller_id),
                    account_id=self.payout_accounts[seller_id],
                    amount=amount,
                    now=self.now,
                    settings=self.settings,
                ).id
            )
        )
        if withdrawal is not None:
            self.withdrawals.append(withdrawal)

    @precondition(lambda self: self.withdrawals)
    @rule(pick=PICK, paid=st.booleans())
    def decide_withdrawal(self, pick: int, paid: bool) -> None:
        withdrawal_id = self.withdrawals[pick % len(self.withdrawals)]
        self._attempt(
            lambda session: wallet.decide_withdrawal(
                session,
                operator=session.get_one(User, self.operator),
                withdrawal_id=withdrawal_id,
                paid=paid,
                transfer_reference="BANK20261123001" if paid else None,
                reason=None if paid else "开户名与实名不符",
                now=self.now,
            )
        )

    @rule(minutes=JUMPS)
    def time_passes(self, minutes: int) -> None:
        """The clock jumps, then the sweeper comes round."""
        self.now += timedelta(minutes=minutes)
        with unit_of_work(self.factory) as session:
            sweep_due_orders(session, now=self.now, settings=self.settings)
            assert session.scalar(select(func.count()).where(Order.due_at <= self.now)) == 0

    @invariant()
    def ledger_is_sound(self) -> None:
        with unit_of_work(self.factory) as session:
            assert invariants.violations(session) == []
            below_zero = session.execute(
                select(LedgerAccount.kind, LedgerAccount.owner_id, LedgerAccount.balance).where(
                    LedgerAccount.kind.in_([AccountKind.AVAILABLE, AccountKind.RESERVED]),
                    LedgerAccount.balance < 0,
                )
            ).all()
            assert below_zero == []

    @invariant()
    def withdrawals_match_reserved_and_paid_out(self) -> None:
        with unit_of_work(self.factory) as session:
            owed = dict.fromkeys(self.sellers, 0)
            paid_out = 0
            for user_id, amount, status in session.execute(
                select(Withdrawal.user_id, Withdrawal.amount, Withdrawal.status)
            ):
                if status is WithdrawalStatus.REQUESTED:
                    owed[user_id] += amount
                elif status is WithdrawalStatus.PAID:
                    paid_out += amount
            for seller_id, amount in owed.items():
                assert ledger.balance(session, ledger.reserved(seller_id)) == amount
            assert ledger.balance(session, ledger.PAYOUTS) == paid_out

    @invariant()
    def goods_and_payments_follow_their_orders(self) -> None:
        with unit_of_work(self.factory) as session:
            orders = session.execute(select(Order.id, Order.goods_id, Order.status)).all()
            open_goods = [o.goods_id for o in orders if o.status not in FINISHED]
            sold_goods = {o.goods_id for o in orders if o.status is OrderStatus.COMPLETED}
            assert len(open_goods) == len(set(open_goods)), "goods in two open orders"
            for goods_id, status in session.execute(select(Goods.id, Goods.status)):
                assert (status is GoodsStatus.RESERVED) == (goods_id in open_goods)
                assert (status is GoodsStatus.SOLD) == (goods_id in sold_goods)
            succeeded = Counter(
                session.scalars(
                    select(Payment.order_id).where(Payment.status == PaymentStatus.SUCCEEDED)
                )
            )
            taken = Counter(
                session.scalars(
                    select(LedgerTransaction.order_id).where(LedgerTransaction.kind == "payment")
                )
            )
            # Each payment the gateway confirmed is in one order's escrow, once.
            assert succeeded == taken
            assert set(taken.values()) <= {1}, "an order paid twice"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with the category tree, copied for every example."""
    path = tmp_path_factory.mktemp("stateful") / "template.db"
    url = f"sqlite:///{path}"
    schema.upgrade(url)
    engine = make_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        ensure_categories(session)
    engine.dispose()
    return path


def test_random_trading_keeps_the_ledger_sound(template: Path, tmp_path: Path) -> None:
    run_state_machine_as_test(
        # Any factory of machines will do (Hypothesis's documentation); its stub wants a class.
        lambda: Trading(template, tmp_path),  # type: ignore[arg-type]
        settings=settings(
            max_examples=30,
            stateful_step_count=50,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
