"""Bad requests, forged or wrong notifications and retried requests: each refusal has a
clear error code and moves nothing (the order and every ledger balance are as before);
a retry with the same Idempotency-Key gets the first answer and moves money once."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.ledger import service as ledger
from catalog.ledger.models import LedgerAccount, LedgerTransaction
from catalog.media.store import MediaStore
from catalog.trade.models import Payment
from catalog.trade.sandbox_gateway import SIGNATURE_HEADER, sign
from catalog.trade.settings import TradeSettings
from tests.catalog.test_videos import mp4_video
from tests.factories import listed_goods, login, make_user, png_bytes
from tests.trade.support import (
    V1,
    Trade,
    assert_ledger_sound,
    deliver_notifications,
    make_trade,
    notifications,
)

PRICE = 1_000_00
FEE = 1_000  # 1% of the price, the default commission
NOTIFY = f"{V1}/payments/sandbox/notify"


@pytest.fixture
def trade(app: FastAPI, client: TestClient, session: Session, media_root: Path) -> Iterator[Trade]:
    world = make_trade(app, client, session, media_root, price=PRICE)
    yield world
    assert_ledger_sound(session)


LedgerState = tuple[int, list[tuple[Any, ...]]]


def ledger_state(session: Session) -> LedgerState:
    """How many transactions there are and every account's balance."""
    count = session.scalar(select(func.count()).select_from(LedgerTransaction)) or 0
    balances = session.execute(
        select(LedgerAccount.kind, LedgerAccount.owner_id, LedgerAccount.balance).order_by(
            LedgerAccount.id
        )
    ).all()
    return count, [tuple(row) for row in balances]


@dataclass(frozen=True)
class Before:
    order: dict[str, Any]
    ledger: LedgerState


def before(trade: Trade, order_id: int) -> Before:
    return Before(trade.order(order_id), ledger_state(trade.session))


def assert_refused(response: Any, status_code: int, code: str, case: str = "") -> dict[str, Any]:
    assert response.status_code == status_code, (case, response.text)
    body = dict(response.json())
    assert body["code"] == code, (case, body)
    assert body["message"], case
    return body


def assert_unchanged(trade: Trade, order_id: int, was: Before) -> None:
    assert trade.order(order_id) == was.order
    assert ledger_state(trade.session) == was.ledger


def add_user(trade: Trade, name: str) -> None:
    user = make_user(trade.session, nickname=name)
    trade.session.commit()
    trade.headers[name] = login(trade.client, user)


def more_goods(trade: Trade, media_root: Path, count: int) -> list[int]:
    ids = [
        listed_goods(
            trade.session,
            seller=trade.seller,
            title=f"九成新 机械键盘 第{n}把",
            media_root=media_root,
            price=200_00,
        )
        for n in range(count)
    ]
    trade.session.commit()
    return ids


def goods_status(trade: Trade, goods_id: int) -> str:
    return str(trade.get(f"/goods/{goods_id}", "seller").json()["status"])


def orders_of(trade: Trade, who: str) -> list[int]:
    page = trade.get("/orders", who).json()
    return [item["id"] for item in page["items"]]


def upload(trade: Trade, order_id: int, data: bytes, who: str = "seller") -> Any:
    return trade.post(
        f"/orders/{order_id}/video", who, files={"file": ("item.mp4", data, "video/mp4")}
    )


def ship(trade: Trade, order_id: int, who: str = "seller", **body: str) -> Any:
    return trade.post(
        f"/orders/{order_id}/ship",
        who,
        json={"carrier": "SF", "tracking_number": "SF1234567890", **body},
    )


def stored_videos(app: FastAPI) -> list[Path]:
    store: MediaStore = app.state.private_store
    return sorted(store.root.rglob("*.*"))


def notify(trade: Trade, body: bytes, signature: str) -> Any:
    return trade.client.post(
        NOTIFY,
        content=body,
        headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"},
    )


