"""The whole order flow through the API, on SQLite and PostgreSQL, with a clock the test
moves: each step's state, deadline, timeline, and where the money is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from catalog.ledger import service as ledger
from tests.catalog.test_videos import mp4_video
from tests.trade.support import Trade, assert_ledger_sound, make_trade


@pytest.fixture
def trade(app: FastAPI, client: TestClient, session: Session, media_root: Path) -> Iterator[Trade]:
    world = make_trade(app, client, session, media_root)
    yield world
    assert_ledger_sound(session)


def test_buy_pay_video_ship_receive_releases_escrow_less_commission(trade: Trade) -> None:
    order_id = trade.place()
    order = trade.order(order_id)
    assert order["status"] == "awaiting_payment"
    assert order["price"] == 1_000_00
    goods = trade.get(f"/goods/{trade.goods_id}", "buyer").json()
    assert goods["status"] == "reserved"

    trade.pay(order_id)
    order = trade.order(order_id)
    assert order["status"] == "paid"
    assert ledger.balance(trade.session, ledger.escrow(order_id)) == 1_000_00

    video = trade.post(
        f"/orders/{order_id}/video",
        "seller",
        files={"file": ("a.mp4", mp4_video(seconds=4), "video/mp4")},
    )
    assert video.status_code == 200, video.text
    assert trade.post(f"/orders/{order_id}/confirm-video", "buyer").status_code == 200
    shipped = trade.post(
        f"/orders/{order_id}/ship",
        "seller",
        json={"carrier": "SF", "tracking_number": "SF1234567890"},
    )
    assert shipped.status_code == 200, shipped.text
    tracking = trade.get(f"/orders/{order_id}/tracking", "buyer").json()
    assert tracking["events"][0]["status"] == "collected"
    done = trade.post(f"/orders/{order_id}/confirm-receipt", "buyer")
    assert done.status_code == 200, done.text
    order: dict[str, Any] = done.json()
    assert order["status"] == "completed"
    assert [step["to_status"] for step in order["timeline"]] == [
        "awaiting_payment",
        "paid",
        "video_uploaded",
        "video_confirmed",
        "shipped",
        "completed",
    ]
    fee = order["commission"]
    assert fee == 1_000  # 1% default
    assert ledger.balance(trade.session, ledger.available(trade.seller.id)) == 1_000_00 - fee
    assert ledger.balance(trade.session, ledger.PLATFORM_FEES) == fee
    assert ledger.balance(trade.session, ledger.escrow(order_id)) == 0
    wallet = trade.get("/wallet", "seller").json()
    assert wallet["available"] == 1_000_00 - fee
    goods = trade.get(f"/goods/{trade.goods_id}", "buyer").json()
    assert goods["status"] == "sold"
    assert goods["seller"]["sales"] == 1

    rated = trade.post(f"/orders/{order_id}/rating", "buyer", json={"score": 5, "comment": "很新"})
    assert rated.status_code == 201, rated.text
    seller = trade.get(f"/goods/{trade.goods_id}", "buyer").json()["seller"]
    assert (seller["rating"], seller["ratings"], seller["sales"]) == (5.0, 1, 1)


def test_an_order_is_a_ranking_event_of_the_buyer(trade: Trade) -> None:
    from sqlalchemy import select

    from catalog.events.models import Event

    trade.place()
    kinds = trade.session.scalars(
        select(Event.type).where(Event.goods_id == trade.goods_id, Event.user_id == trade.buyer.id)
    ).all()
    assert list(kinds) == ["order"]


def test_unpaid_order_expires_and_relists(trade: Trade) -> None:
    order_id = trade.place()
    trade.clock.advance(minutes=31)
    assert trade.sweep() == 1
    assert trade.order(order_id)["status"] == "cancelled"
    assert trade.get(f"/goods/{trade.goods_id}", "buyer").json()["status"] == "listed"


def test_operators_see_the_account_to_pay_each_withdrawal_to_masked(trade: Trade) -> None:
    trade.completed()
    account_id = trade.payout_account("13800138000")
    requested = trade.post(
        "/withdrawals", "seller", json={"payout_account_id": account_id, "amount": 100_00}
    )
    assert requested.status_code == 201, requested.text
    created_at = trade.get("/wallet/payout-accounts", "seller").json()[0]["created_at"]

    listed = trade.get("/admin/withdrawals", "operator")
    assert listed.status_code == 200, listed.text
    (item,) = [w for w in listed.json()["items"] if w["id"] == requested.json()["id"]]
    assert item["payout_account"] == {
        "id": account_id,
        "kind": "alipay",
        "holder_name": "王小明",
        "number_masked": "138****8000",
        "created_at": created_at,
    }
    assert "13800138000" not in listed.text
