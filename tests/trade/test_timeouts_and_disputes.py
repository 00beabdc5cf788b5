"""Every deadline the sweeper enforces and every way a dispute ends, through the API with a
clock the test moves: the order's status and timeline, the goods, and where the money is."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.ledger import service as ledger
from catalog.ledger.models import LedgerTransaction
from catalog.trade.money import commission
from catalog.trade.repository import reputations
from catalog.trade.settings import TradeSettings
from catalog.trade.sweeper import sweep_due_orders
from tests.catalog.test_videos import mp4_video
from tests.trade.support import Trade, assert_ledger_sound, make_trade

PRICE = 1_000_00
FEE = 1_000  # 1% of the price, the default commission


@pytest.fixture
def trade(app: FastAPI, client: TestClient, session: Session, media_root: Path) -> Iterator[Trade]:
    world = make_trade(app, client, session, media_root, price=PRICE)
    yield world
    assert_ledger_sound(session)


@dataclass(frozen=True)
class Money:
    escrow: int
    gateway: int
    seller: int
    fees: int


def money(trade: Trade, order_id: int) -> Money:
    balances = ledger.balances(
        trade.session,
        [
            ledger.escrow(order_id),
            ledger.GATEWAY,
            ledger.available(trade.seller.id),
            ledger.PLATFORM_FEES,
        ],
    )
    return Money(
        escrow=balances[ledger.escrow(order_id)],
        gateway=balances[ledger.GATEWAY],
        seller=balances[ledger.available(trade.seller.id)],
        fees=balances[ledger.PLATFORM_FEES],
    )


IN_ESCROW = Money(escrow=PRICE, gateway=-PRICE, seller=0, fees=0)
REFUNDED = Money(escrow=0, gateway=0, seller=0, fees=0)
RELEASED = Money(escrow=0, gateway=-PRICE, seller=PRICE - FEE, fees=FEE)


def status(trade: Trade, order_id: int) -> str:
    return str(trade.order(order_id)["status"])


def goods_status(trade: Trade) -> str:
    # The seller sees their goods in any state (withdrawn goods are hidden from buyers).
    response = trade.get(f"/goods/{trade.goods_id}", "seller")
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def last_step(trade: Trade, order_id: int) -> dict[str, Any]:
    return dict(trade.order(order_id)["timeline"][-1])


def due_at(order: dict[str, Any]) -> datetime | None:
    value = order["due_at"]
    return None if value is None else datetime.fromisoformat(value)


def sweep_with(trade: Trade, settings: TradeSettings) -> int:
    """The sweeper under the settings the app was given (Trade.sweep uses the defaults)."""
    swept = sweep_due_orders(trade.session, now=trade.clock(), settings=settings)
    trade.session.commit()
    return swept


def assert_system_step(trade: Trade, order_id: int, name: str, to_status: str) -> None:
    step = last_step(trade, order_id)
    assert (step["name"], step["to_status"], step["actor"], step["actor_id"]) == (
        name,
        to_status,
        "system",
        None,
    )
    assert datetime.fromisoformat(step["at"]) == trade.clock()


def upload(trade: Trade, order_id: int) -> Any:
    return trade.post(
        f"/orders/{order_id}/video",
        "seller",
        files={"file": ("item.mp4", mp4_video(seconds=4), "video/mp4")},
    )


def ship(trade: Trade, order_id: int) -> Any:
    return trade.post(
        f"/orders/{order_id}/ship",
        "seller",
        json={"carrier": "SF", "tracking_number": "SF12345678"},
    )


def dispute(trade: Trade, order_id: int, who: str = "buyer") -> Any:
    return trade.post(f"/orders/{order_id}/dispute", who, json={"reason": "耳机左耳没有声音"})


def resolve(trade: Trade, order_id: int, outcome: str, **extra: Any) -> Any:
    return trade.post(
        f"/admin/orders/{order_id}/resolve-dispute",
        "operator",
        json={"outcome": outcome, "note": "看过聊天记录和视频", **extra},
    )


def seller_completed(trade: Trade) -> int:
    order_id = trade.shipped()
    marked = trade.post(f"/orders/{order_id}/mark-complete", "seller")
    assert marked.status_code == 200, marked.text
    return order_id


def disputed(trade: Trade, setup: Callable[[Trade], int], who: str = "buyer") -> int:
    order_id = setup(trade)
    opened = dispute(trade, order_id, who)
    assert opened.status_code == 201, opened.text
    return order_id


# --- timeouts -------------------------------------------------------------------------


def test_unpaid_order_expires_after_30_minutes_and_goods_go_back_on_sale(trade: Trade) -> None:
    order_id = trade.place()
    assert due_at(trade.order(order_id)) == trade.clock() + timedelta(minutes=30)

    trade.clock.advance(minutes=29, seconds=59)
    assert trade.sweep() == 0
    assert status(trade, order_id) == "awaiting_payment"
    assert goods_status(trade) == "reserved"

    trade.clock.advance(seconds=1)
    assert trade.sweep() == 1
    order = trade.order(order_id)
    assert order["status"] == "cancelled"
    assert order["due_at"] is None
    assert_system_step(trade, order_id, "expire", "cancelled")
    assert goods_status(trade) == "listed"
    assert money(trade, order_id) == REFUNDED


def test_video_not_uploaded_within_24_hours_refunds_buyer_and_relists(trade: Trade) -> None:
    order_id = trade.paid_order()
    assert due_at(trade.order(order_id)) == trade.clock() + timedelta(hours=24)
    assert money(trade, order_id) == IN_ESCROW

    trade.clock.advance(hours=23, minutes=59)
    assert trade.sweep() == 0
    assert status(trade, order_id) == "paid"

    trade.clock.advance(minutes=1)
    assert trade.sweep() == 1
    assert status(trade, order_id) == "cancelled"
    assert_system_step(trade, order_id, "video_timeout", "cancelled")
    assert money(trade, order_id) == REFUNDED
    assert goods_status(trade) == "listed"
    assert trade.get("/wallet", "seller").json()["escrow"] == 0


def test_video_not_confirmed_within_3_hours_refunds_under_refund_policy(trade: Trade) -> None:
    order_id = trade.with_video()
    assert due_at(trade.order(order_id)) == trade.clock() + timedelta(hours=3)

    trade.clock.advance(hours=2, minutes=59)
    assert trade.sweep() == 0
    trade.clock.advance(minutes=1)
    assert trade.sweep() == 1

    assert status(trade, order_id) == "cancelled"
    assert_system_step(trade, order_id, "confirm_timeout", "cancelled")
    assert money(trade, order_id) == REFUNDED
    assert goods_status(trade) == "listed"


def test_video_not_confirmed_within_3_hours_counts_as_confirmed_under_accept_policy(
    app: FastAPI, trade: Trade
) -> None:
    settings = TradeSettings(unconfirmed_video_policy="accept")
    app.state.trade_settings = settings
    order_id = trade.with_video()

    trade.clock.advance(hours=3)
    assert sweep_with(trade, settings) == 1

    order = trade.order(order_id)
    assert order["status"] == "video_confirmed"
    assert due_at(order) == trade.clock() + timedelta(hours=72)
    assert_system_step(trade, order_id, "confirm_timeout_accept", "video_confirmed")
    assert money(trade, order_id) == IN_ESCROW
    assert goods_status(trade) == "reserved"
    # The seller goes on as if the buyer had confirmed.
    shipped = ship(trade, order_id)
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "shipped"


def test_order_not_shipped_within_72_hours_is_cancelled_and_refunded(trade: Trade) -> None:
    order_id = trade.confirmed()
    assert due_at(trade.order(order_id)) == trade.clock() + timedelta(hours=72)

    trade.clock.advance(hours=71, minutes=59)
    assert trade.sweep() == 0
    assert status(trade, order_id) == "video_confirmed"
    trade.clock.advance(minutes=1)
    assert trade.sweep() == 1

    assert status(trade, order_id) == "cancelled"
    assert_system_step(trade, order_id, "ship_timeout", "cancelled")
    assert money(trade, order_id) == REFUNDED
    assert goods_status(trade) == "listed"


def test_seller_marked_complete_completes_24_hours_later_and_pays_seller(trade: Trade) -> None:
    order_id = seller_completed(trade)
    order = trade.order(order_id)
    assert order["status"] == "seller_completed"
    assert due_at(order) == trade.clock() + timedelta(hours=24)
    assert money(trade, order_id) == IN_ESCROW

    trade.clock.advance(hours=23, minutes=59)
    assert trade.sweep() == 0
    assert status(trade, order_id) == "seller_completed"
    trade.clock.advance(minutes=1)
    assert trade.sweep() == 1

    order = trade.order(order_id)
    assert order["status"] == "completed"
    assert datetime.fromisoformat(order["finished_at"]) == trade.clock()
    assert_system_step(trade, order_id, "auto_complete", "completed")
    assert money(trade, order_id) == RELEASED
    assert goods_status(trade) == "sold"
    assert trade.get("/wallet", "seller").json()["available"] == PRICE - FEE


def test_shipped_order_completes_by_itself_10_days_after_shipping(trade: Trade) -> None:
    order_id = trade.shipped()
    order = trade.order(order_id)
    assert due_at(order) == datetime.fromisoformat(order["shipped_at"]) + timedelta(days=10)

    trade.clock.advance(days=9, hours=23)
    assert trade.sweep() == 0
    assert status(trade, order_id) == "shipped"
    trade.clock.advance(hours=1)
    assert trade.sweep() == 1

    assert status(trade, order_id) == "completed"
    assert_system_step(trade, order_id, "auto_complete", "completed")
    assert money(trade, order_id) == RELEASED
    assert goods_status(trade) == "sold"


@dataclass(frozen=True)
class LateStep:
    setup: Callable[[Trade], int]
    wait: timedelta
    attempt: Callable[[Trade, int], Any]
    swept_to: str


LATE_STEPS = {
    "buyer cancels an expired order": LateStep(
        Trade.place,
        timedelta(minutes=30),
        lambda t, o: t.post(f"/orders/{o}/cancel", "buyer", json={"reason": "不想要了"}),
        "cancelled",
    ),
    "buyer pays an expired order": LateStep(
        Trade.place,
        timedelta(minutes=30),
        lambda t, o: t.post(f"/orders/{o}/pay", "buyer"),
        "cancelled",
    ),
    "seller uploads the video late": LateStep(
        Trade.paid_order, timedelta(hours=24), upload, "cancelled"
    ),
    "seller cancels after the video deadline": LateStep(
        Trade.paid_order,
        timedelta(hours=24),
        lambda t, o: t.post(f"/orders/{o}/cancel", "seller", json={}),
        "cancelled",
    ),
    "buyer confirms the video late": LateStep(
        Trade.with_video,
        timedelta(hours=3),
        lambda t, o: t.post(f"/orders/{o}/confirm-video", "buyer"),
        "cancelled",
    ),
    "seller ships late": LateStep(Trade.confirmed, timedelta(hours=72), ship, "cancelled"),
    "buyer disputes after the long stop": LateStep(
        Trade.shipped, timedelta(days=10), dispute, "completed"
    ),
    "buyer disputes a day after the seller marked complete": LateStep(
        seller_completed, timedelta(hours=24), dispute, "completed"
    ),
}


@pytest.mark.parametrize("case", LATE_STEPS.values(), ids=LATE_STEPS.keys())
def test_step_after_its_deadline_is_refused_even_before_the_sweep(
    trade: Trade, case: LateStep
) -> None:
    order_id = case.setup(trade)
    before = trade.order(order_id)
    money_before = money(trade, order_id)

    trade.clock.advance(seconds=case.wait.total_seconds())
    refused = case.attempt(trade, order_id)

    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "deadline_passed"
    after = trade.order(order_id)
    assert (after["status"], after["timeline"]) == (before["status"], before["timeline"])
    assert money(trade, order_id) == money_before
    # The deadline is the sweeper's to act on.
    assert trade.sweep() == 1
    assert status(trade, order_id) == case.swept_to


def test_sweeping_early_or_twice_changes_nothing(trade: Trade) -> None:
    order_id = trade.paid_order()
    assert trade.sweep() == 0
    trade.clock.advance(hours=12)
    assert trade.sweep() == 0
    assert status(trade, order_id) == "paid"

    trade.clock.advance(hours=12)
    assert trade.sweep() == 1
    after_first = trade.order(order_id)
    assert after_first["status"] == "cancelled"

    assert trade.sweep() == 0
    trade.clock.advance(days=30)
    assert trade.sweep() == 0
    assert trade.order(order_id)["timeline"] == after_first["timeline"]
    assert money(trade, order_id) == REFUNDED
    refunds = trade.session.scalars(
        select(LedgerTransaction.kind).where(LedgerTransaction.order_id == order_id)
    ).all()
    assert sorted(refunds) == ["payment", "refund"]


# --- seller backs out -----------------------------------------------------------------


@pytest.mark.parametrize("who", ["buyer", "seller"])
def test_either_side_cancels_before_payment_and_goods_go_back_on_sale(
    trade: Trade, who: str
) -> None:
    order_id = trade.place()
    cancelled = trade.post(f"/orders/{order_id}/cancel", who, json={"reason": "不要了"})
    assert cancelled.status_code == 200, cancelled.text
    order = cancelled.json()
    assert (order["status"], order["due_at"]) == ("cancelled", None)
    step = order["timeline"][-1]
    assert (step["name"], step["actor"], step["note"]) == ("cancel", who, "不要了")
    assert goods_status(trade) == "listed"
    assert money(trade, order_id) == REFUNDED
    # Nothing is left for the sweeper.
    trade.clock.advance(hours=1)
    assert trade.sweep() == 0


def test_seller_cancelling_after_payment_refunds_buyer_and_relists(trade: Trade) -> None:
    order_id = trade.paid_order()
    cancelled = trade.post(f"/orders/{order_id}/cancel", "seller", json={"reason": "东西坏了"})
    assert cancelled.status_code == 200, cancelled.text

    order = cancelled.json()
    assert order["status"] == "cancelled"
    step = order["timeline"][-1]
    assert (step["name"], step["actor"], step["actor_id"], step["note"]) == (
        "seller_cancel",
        "seller",
        trade.seller.id,
        "东西坏了",
    )
    assert money(trade, order_id) == REFUNDED
    assert goods_status(trade) == "listed"


def test_seller_cannot_cancel_once_the_video_is_up(trade: Trade) -> None:
    order_id = trade.with_video()
    refused = trade.post(f"/orders/{order_id}/cancel", "seller", json={})
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "invalid_order_state"
    assert status(trade, order_id) == "video_uploaded"
    assert money(trade, order_id) == IN_ESCROW


def test_buyer_cannot_cancel_a_paid_order(trade: Trade) -> None:
    order_id = trade.paid_order()
    refused = trade.post(f"/orders/{order_id}/cancel", "buyer", json={})
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "invalid_order_state"
    assert status(trade, order_id) == "paid"
    assert money(trade, order_id) == IN_ESCROW


# --- disputes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "setup",
    [Trade.paid_order, Trade.with_video, Trade.confirmed, Trade.shipped, seller_completed],
    ids=["paid", "video_uploaded", "video_confirmed", "shipped", "seller_completed"],
)
def test_dispute_stops_every_timer_and_freezes_the_money(
    trade: Trade, setup: Callable[[Trade], int]
) -> None:
    order_id = setup(trade)
    was = status(trade, order_id)
    opened = dispute(trade, order_id)
    assert opened.status_code == 201, opened.text
    order = opened.json()
    assert (order["status"], order["due_at"], order["disputed_from"]) == ("disputed", None, was)
    assert order["dispute"]["opener"] == "buyer"
    assert order["dispute"]["outcome"] is None

    trade.clock.advance(days=30)
    assert trade.sweep() == 0
    assert status(trade, order_id) == "disputed"
    assert money(trade, order_id) == IN_ESCROW
    assert goods_status(trade) == "reserved"
    open_disputes = trade.get("/admin/disputes", "operator").json()
    assert [item["order_id"] for item in open_disputes["items"]] == [order_id]


def test_seller_may_open_a_dispute_too(trade: Trade) -> None:
    order_id = disputed(trade, Trade.shipped, who="seller")
    order = trade.order(order_id, "seller")
    assert order["dispute"]["opener"] == "seller"
    assert order["timeline"][-1]["actor"] == "seller"


def test_full_refund_before_shipping_puts_goods_back_on_sale(trade: Trade) -> None:
    order_id = disputed(trade, Trade.confirmed)
    resolved = resolve(trade, order_id, "refund_full")
    assert resolved.status_code == 200, resolved.text

    order = resolved.json()
    assert order["status"] == "refunded"
    assert order["dispute"]["outcome"] == "refund_full"
    assert order["dispute"]["refund_amount"] == PRICE
    step = order["timeline"][-1]
    assert (step["name"], step["actor"], step["actor_id"]) == (
        "resolve_refund",
        "operator",
        trade.operator.id,
    )
    assert money(trade, order_id) == REFUNDED
    assert goods_status(trade) == "listed"


@pytest.mark.parametrize("setup", [Trade.shipped, seller_completed], ids=["shipped", "marked"])
def test_full_refund_after_shipping_withdraws_goods_for_the_seller_to_check(
    trade: Trade, setup: Callable[[Trade], int]
) -> None:
    order_id = disputed(trade, setup)
    resolved = resolve(trade, order_id, "refund_full")
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "refunded"
    assert money(trade, order_id) == REFUNDED
    assert goods_status(trade) == "withdrawn"
    assert trade.get(f"/goods/{trade.goods_id}", "buyer").status_code == 404


@pytest.mark.parametrize(
    ("refund", "fee"),
    [
        (30_000, 700),  # 1% of 700.00 yuan
        (99_950, 1),  # 1% of 50 fen is 0.5 fen: half up to 1
        (99_951, 0),  # 1% of 49 fen is 0.49 fen: down to 0
    ],
)
def test_partial_refund_returns_part_and_pays_the_rest_less_its_commission(
    trade: Trade, refund: int, fee: int
) -> None:
    order_id = disputed(trade, Trade.shipped)
    resolved = resolve(trade, order_id, "refund_partial", refund_amount=refund)
    assert resolved.status_code == 200, resolved.text

    order = resolved.json()
    assert order["status"] == "completed"
    assert order["dispute"]["outcome"] == "refund_partial"
    assert order["dispute"]["refund_amount"] == refund
    kept = PRICE - refund
    assert fee == commission(kept, order["commission_rate_bp"])
    # The buyer's part goes back out through the gateway; the rest is the seller's sale.
    assert money(trade, order_id) == Money(
        escrow=0, gateway=-PRICE + refund, seller=kept - fee, fees=fee
    )
    assert trade.get("/wallet", "seller").json()["available"] == kept - fee
    assert goods_status(trade) == "sold"
    kinds = trade.session.scalars(
        select(LedgerTransaction.kind).where(LedgerTransaction.order_id == order_id)
    ).all()
    assert sorted(kinds) == ["partial_refund", "payment"]


def test_release_pays_the_seller_less_commission(trade: Trade) -> None:
    order_id = disputed(trade, Trade.shipped)
    resolved = resolve(trade, order_id, "release")
    assert resolved.status_code == 200, resolved.text
    order = resolved.json()
    assert order["status"] == "completed"
    assert (order["dispute"]["outcome"], order["dispute"]["refund_amount"]) == ("release", 0)
    assert order["dispute"]["resolution_note"] == "看过聊天记录和视频"
    assert money(trade, order_id) == RELEASED
    assert goods_status(trade) == "sold"
    assert trade.get("/admin/disputes", "operator").json()["items"] == []


@pytest.mark.parametrize("who", ["buyer", "seller"])
def test_only_operators_resolve_disputes(trade: Trade, who: str) -> None:
    order_id = disputed(trade, Trade.shipped)
    refused = trade.post(
        f"/admin/orders/{order_id}/resolve-dispute", who, json={"outcome": "refund_full"}
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "permission_denied"
    assert status(trade, order_id) == "disputed"
    assert money(trade, order_id) == IN_ESCROW


def test_a_dispute_is_resolved_once(trade: Trade) -> None:
    order_id = disputed(trade, Trade.shipped)
    assert resolve(trade, order_id, "release").status_code == 200
    again = resolve(trade, order_id, "refund_full")
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "invalid_order_state"
    assert status(trade, order_id) == "completed"
    assert money(trade, order_id) == RELEASED


@pytest.mark.parametrize(
    "body",
    [
        {"outcome": "refund_partial"},
        {"outcome": "refund_partial", "refund_amount": PRICE},
        {"outcome": "refund_full", "refund_amount": 100},
    ],
    ids=["partial-without-amount", "partial-of-everything", "full-with-amount"],
)
def test_resolution_with_a_wrong_refund_amount_moves_nothing(
    trade: Trade, body: dict[str, Any]
) -> None:
    order_id = disputed(trade, Trade.shipped)
    refused = trade.post(f"/admin/orders/{order_id}/resolve-dispute", "operator", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "invalid_refund_amount"
    assert status(trade, order_id) == "disputed"
    assert money(trade, order_id) == IN_ESCROW


def test_resolving_an_order_without_a_dispute_is_not_found(trade: Trade) -> None:
    order_id = trade.shipped()
    refused = resolve(trade, order_id, "refund_full")
    assert refused.status_code == 404, refused.text
    assert refused.json()["code"] == "dispute_not_found"
    assert status(trade, order_id) == "shipped"
    assert money(trade, order_id) == IN_ESCROW


@pytest.mark.parametrize("who", ["buyer", "seller"])
def test_no_dispute_after_completion(trade: Trade, who: str) -> None:
    order_id = trade.completed()
    refused = dispute(trade, order_id, who)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "invalid_order_state"
    order = trade.order(order_id)
    assert (order["status"], order["dispute"]) == ("completed", None)
    assert money(trade, order_id) == RELEASED


def test_no_dispute_before_payment(trade: Trade) -> None:
    order_id = trade.place()
    refused = dispute(trade, order_id)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "invalid_order_state"
    assert status(trade, order_id) == "awaiting_payment"


# --- ratings --------------------------------------------------------------------------


def test_each_side_rates_the_other_once_after_completion(trade: Trade) -> None:
    order_id = trade.shipped()
    early = trade.post(f"/orders/{order_id}/rating", "buyer", json={"score": 5})
    assert early.status_code == 409, early.text
    assert early.json()["code"] == "invalid_order_state"

    done = trade.post(f"/orders/{order_id}/confirm-receipt", "buyer")
    assert done.status_code == 200, done.text
    by_buyer = trade.post(f"/orders/{order_id}/rating", "buyer", json={"score": 4, "comment": "好"})
    assert by_buyer.status_code == 201, by_buyer.text
    assert (by_buyer.json()["ratee_id"], by_buyer.json()["ratee_role"]) == (
        trade.seller.id,
        "seller",
    )
    again = trade.post(f"/orders/{order_id}/rating", "buyer", json={"score": 1})
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "already_rated"

    by_seller = trade.post(f"/orders/{order_id}/rating", "seller", json={"score": 2})
    assert by_seller.status_code == 201, by_seller.text
    assert (by_seller.json()["ratee_id"], by_seller.json()["ratee_role"]) == (
        trade.buyer.id,
        "buyer",
    )
    assert trade.post(f"/orders/{order_id}/rating", "seller", json={"score": 5}).status_code == 409

    ratings = trade.order(order_id)["ratings"]
    assert sorted((r["rater_id"], r["score"]) for r in ratings) == sorted(
        [(trade.buyer.id, 4), (trade.seller.id, 2)]
    )
    # Only the buyer's rating counts towards the seller's reputation.
    seller = trade.get(f"/goods/{trade.goods_id}", "buyer").json()["seller"]
    assert (seller["rating"], seller["ratings"], seller["sales"]) == (4.0, 1, 1)
    reputation = reputations(trade.session, [trade.seller.id])[trade.seller.id]
    assert (reputation.rating, reputation.ratings, reputation.sales) == (4.0, 1, 1)


def test_a_rating_is_a_whole_number_from_1_to_5(trade: Trade) -> None:
    order_id = trade.completed()
    for score in (0, 6, 4.5, "5", None):
        refused = trade.post(f"/orders/{order_id}/rating", "buyer", json={"score": score})
        assert refused.status_code == 422, (score, refused.text)
        assert refused.json()["code"] == "validation_error"
    assert trade.order(order_id)["ratings"] == []
    # A valid rating still goes through afterwards.
    assert trade.post(f"/orders/{order_id}/rating", "buyer", json={"score": 1}).status_code == 201


def test_refunded_and_cancelled_orders_cannot_be_rated(trade: Trade) -> None:
    order_id = disputed(trade, Trade.shipped)
    assert resolve(trade, order_id, "refund_full").status_code == 200
    refused = trade.post(f"/orders/{order_id}/rating", "buyer", json={"score": 1})
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "invalid_order_state"
    seller = trade.get(f"/goods/{trade.goods_id}", "seller").json()["seller"]
    assert (seller["rating"], seller["ratings"], seller["sales"]) == (None, 0, 0)


def test_operators_do_not_rate_orders(trade: Trade) -> None:
    order_id = trade.completed()
    refused = trade.post(f"/orders/{order_id}/rating", "operator", json={"score": 1})
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "not_your_step"
    assert trade.order(order_id)["ratings"] == []