def paid_at_gateway(trade: Trade) -> int:
    """An order the shopper paid at the gateway whose notification has not arrived yet."""
    order_id = trade.place()
    started = trade.post(f"/orders/{order_id}/pay", "buyer")
    assert started.status_code == 200, started.text
    assert trade.client.post(started.json()["pay_url"]).status_code == 200
    return order_id


def payment_statuses(trade: Trade, order_id: int) -> list[str]:
    return [
        str(value)
        for value in trade.session.scalars(
            select(Payment.status).where(Payment.order_id == order_id).order_by(Payment.id)
        )
    ]


def ledger_kinds(trade: Trade, order_id: int) -> list[str]:
    return list(
        trade.session.scalars(
            select(LedgerTransaction.kind)
            .where(LedgerTransaction.order_id == order_id)
            .order_by(LedgerTransaction.id)
        )
    )


# --- steps out of turn ----------------------------------------------------------------


def cancelled_unpaid(trade: Trade) -> int:
    order_id = trade.place()
    cancelled = trade.post(f"/orders/{order_id}/cancel", "buyer", json={"reason": "拍错了"})
    assert cancelled.status_code == 200, cancelled.text
    return order_id


@dataclass(frozen=True)
class OutOfTurn:
    setup: Callable[[Trade], int]
    attempt: Callable[[Trade, int], Any]


OUT_OF_TURN = {
    "confirm the video before there is one": OutOfTurn(
        Trade.paid_order, lambda t, o: t.post(f"/orders/{o}/confirm-video", "buyer")
    ),
    "upload a video before payment": OutOfTurn(
        Trade.place, lambda t, o: upload(t, o, mp4_video(seconds=4))
    ),
    "ship before the buyer confirmed the video": OutOfTurn(Trade.with_video, ship),
    "confirm receipt before shipping": OutOfTurn(
        Trade.confirmed, lambda t, o: t.post(f"/orders/{o}/confirm-receipt", "buyer")
    ),
    "mark complete before shipping": OutOfTurn(
        Trade.confirmed, lambda t, o: t.post(f"/orders/{o}/mark-complete", "seller")
    ),
    "pay a cancelled order": OutOfTurn(
        cancelled_unpaid, lambda t, o: t.post(f"/orders/{o}/pay", "buyer")
    ),
    "pay a paid order": OutOfTurn(
        Trade.paid_order, lambda t, o: t.post(f"/orders/{o}/pay", "buyer")
    ),
    "cancel a completed order": OutOfTurn(
        Trade.completed, lambda t, o: t.post(f"/orders/{o}/cancel", "seller", json={})
    ),
}


@pytest.mark.parametrize("case", OUT_OF_TURN.values(), ids=OUT_OF_TURN.keys())
def test_step_in_the_wrong_state_is_refused_and_moves_nothing(
    trade: Trade, case: OutOfTurn
) -> None:
    order_id = case.setup(trade)
    was = before(trade, order_id)
    body = assert_refused(case.attempt(trade, order_id), 409, "invalid_order_state")
    assert body["status"] == was.order["status"]
    assert_unchanged(trade, order_id, was)


def test_paying_after_the_order_expired_opens_no_payment(trade: Trade) -> None:
    order_id = trade.place()
    trade.clock.advance(minutes=30)
    was = before(trade, order_id)
    assert_refused(trade.post(f"/orders/{order_id}/pay", "buyer"), 409, "deadline_passed")
    assert_unchanged(trade, order_id, was)
    assert payment_statuses(trade, order_id) == []


def test_video_after_its_deadline_is_refused_and_not_kept(app: FastAPI, trade: Trade) -> None:
    order_id = trade.paid_order()
    trade.clock.advance(hours=24, seconds=1)
    was = before(trade, order_id)
    stored = stored_videos(app)
    assert_refused(upload(trade, order_id, mp4_video(seconds=4)), 409, "deadline_passed")
    assert_unchanged(trade, order_id, was)
    assert stored_videos(app) == stored


