"""Races between real PostgreSQL connections that commit: many hands on one order at its
deadline, withdrawals racing for one balance, one payment told ten times at once, and the
sweeper against a payment arriving late. Exactly one thing happens, and the money agrees."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, event, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import make_engine, make_session_factory, unit_of_work
from catalog.goods.models import Goods, GoodsStatus
from catalog.ledger import service as ledger
from catalog.ledger.models import (
    PLATFORM,
    AccountKind,
    LedgerAccount,
    LedgerPosting,
    LedgerTransaction,
)
from catalog.media.store import MediaStore
from catalog.notifications.models import Notification
from catalog.outbox.models import OutboxEvent
from catalog.outbox.service import GOODS_TOPIC
from catalog.trade import invariants, money, payments, sandbox_gateway
from catalog.trade import service as trade
from catalog.trade.models import (
    Actor,
    Dispute,
    Order,
    OrderStatus,
    OrderTransition,
    Payment,
    PaymentStatus,
    Rating,
    SandboxCharge,
)
from catalog.trade.settings import TradeSettings
from catalog.trade.sweeper import sweep_due_orders
from catalog.users.models import User
from catalog.wallet import service as wallet
from catalog.wallet.models import PayoutAccount, PayoutKind, Withdrawal
from tests.catalog.test_videos import mp4_video
from tests.factories import make_user
from tests.races import race
from tests.trade.test_webhooks import listed_goods_rows

pytestmark = pytest.mark.postgres

MARK = "并发交易测试"
SETTINGS = TradeSettings()
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
PRICE = 1_288_00
HANDS = 50
WITHDRAWALS = 20
WITHDRAWAL = 150_00
TELLINGS = 10
LATE_ROUNDS = 6
# The steps the parties race with that can succeed from shipped or from what follows it.
PARTY_STEPS = {"confirm_receipt", "mark_complete", "dispute"}


@pytest.fixture
def committed(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions on their own connections that really commit, so racing threads see each
    other; every row made by users marked MARK is removed afterwards."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the races need PostgreSQL's row locks; SQLite serialises writers")
    # Enough connections for every thread of the widest race to hold one at once.
    racing = make_engine(
        engine.url.render_as_string(hide_password=False), pool_size=5, max_overflow=HANDS
    )
    factory = make_session_factory(racing)
    yield factory
    with unit_of_work(factory) as session:
        _remove_marked_rows(session)
    racing.dispose()


def _remove_marked_rows(session: Session) -> None:
    users = select(User.id).where(User.nickname == MARK)
    orders = select(Order.id).where(or_(Order.buyer_id.in_(users), Order.seller_id.in_(users)))
    withdrawals = select(Withdrawal.id).where(Withdrawal.user_id.in_(users))
    transactions = select(LedgerTransaction.id).where(
        or_(
            LedgerTransaction.order_id.in_(orders),
            LedgerTransaction.withdrawal_id.in_(withdrawals),
            LedgerTransaction.key.like(f"{MARK}:%"),
        )
    )
    session.execute(delete(LedgerPosting).where(LedgerPosting.transaction_id.in_(transactions)))
    session.execute(delete(LedgerTransaction).where(LedgerTransaction.id.in_(transactions)))
    session.execute(
        delete(LedgerAccount).where(
            or_(
                (LedgerAccount.kind == AccountKind.ESCROW) & LedgerAccount.owner_id.in_(orders),
                LedgerAccount.kind.in_([AccountKind.AVAILABLE, AccountKind.RESERVED])
                & LedgerAccount.owner_id.in_(users),
            )
        )
    )
    # The platform's accounts took part in our transactions: back to what is left posted.
    posted = (
        select(func.coalesce(func.sum(LedgerPosting.amount), 0))
        .where(LedgerPosting.account_id == LedgerAccount.id)
        .scalar_subquery()
    )
    session.execute(
        update(LedgerAccount).where(LedgerAccount.owner_id == PLATFORM).values(balance=posted)
    )
    refs = select(Payment.gateway_ref).where(Payment.order_id.in_(orders))
    session.execute(delete(SandboxCharge).where(SandboxCharge.ref.in_(refs)))
    for table in (Payment, OrderTransition, Dispute, Rating):
        session.execute(delete(table).where(table.order_id.in_(orders)))
    session.execute(delete(Notification).where(Notification.user_id.in_(users)))
    session.execute(delete(Withdrawal).where(Withdrawal.user_id.in_(users)))
    session.execute(delete(PayoutAccount).where(PayoutAccount.user_id.in_(users)))
    goods = select(Goods.id).where(Goods.seller_id.in_(users))
    session.execute(delete(Order).where(Order.id.in_(orders)))
    session.execute(
        delete(OutboxEvent).where(
            OutboxEvent.topic == GOODS_TOPIC, OutboxEvent.entity_id.in_(goods)
        )
    )
    session.execute(delete(Goods).where(Goods.id.in_(goods)))
    session.execute(delete(User).where(User.nickname == MARK))


def _user(session: Session, *, verified: bool = False) -> User:
    return make_user(
        session, nickname=MARK, email=f"race-{uuid.uuid4().hex[:16]}@example.com", verified=verified
    )


@dataclass(frozen=True)
class Deal:
    order_id: int
    goods_id: int
    buyer_id: int
    seller_id: int


def _placed(session: Session, *, now: datetime) -> Deal:
    seller = _user(session, verified=True)
    buyer = _user(session)
    [goods_id] = listed_goods_rows(session, seller=seller, prices=[PRICE], title=f"{MARK} 相机")
    order = trade.place_order(session, buyer=buyer, goods_id=goods_id, now=now, settings=SETTINGS)
    return Deal(order.id, goods_id, buyer.id, seller.id)


def _paid_at_sandbox(
    session: Session, deal: Deal, *, now: datetime
) -> sandbox_gateway.Notification:
    """The buyer paid at the gateway; returns the notification it owes our webhook."""
    buyer = session.get_one(User, deal.buyer_id)
    started = payments.start_payment(session, buyer=buyer, order_id=deal.order_id, now=now)
    charge = sandbox_gateway.pay(session, ref=started.payment.gateway_ref, now=now)
    assert charge.notification is not None
    assert charge.signature is not None
    return sandbox_gateway.verify(charge.notification.encode(), charge.signature)


def _paid(session: Session, *, now: datetime) -> Deal:
    """An order placed, paid at the gateway and told to our webhook, all at `now`."""
    deal = _placed(session, now=now)
    notification = _paid_at_sandbox(session, deal, now=now)
    told = payments.apply_notification(
        session, notification=notification, now=now, settings=SETTINGS
    )
    assert told == "applied"
    return deal


def _shipped(factory: sessionmaker[Session], store: MediaStore, *, start: datetime = T0) -> Deal:
    """An order taken through every step to shipped by the services, a minute apart from
    `start`: it ships at start + 4 minutes."""
    with unit_of_work(factory) as session:
        deal = _paid(session, now=start)
        buyer = session.get_one(User, deal.buyer_id)
        seller = session.get_one(User, deal.seller_id)
        trade.upload_video(
            session,
            seller=seller,
            order_id=deal.order_id,
            data=mp4_video(seconds=4),
            store=store,
            now=start + timedelta(minutes=2),
            settings=SETTINGS,
        )
        trade.act(
            session,
            user=buyer,
            order_id=deal.order_id,
            action="confirm_video",
            now=start + timedelta(minutes=3),
            settings=SETTINGS,
        )
        trade.ship(
            session,
            seller=seller,
            order_id=deal.order_id,
            carrier="SF",
            tracking_number="SF1234567890",
            now=start + timedelta(minutes=4),
            settings=SETTINGS,
        )
    return deal


def _escrow(session: Session, order_id: int) -> int:
    return ledger.balance(session, ledger.escrow(order_id))


def _ledger_kinds(session: Session, order_id: int) -> list[str]:
    return list(
        session.scalars(
            select(LedgerTransaction.kind)
            .where(LedgerTransaction.order_id == order_id)
            .order_by(LedgerTransaction.id)
        )
    )


def test_fifty_hands_on_one_order_at_its_deadline_move_it_once_from_shipped(
    committed: sessionmaker[Session], tmp_path: Path
) -> None:
    deal = _shipped(committed, MediaStore(tmp_path))
    with unit_of_work(committed) as session:
        due = session.get_one(Order, deal.order_id).due_at
    assert due is not None
    # The parties act in the last second before the deadline; the sweeper a second after.
    before, after = due - timedelta(seconds=1), due + timedelta(seconds=1)

    def party(user_id: int, action: str) -> Callable[[], str]:
        def call() -> str:
            with unit_of_work(committed) as session:
                user = session.get_one(User, user_id)
                if action == "dispute":
                    trade.open_dispute(
                        session,
                        user=user,
                        order_id=deal.order_id,
                        reason="东西和描述不符",
                        now=before,
                        settings=SETTINGS,
                    )
                elif action == "cancel":
                    trade.cancel(
                        session, user=user, order_id=deal.order_id, now=before, settings=SETTINGS
                    )
                else:
                    trade.act(
                        session,
                        user=user,
                        order_id=deal.order_id,
                        action=action,
                        now=before,
                        settings=SETTINGS,
                    )
            return action

        return call

    def sweeper() -> str:
        with unit_of_work(committed) as session:
            swept = sweep_due_orders(session, now=after, settings=SETTINGS)
        return f"swept {swept}"

    hands = [
        party(deal.buyer_id, "confirm_receipt"),
        party(deal.seller_id, "mark_complete"),
        party(deal.buyer_id, "dispute"),
        sweeper,
        party(deal.buyer_id, "cancel"),
    ]
    outcomes, unexpected = race([hands[index % len(hands)] for index in range(HANDS)])

    assert unexpected == []
    assert len(outcomes) == HANDS
    assert outcomes.count("cancel") == 0
    with unit_of_work(committed) as session:
        order = session.get_one(Order, deal.order_id)
        timeline = list(
            session.scalars(
                select(OrderTransition)
                .where(OrderTransition.order_id == deal.order_id)
                .order_by(OrderTransition.id)
            )
        )
        names = [step.name for step in timeline]
        assert names[:5] == ["place", "pay", "upload_video", "confirm_video", "ship"]
        raced = timeline[5:]
        # Exactly one step left shipped, and each later step started where the last ended.
        assert [step.from_status for step in raced].count(OrderStatus.SHIPPED) == 1
        assert raced[0].from_status is OrderStatus.SHIPPED
        assert all(b.from_status is a.to_status for a, b in itertools.pairwise(raced))
        assert raced[-1].to_status is order.status
        # Every success is on the timeline; everything else was refused for the state.
        successes = Counter(outcome for outcome in outcomes if outcome in PARTY_STEPS)
        assert successes == Counter(step.name for step in raced if step.actor is not Actor.SYSTEM)
        swept = sum(int(outcome.split()[1]) for outcome in outcomes if outcome.startswith("swept"))
        assert swept == names.count("auto_complete") <= 1
        refusals = [o for o in outcomes if o not in PARTY_STEPS and not o.startswith("swept")]
        assert set(refusals) <= {"invalid_order_state"}

        settlements = [kind for kind in _ledger_kinds(session, deal.order_id) if kind != "payment"]
        goods = session.get_one(Goods, deal.goods_id)
        if order.status is OrderStatus.COMPLETED:
            assert settlements == ["release"]
            assert (
                session.scalar(
                    select(func.count()).where(
                        LedgerTransaction.key == money.settlement_key(deal.order_id)
                    )
                )
                == 1
            )
            assert _escrow(session, deal.order_id) == 0
            fee = money.commission(PRICE, order.commission_rate_bp)
            assert ledger.balance(session, ledger.available(deal.seller_id)) == PRICE - fee
            assert goods.status is GoodsStatus.SOLD
        else:
            assert order.status in {OrderStatus.DISPUTED, OrderStatus.SELLER_COMPLETED}
            assert settlements == []
            assert _escrow(session, deal.order_id) == PRICE
            assert goods.status is GoodsStatus.RESERVED
        assert invariants.violations(session) == []


def test_twenty_withdrawals_racing_for_ten_withdrawals_worth_reserve_exactly_ten(
    committed: sessionmaker[Session],
) -> None:
    with unit_of_work(committed) as session:
        seller = _user(session, verified=True)
        account = wallet.add_payout_account(
            session, user=seller, kind=PayoutKind.ALIPAY, holder_name="张三", number="13800138000"
        )
        ledger.post(
            session,
            key=f"{MARK}:credit:{seller.id}",
            kind="test_credit",
            lines=[
                (ledger.GATEWAY, -10 * WITHDRAWAL),
                (ledger.available(seller.id), 10 * WITHDRAWAL),
            ],
        )
        seller_id, account_id = seller.id, account.id

    def withdraw() -> str:
        with unit_of_work(committed) as session:
            wallet.request_withdrawal(
                session,
                user=session.get_one(User, seller_id),
                account_id=account_id,
                amount=WITHDRAWAL,
                now=T0,
                settings=SETTINGS,
            )
        return "requested"

    lowest: list[int] = []
    done = threading.Event()

    def watch() -> None:
        # Reads the committed balance all through the race: it must never dip below zero.
        with unit_of_work(committed) as session:
            while not done.is_set():
                lowest.append(ledger.balance(session, ledger.available(seller_id)))
                session.commit()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        outcomes, unexpected = race([withdraw] * WITHDRAWALS)
    finally:
        done.set()
        watcher.join(timeout=30)

    assert unexpected == []
    assert Counter(outcomes) == {"requested": 10, "insufficient_funds": WITHDRAWALS - 10}
    assert lowest
    assert min(lowest) >= 0
    with unit_of_work(committed) as session:
        assert ledger.balance(session, ledger.available(seller_id)) == 0
        assert ledger.balance(session, ledger.reserved(seller_id)) == 10 * WITHDRAWAL
        amounts = session.scalars(
            select(Withdrawal.amount).where(Withdrawal.user_id == seller_id)
        ).all()
        assert amounts == [WITHDRAWAL] * 10
        assert invariants.violations(session) == []


def test_one_payment_told_ten_times_at_once_is_applied_once(
    committed: sessionmaker[Session],
) -> None:
    with unit_of_work(committed) as session:
        deal = _placed(session, now=T0)
        notification = _paid_at_sandbox(session, deal, now=T0)

    def tell() -> str:
        with unit_of_work(committed) as session:
            return payments.apply_notification(
                session,
                notification=notification,
                now=T0 + timedelta(minutes=1),
                settings=SETTINGS,
            )

    outcomes, unexpected = race([tell] * TELLINGS)

    assert unexpected == []
    assert Counter(outcomes) == {"applied": 1, "duplicate": TELLINGS - 1}
    with unit_of_work(committed) as session:
        assert session.get_one(Order, deal.order_id).status is OrderStatus.PAID
        assert _escrow(session, deal.order_id) == PRICE
        assert _ledger_kinds(session, deal.order_id) == ["payment"]
        payment = session.scalars(select(Payment).where(Payment.order_id == deal.order_id)).one()
        assert payment.status is PaymentStatus.SUCCEEDED
        assert invariants.violations(session) == []


def test_sweeper_racing_a_late_payment_either_expires_and_returns_it_or_keeps_it(
    committed: sessionmaker[Session],
) -> None:
    seen: Counter[str] = Counter()
    for _ in range(LATE_ROUNDS):
        with unit_of_work(committed) as session:
            deal = _placed(session, now=T0)
            due = session.get_one(Order, deal.order_id).due_at
            assert due is not None
            # The shopper paid in the last minute; the notice comes after the deadline.
            notification = _paid_at_sandbox(session, deal, now=due - timedelta(minutes=1))
        late = due + timedelta(minutes=1)

        def sweep(when: datetime = late) -> str:
            with unit_of_work(committed) as session:
                sweep_due_orders(session, now=when, settings=SETTINGS)
            return "swept"

        def tell(told: sandbox_gateway.Notification = notification, when: datetime = late) -> str:
            with unit_of_work(committed) as session:
                return payments.apply_notification(
                    session, notification=told, now=when, settings=SETTINGS
                )

        outcomes, unexpected = race([sweep, tell])

        assert unexpected == []
        assert sorted(outcomes) in (["applied", "swept"], ["returned", "swept"])
        with unit_of_work(committed) as session:
            order = session.get_one(Order, deal.order_id)
            payment = session.scalars(
                select(Payment).where(Payment.order_id == deal.order_id)
            ).one()
            goods = session.get_one(Goods, deal.goods_id)
            kinds = _ledger_kinds(session, deal.order_id)
            names = session.scalars(
                select(OrderTransition.name)
                .where(OrderTransition.order_id == deal.order_id)
                .order_by(OrderTransition.id)
            ).all()
            if "applied" in outcomes:
                assert (order.status, payment.status) == (OrderStatus.PAID, PaymentStatus.SUCCEEDED)
                assert names == ["place", "pay"]
                assert kinds == ["payment"]
                assert _escrow(session, deal.order_id) == PRICE
                assert goods.status is GoodsStatus.RESERVED
            else:
                assert (order.status, payment.status) == (
                    OrderStatus.CANCELLED,
                    PaymentStatus.RETURNED,
                )
                assert names == ["place", "expire"]
                assert kinds == ["stray_payment", "stray_payment_returned"]
                assert _escrow(session, deal.order_id) == 0
                assert ledger.balance(session, ledger.STRAY_PAYMENTS) == 0
                assert goods.status is GoodsStatus.LISTED
            assert invariants.violations(session) == []
        seen[next(o for o in outcomes if o != "swept")] += 1
    assert sum(seen.values()) == LATE_ROUNDS


def test_two_sweepers_refunding_and_releasing_in_opposite_order_do_not_deadlock(
    committed: sessionmaker[Session], tmp_path: Path
) -> None:
    # Four orders due a minute apart: a refund (video never uploaded), two releases
    # (received long ago), a refund. One sweeper claims the first two, the other the rest.
    store = MediaStore(tmp_path)
    with unit_of_work(committed) as session:
        first_refund = _paid(session, now=T0 - timedelta(hours=24) + timedelta(minutes=1))
    first_release = _shipped(committed, store, start=T0 - timedelta(days=10, minutes=2))
    second_release = _shipped(committed, store, start=T0 - timedelta(days=10, minutes=1))
    with unit_of_work(committed) as session:
        second_refund = _paid(session, now=T0 - timedelta(hours=24) + timedelta(minutes=4))
    deals = [first_refund, first_release, second_release, second_refund]
    with unit_of_work(committed) as session:
        dues = [session.get_one(Order, deal.order_id).due_at for deal in deals]
    if dues != [T0 + timedelta(minutes=minute) for minute in (1, 2, 3, 4)]:
        pytest.fail(f"the orders are not due a minute apart: {dues}")

    # The first sweeper pauses right after its first ledger posting (a refund: it holds
    # GATEWAY) while the second claims the next orders and starts on a release. Before the
    # fix the second took PLATFORM_FEES, then waited for GATEWAY, while the first waited for
    # PLATFORM_FEES: a deadlock. Now each batch locks its accounts up front, in one order.
    engine: Engine = committed.kw["bind"]
    first_posted = threading.Event()
    second_started = threading.Event()
    role = threading.local()

    def pause(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if (
            statement.startswith("INSERT INTO ledger_postings")
            and getattr(role, "first", False)
            and not first_posted.is_set()
        ):
            first_posted.set()
            second_started.wait(timeout=20)
            time.sleep(0.5)  # let the second get as far as it can

    outcomes: list[int] = []
    errors: list[BaseException] = []

    def sweeper(is_first: bool) -> None:
        role.first = is_first
        try:
            with unit_of_work(committed) as session:
                swept = sweep_due_orders(
                    session, now=T0 + timedelta(minutes=5), settings=SETTINGS, limit=2
                )
            outcomes.append(swept)
        except BaseException as error:  # anything is a failure, asserted on
            errors.append(error)

    event.listen(engine, "after_cursor_execute", pause)
    try:
        first = threading.Thread(target=sweeper, args=(True,))
        first.start()
        if not first_posted.wait(timeout=20):
            pytest.fail("the first sweeper never posted")
        second = threading.Thread(target=sweeper, args=(False,))
        second.start()
        second_started.set()
        first.join(timeout=60)
        second.join(timeout=60)
    finally:
        event.remove(engine, "after_cursor_execute", pause)
    if first.is_alive() or second.is_alive():
        pytest.fail("a sweeper hung")
    assert errors == []
    assert outcomes == [2, 2]
    with unit_of_work(committed) as session:
        statuses = [session.get_one(Order, deal.order_id).status for deal in deals]
        assert statuses == [
            OrderStatus.CANCELLED,
            OrderStatus.COMPLETED,
            OrderStatus.COMPLETED,
            OrderStatus.CANCELLED,
        ]
        assert invariants.violations(session) == []