# --- what may be bought ---------------------------------------------------------------


def test_seller_cannot_buy_own_goods(trade: Trade) -> None:
    was = ledger_state(trade.session)
    refused = trade.post("/orders", "seller", json={"goods_id": trade.goods_id})
    assert_refused(refused, 409, "own_goods")
    assert goods_status(trade, trade.goods_id) == "listed"
    assert orders_of(trade, "seller") == []
    assert ledger_state(trade.session) == was


def test_reserved_goods_cannot_be_ordered(trade: Trade) -> None:
    add_user(trade, "second_buyer")
    order_id = trade.place()
    was = before(trade, order_id)
    refused = trade.post("/orders", "second_buyer", json={"goods_id": trade.goods_id})
    assert_refused(refused, 409, "goods_not_available")
    assert orders_of(trade, "second_buyer") == []
    assert_unchanged(trade, order_id, was)


def test_sold_goods_cannot_be_ordered(trade: Trade) -> None:
    add_user(trade, "second_buyer")
    trade.completed()
    was = ledger_state(trade.session)
    refused = trade.post("/orders", "second_buyer", json={"goods_id": trade.goods_id})
    assert_refused(refused, 409, "goods_not_available")
    assert orders_of(trade, "second_buyer") == []
    assert goods_status(trade, trade.goods_id) == "sold"
    assert ledger_state(trade.session) == was


def test_unknown_goods_cannot_be_ordered(trade: Trade) -> None:
    refused = trade.post("/orders", "buyer", json={"goods_id": 987_654_321})
    assert_refused(refused, 404, "goods_not_found")
    assert orders_of(trade, "buyer") == []


def test_too_many_unpaid_orders_are_refused(app: FastAPI, trade: Trade, media_root: Path) -> None:
    app.state.trade_settings = TradeSettings(max_unpaid_orders=2)
    first, second, third = more_goods(trade, media_root, 3)
    placed = [trade.post("/orders", "buyer", json={"goods_id": g}) for g in (first, second)]
    assert [response.status_code for response in placed] == [201, 201]

    refused = trade.post("/orders", "buyer", json={"goods_id": third})
    assert_refused(refused, 409, "too_many_unpaid_orders")
    assert goods_status(trade, third) == "listed"
    assert len(orders_of(trade, "buyer")) == 2

    # Paying one of them makes room.
    trade.pay(placed[0].json()["id"])
    assert trade.post("/orders", "buyer", json={"goods_id": third}).status_code == 201


# --- shipping details -----------------------------------------------------------------


BAD_SHIPMENTS: list[tuple[dict[str, str], str]] = [
    ({"carrier": "UPS"}, "unknown_carrier"),
    ({"tracking_number": "SF12345"}, "invalid_tracking_number"),
    ({"tracking_number": "SF 1234 5678"}, "invalid_tracking_number"),
    ({"tracking_number": "SF1234-5678"}, "invalid_tracking_number"),
    ({"tracking_number": "顺丰12345678"}, "invalid_tracking_number"),
    ({"tracking_number": "S" * 31}, "invalid_tracking_number"),
]


def test_unknown_carrier_or_bad_tracking_number_is_refused(trade: Trade) -> None:
    order_id = trade.confirmed()
    was = before(trade, order_id)
    for body, code in BAD_SHIPMENTS:
        refused = assert_refused(ship(trade, order_id, **body), 422, code, str(body))
        assert refused["field"] in body
    assert_unchanged(trade, order_id, was)


# --- the gateway's notifications ------------------------------------------------------


def test_forged_notification_is_refused_and_moves_nothing(trade: Trade) -> None:
    order_id = paid_at_gateway(trade)
    was = before(trade, order_id)
    [(body, signature)] = notifications(trade.session)

    assert_refused(notify(trade, body, "0" * 64), 400, "bad_signature")
    assert_refused(notify(trade, body, ""), 400, "bad_signature")
    # The gateway's signature on a body someone changed.
    tampered = json.dumps({**json.loads(body), "amount": 1}, sort_keys=True).encode()
    assert_refused(notify(trade, tampered, signature), 400, "bad_signature")
    assert_unchanged(trade, order_id, was)
    assert payment_statuses(trade, order_id) == ["pending"]

    # The genuine notice still works afterwards.
    assert deliver_notifications(trade.client, trade.session) == ["applied"]
    assert trade.order(order_id)["status"] == "paid"


SIGNED_MISMATCHES: list[tuple[dict[str, Any], int, str]] = [
    ({"amount": 1}, 422, "amount_mismatch"),
    ({"amount": PRICE + 1}, 422, "amount_mismatch"),
    ({"status": "failed"}, 422, "unknown_status"),
    ({"ref": "sbx_000000000000000000000000"}, 404, "unknown_payment"),
]


def test_signed_notification_that_does_not_match_a_payment_moves_nothing(trade: Trade) -> None:
    order_id = paid_at_gateway(trade)
    was = before(trade, order_id)
    [(body, _signature)] = notifications(trade.session)
    for change, status_code, code in SIGNED_MISMATCHES:
        altered = json.dumps({**json.loads(body), **change}, sort_keys=True).encode()
        assert_refused(notify(trade, altered, sign(altered)), status_code, code, str(change))
    assert_unchanged(trade, order_id, was)
    assert payment_statuses(trade, order_id) == ["pending"]
    # The genuine notice still pays the order.
    assert deliver_notifications(trade.client, trade.session) == ["applied"]


def test_signed_but_unreadable_notification_is_refused(trade: Trade) -> None:
    body = b'{"ref": "sbx_x"}'
    assert_refused(notify(trade, body, sign(body)), 400, "bad_signature")


def test_repeated_notification_pays_once(trade: Trade) -> None:
    order_id = paid_at_gateway(trade)
    assert deliver_notifications(trade.client, trade.session) == ["applied"]
    was = before(trade, order_id)
    assert deliver_notifications(trade.client, trade.session) == ["duplicate"]
    assert_unchanged(trade, order_id, was)
    assert ledger.balance(trade.session, ledger.escrow(order_id)) == PRICE
    assert ledger_kinds(trade, order_id) == ["payment"]


def test_notification_for_an_expired_order_sends_the_money_back(trade: Trade) -> None:
    order_id = paid_at_gateway(trade)
    trade.clock.advance(minutes=30)
    assert trade.sweep() == 1
    assert trade.order(order_id)["status"] == "cancelled"

    assert deliver_notifications(trade.client, trade.session) == ["returned"]
    order = trade.order(order_id)
    assert order["status"] == "cancelled"
    assert order["paid_at"] is None
    assert payment_statuses(trade, order_id) == ["returned"]
    assert ledger_kinds(trade, order_id) == ["stray_payment", "stray_payment_returned"]
    assert ledger.balance(trade.session, ledger.GATEWAY) == 0
    assert ledger.balance(trade.session, ledger.STRAY_PAYMENTS) == 0
    assert ledger.balance(trade.session, ledger.escrow(order_id)) == 0
    assert goods_status(trade, trade.goods_id) == "listed"

    was = before(trade, order_id)
    assert deliver_notifications(trade.client, trade.session) == ["duplicate"]
    assert_unchanged(trade, order_id, was)


def test_notification_arriving_late_for_a_payment_made_in_time_pays_the_order(
    trade: Trade,
) -> None:
    order_id = paid_at_gateway(trade)
    trade.clock.advance(minutes=31)  # the courier was slow; the sweeper has not run yet
    assert deliver_notifications(trade.client, trade.session) == ["applied"]
    assert trade.order(order_id)["status"] == "paid"
    assert trade.sweep() == 0


def test_payment_made_after_the_deadline_is_returned_even_before_the_sweep(
    trade: Trade,
) -> None:
    order_id = trade.place()
    started = trade.post(f"/orders/{order_id}/pay", "buyer")
    assert started.status_code == 200, started.text
    trade.clock.advance(minutes=45)  # the shopper pays a quarter of an hour too late
    assert trade.client.post(started.json()["pay_url"]).status_code == 200

    assert deliver_notifications(trade.client, trade.session) == ["returned"]
    assert trade.sweep() == 1
    assert trade.order(order_id)["status"] == "cancelled"
    assert ledger.balance(trade.session, ledger.escrow(order_id)) == 0


def test_unknown_sandbox_charge_cannot_be_paid(trade: Trade) -> None:
    refused = trade.client.post(f"{V1}/payments/sandbox/sbx_000000000000000000000000/pay")
    assert_refused(refused, 404, "charge_not_found")


def test_asking_to_pay_twice_gives_the_same_payment(trade: Trade) -> None:
    order_id = trade.place()
    first = trade.post(f"/orders/{order_id}/pay", "buyer")
    second = trade.post(f"/orders/{order_id}/pay", "buyer")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert payment_statuses(trade, order_id) == ["pending"]

    assert trade.client.post(first.json()["pay_url"]).status_code == 200
    assert trade.client.post(second.json()["pay_url"]).status_code == 200
    assert deliver_notifications(trade.client, trade.session) == ["applied"]
    assert ledger.balance(trade.session, ledger.escrow(order_id)) == PRICE
    assert ledger_kinds(trade, order_id) == ["payment"]


# --- the video ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [3_000, 300_000], ids=["read-and-refused", "refused-unread"])
def test_oversized_video_is_refused(app: FastAPI, trade: Trade, size: int) -> None:
    app.state.trade_settings = TradeSettings(video_max_bytes=2_000)
    order_id = trade.paid_order()
    was = before(trade, order_id)
    data = mp4_video(seconds=4)
    data += b"\0" * max(0, size - len(data))
    stored = stored_videos(app)
    assert_refused(upload(trade, order_id, data), 413, "video_too_large")
    assert_unchanged(trade, order_id, was)
    assert stored_videos(app) == stored


@pytest.mark.parametrize(
    "data",
    [png_bytes(), "这不是视频，只是改了扩展名的文本".encode() * 50],
    ids=["png", "text"],
)
def test_file_that_is_not_a_video_is_refused_whatever_its_name(
    app: FastAPI, trade: Trade, data: bytes
) -> None:
    order_id = trade.paid_order()
    was = before(trade, order_id)
    stored = stored_videos(app)
    assert_refused(upload(trade, order_id, data), 415, "unsupported_video_type")
    assert_unchanged(trade, order_id, was)
    assert stored_videos(app) == stored


def test_too_short_video_is_refused(trade: Trade) -> None:
    order_id = trade.paid_order()
    was = before(trade, order_id)
    refused = assert_refused(upload(trade, order_id, mp4_video(seconds=1)), 422, "video_too_short")
    assert refused["min_seconds"] == 3
    assert_unchanged(trade, order_id, was)


# --- whose order, whose step ----------------------------------------------------------


STRANGER_REQUESTS: dict[str, Callable[[Trade, int], Any]] = {
    "view": lambda t, o: t.get(f"/orders/{o}", "stranger"),
    "pay": lambda t, o: t.post(f"/orders/{o}/pay", "stranger"),
    "cancel": lambda t, o: t.post(f"/orders/{o}/cancel", "stranger", json={}),
    "confirm-video": lambda t, o: t.post(f"/orders/{o}/confirm-video", "stranger"),
    "confirm-receipt": lambda t, o: t.post(f"/orders/{o}/confirm-receipt", "stranger"),
    "dispute": lambda t, o: t.post(f"/orders/{o}/dispute", "stranger", json={"reason": "假货"}),
    "video": lambda t, o: upload(t, o, mp4_video(seconds=4), who="stranger"),
    "watch-video": lambda t, o: t.get(f"/orders/{o}/video", "stranger"),
    "tracking": lambda t, o: t.get(f"/orders/{o}/tracking", "stranger"),
}


def test_another_buyer_cannot_see_or_touch_an_order(trade: Trade) -> None:
    add_user(trade, "stranger")
    order_id = trade.with_video()
    was = before(trade, order_id)
    for case, attempt in STRANGER_REQUESTS.items():
        assert_refused(attempt(trade, order_id), 404, "order_not_found", case)
    assert_unchanged(trade, order_id, was)


@dataclass(frozen=True)
class NotYours:
    setup: Callable[[Trade], int]
    attempt: Callable[[Trade, int], Any]


NOT_YOUR_STEP = {
    "seller confirms the video for the buyer": NotYours(
        Trade.with_video, lambda t, o: t.post(f"/orders/{o}/confirm-video", "seller")
    ),
    "seller confirms receipt for the buyer": NotYours(
        Trade.shipped, lambda t, o: t.post(f"/orders/{o}/confirm-receipt", "seller")
    ),
    "buyer uploads the video": NotYours(
        Trade.paid_order, lambda t, o: upload(t, o, mp4_video(seconds=4), who="buyer")
    ),
    "buyer ships": NotYours(Trade.confirmed, lambda t, o: ship(t, o, who="buyer")),
    "buyer marks complete": NotYours(
        Trade.shipped, lambda t, o: t.post(f"/orders/{o}/mark-complete", "buyer")
    ),
    "operator confirms receipt": NotYours(
        Trade.shipped, lambda t, o: t.post(f"/orders/{o}/confirm-receipt", "operator")
    ),
}


@pytest.mark.parametrize("case", NOT_YOUR_STEP.values(), ids=NOT_YOUR_STEP.keys())
def test_one_side_cannot_take_the_other_sides_step(trade: Trade, case: NotYours) -> None:
    order_id = case.setup(trade)
    was = before(trade, order_id)
    assert_refused(case.attempt(trade, order_id), 403, "not_your_step")
    assert_unchanged(trade, order_id, was)


# Each body is valid but for one field nobody asked for (the last one).
UNKNOWN_FIELDS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "order at a price of one's own": ("/orders", "buyer", {"goods_id": 1, "price": 1}),
    "cancel with a status": ("/orders/{id}/cancel", "seller", {"reason": "x", "status": "paid"}),
    "ship with a date": (
        "/orders/{id}/ship",
        "seller",
        {"carrier": "SF", "tracking_number": "SF1234567890", "shipped_at": "2026-01-01"},
    ),
    "dispute with an amount": ("/orders/{id}/dispute", "buyer", {"reason": "坏了", "amount": 1}),
    "rating for someone else": ("/orders/{id}/rating", "buyer", {"score": 5, "ratee_id": 1}),
    "resolution paying someone else": (
        "/admin/orders/{id}/resolve-dispute",
        "operator",
        {"outcome": "release", "seller_id": 1},
    ),
}


def test_unknown_fields_in_a_body_are_refused(trade: Trade) -> None:
    order_id = trade.paid_order()
    was = before(trade, order_id)
    for case, (path, who, body) in UNKNOWN_FIELDS.items():
        response = trade.post(path.format(id=order_id), who, json=body)
        refused = assert_refused(response, 422, "validation_error", case)
        assert [field["field"] for field in refused["fields"]] == [list(body)[-1]], case
    assert_unchanged(trade, order_id, was)
    assert orders_of(trade, "buyer") == [order_id]


# --- Idempotency-Key ------------------------------------------------------------------


def test_placing_an_order_twice_with_one_key_places_it_once(trade: Trade) -> None:
    key = {"Idempotency-Key": "order-1"}
    body = {"goods_id": trade.goods_id}
    first = trade.client.post(f"{V1}/orders", json=body, headers={**trade.as_("buyer"), **key})
    assert first.status_code == 201, first.text
    trade.clock.advance(minutes=1)
    second = trade.client.post(f"{V1}/orders", json=body, headers={**trade.as_("buyer"), **key})
    assert second.status_code == 201, second.text
    assert second.json() == first.json()
    assert orders_of(trade, "buyer") == [first.json()["id"]]

    # Even after the order moved on, a retry replays the first answer and orders nothing.
    order_id = first.json()["id"]
    cancel = trade.post(f"/orders/{order_id}/cancel", "buyer", json={})
    assert cancel.status_code == 200
    third = trade.client.post(f"{V1}/orders", json=body, headers={**trade.as_("buyer"), **key})
    assert third.status_code == 201
    assert third.json() == first.json()
    assert orders_of(trade, "buyer") == [order_id]
    assert goods_status(trade, trade.goods_id) == "listed"


def test_one_key_for_a_different_request_is_refused(trade: Trade, media_root: Path) -> None:
    [other_goods] = more_goods(trade, media_root, 1)
    headers = {**trade.as_("buyer"), "Idempotency-Key": "k"}
    assert (
        trade.client.post(
            f"{V1}/orders", json={"goods_id": trade.goods_id}, headers=headers
        ).status_code
        == 201
    )
    reused = trade.client.post(f"{V1}/orders", json={"goods_id": other_goods}, headers=headers)
    assert_refused(reused, 409, "idempotency_key_reused")
    assert goods_status(trade, other_goods) == "listed"
    assert len(orders_of(trade, "buyer")) == 1
    # ...and on another route.
    order_id = orders_of(trade, "buyer")[0]
    was = before(trade, order_id)
    assert_refused(
        trade.client.post(f"{V1}/orders/{order_id}/pay", headers=headers),
        409,
        "idempotency_key_reused",
    )
    assert_unchanged(trade, order_id, was)
    assert payment_statuses(trade, order_id) == []


def test_a_failed_request_does_not_use_up_its_key(trade: Trade) -> None:
    add_user(trade, "first_buyer")
    held = trade.post("/orders", "first_buyer", json={"goods_id": trade.goods_id})
    assert held.status_code == 201
    headers = {**trade.as_("buyer"), "Idempotency-Key": "try-again"}
    body = {"goods_id": trade.goods_id}

    refused = trade.client.post(f"{V1}/orders", json=body, headers=headers)
    assert_refused(refused, 409, "goods_not_available")
    released = trade.post(f"/orders/{held.json()['id']}/cancel", "first_buyer", json={})
    assert released.status_code == 200
    retried = trade.client.post(f"{V1}/orders", json=body, headers=headers)
    assert retried.status_code == 201, retried.text
    assert retried.json()["buyer_id"] == trade.buyer.id


def test_keys_belong_to_their_user(trade: Trade, media_root: Path) -> None:
    add_user(trade, "neighbour")
    [other_goods] = more_goods(trade, media_root, 1)
    mine = trade.client.post(
        f"{V1}/orders",
        json={"goods_id": trade.goods_id},
        headers={**trade.as_("buyer"), "Idempotency-Key": "same"},
    )
    theirs = trade.client.post(
        f"{V1}/orders",
        json={"goods_id": other_goods},
        headers={**trade.as_("neighbour"), "Idempotency-Key": "same"},
    )
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert theirs.json()["goods_id"] == other_goods


def test_malformed_idempotency_key_is_refused(trade: Trade) -> None:
    for key in ["", "k" * 101, "tab\there"]:
        refused = trade.client.post(
            f"{V1}/orders",
            json={"goods_id": trade.goods_id},
            headers={**trade.as_("buyer"), "Idempotency-Key": key},
        )
        assert_refused(refused, 422, "invalid_idempotency_key", repr(key))
    assert orders_of(trade, "buyer") == []
    assert goods_status(trade, trade.goods_id) == "listed"


def test_starting_a_payment_twice_with_one_key_gives_the_first_answer(trade: Trade) -> None:
    order_id = trade.place()
    headers = {**trade.as_("buyer"), "Idempotency-Key": "pay-1"}
    first = trade.client.post(f"{V1}/orders/{order_id}/pay", headers=headers)
    second = trade.client.post(f"{V1}/orders/{order_id}/pay", headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert payment_statuses(trade, order_id) == ["pending"]

    assert trade.client.post(first.json()["pay_url"]).status_code == 200
    deliver_notifications(trade.client, trade.session)
    # A retry after the order was paid still replays, and pays nothing more.
    third = trade.client.post(f"{V1}/orders/{order_id}/pay", headers=headers)
    assert (third.status_code, third.json()) == (200, first.json())
    assert ledger_kinds(trade, order_id) == ["payment"]
    assert ledger.balance(trade.session, ledger.escrow(order_id)) == PRICE


def test_confirming_receipt_twice_with_one_key_releases_once(trade: Trade) -> None:
    order_id = trade.shipped()
    headers = {**trade.as_("buyer"), "Idempotency-Key": "received"}
    first = trade.client.post(f"{V1}/orders/{order_id}/confirm-receipt", headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "completed"
    was = before(trade, order_id)

    second = trade.client.post(f"{V1}/orders/{order_id}/confirm-receipt", headers=headers)
    assert (second.status_code, second.json()) == (200, first.json())
    assert_unchanged(trade, order_id, was)
    assert ledger_kinds(trade, order_id) == ["payment", "release"]
    assert ledger.balance(trade.session, ledger.available(trade.seller.id)) == PRICE - FEE

    # Without the key, the repeat is a step in the wrong state.
    again = trade.post(f"/orders/{order_id}/confirm-receipt", "buyer")
    assert_refused(again, 409, "invalid_order_state")
    assert_unchanged(trade, order_id, was)


def test_withdrawing_twice_with_one_key_reserves_once(trade: Trade) -> None:
    trade.completed()
    headers = {**trade.as_("seller"), "Idempotency-Key": "withdraw-1"}
    body = {"payout_account_id": trade.payout_account(), "amount": 500_00}

    first = trade.client.post(f"{V1}/withdrawals", json=body, headers=headers)
    assert first.status_code == 201, first.text
    second = trade.client.post(f"{V1}/withdrawals", json=body, headers=headers)
    assert (second.status_code, second.json()) == (201, first.json())

    wallet = trade.get("/wallet", "seller").json()
    assert (wallet["available"], wallet["reserved"]) == (PRICE - FEE - 500_00, 500_00)
    assert [w["id"] for w in trade.get("/withdrawals", "seller").json()["items"]] == [
        first.json()["id"]
    ]

    reused = trade.client.post(
        f"{V1}/withdrawals", json={**body, "amount": 600_00}, headers=headers
    )
    assert_refused(reused, 409, "idempotency_key_reused")
    wallet = trade.get("/wallet", "seller").json()
    assert (wallet["available"], wallet["reserved"]) == (PRICE - FEE - 500_00, 500_00)


def test_withdrawing_more_than_is_available_moves_nothing(trade: Trade) -> None:
    trade.completed()
    account_id = trade.payout_account()
    was = ledger_state(trade.session)
    body = {"payout_account_id": account_id, "amount": PRICE - FEE + 1}
    refused = trade.client.post(
        f"{V1}/withdrawals",
        json=body,
        headers={**trade.as_("seller"), "Idempotency-Key": "too-much"},
    )
    assert_refused(refused, 409, "insufficient_funds")
    assert ledger_state(trade.session) == was
    assert trade.get("/withdrawals", "seller").json()["items"] == []
    # The refusal did not use up the key.
    retried = trade.client.post(
        f"{V1}/withdrawals",
        json={**body, "amount": PRICE - FEE},
        headers={**trade.as_("seller"), "Idempotency-Key": "too-much"},
    )
    assert retried.status_code == 201, retried.text
    assert trade.get("/wallet", "seller").json()["available"] == 0
