"""The sandbox gateway's notifications at scale and over real HTTP: a thousand payments, each
told three times in a shuffled order, take effect once; and the courier retries a refusal."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from catalog.clock import utcnow
from catalog.goods.models import Condition, Goods, GoodsStatus
from catalog.ledger.models import AccountKind, LedgerAccount
from catalog.trade import invariants, payments, sandbox_gateway
from catalog.trade import service as trade
from catalog.trade.models import Order, OrderStatus, Payment, PaymentStatus, SandboxCharge
from catalog.trade.notification_delivery import WEBHOOK_PATH, deliver_due_notifications
from catalog.trade.settings import TradeSettings
from catalog.users.models import User
from tests.factories import leaf_category, make_user
from tests.trade.support import V1, Clock

PAYMENTS = 1_000
TELLINGS = 3


def listed_goods_rows(
    session: Session, *, seller: User, prices: Sequence[int], title: str = "二手 机械键盘 青轴"
) -> list[int]:
    """Listed goods written straight to the table (no photos, no review): many, cheaply."""
    category_id = leaf_category(session).id
    now = utcnow()
    rows = [
        Goods(
            seller_id=seller.id,
            category_id=category_id,
            title=title,
            price=price,
            condition=Condition.GOOD_90,
            city="杭州",
            status=GoodsStatus.LISTED,
            submitted_at=now,
            published_at=now,
        )
        for price in prices
    ]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


def _unpaid_orders_with_paid_charges(
    session: Session, clock: Clock, settings: TradeSettings, count: int
) -> dict[int, str]:
    """`count` orders whose buyers paid at the sandbox; no notification delivered yet.
    Returns the gateway reference of each order's payment."""
    seller = make_user(session, nickname="卖家", verified=True)
    # Each buyer may hold only so many unpaid orders.
    buyers = [
        make_user(session, nickname="买家") for _ in range(-(-count // settings.max_unpaid_orders))
    ]
    goods_ids = listed_goods_rows(
        session, seller=seller, prices=[1_00 + index * 7 for index in range(count)]
    )
    refs = {}
    for index, goods_id in enumerate(goods_ids):
        buyer = buyers[index // settings.max_unpaid_orders]
        order = trade.place_order(
            session, buyer=buyer, goods_id=goods_id, now=clock(), settings=settings
        )
        started = payments.start_payment(session, buyer=buyer, order_id=order.id, now=clock())
        sandbox_gateway.pay(session, ref=started.payment.gateway_ref, now=clock())
        refs[order.id] = started.payment.gateway_ref
    session.commit()
    return refs


def test_a_thousand_payments_told_three_times_in_any_order_each_take_effect_once(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    clock = Clock()
    app.state.clock = clock
    settings: TradeSettings = app.state.trade_settings
    refs = _unpaid_orders_with_paid_charges(session, clock, settings, PAYMENTS)
    charges = session.scalars(
        select(SandboxCharge).where(SandboxCharge.ref.in_(refs.values()))
    ).all()
    told = [
        (charge.notification.encode(), charge.signature)
        for charge in charges
        if charge.notification is not None and charge.signature is not None
    ] * TELLINGS
    random.Random(20261123).shuffle(told)
    clock.advance(minutes=2)

    results: Counter[str] = Counter()
    for body, signature in told:
        response = client.post(
            f"{V1}/payments/sandbox/notify",
            content=body,
            headers={
                sandbox_gateway.SIGNATURE_HEADER: signature,
                "Content-Type": "application/json",
            },
        )
        assert response.status_code == 200, response.text
        results[response.json()["result"]] += 1

    assert results == {"applied": PAYMENTS, "duplicate": (TELLINGS - 1) * PAYMENTS}
    held = session.execute(
        select(Order.id, Order.status, Order.price, LedgerAccount.balance)
        .outerjoin(
            LedgerAccount,
            (LedgerAccount.kind == AccountKind.ESCROW) & (LedgerAccount.owner_id == Order.id),
        )
        .where(Order.id.in_(refs))
    ).all()
    assert len(held) == PAYMENTS
    assert [row.id for row in held if row.status is not OrderStatus.PAID] == []
    assert [row.id for row in held if row.balance != row.price] == []
    statuses = Counter(
        session.scalars(select(Payment.status).where(Payment.order_id.in_(refs))).all()
    )
    assert statuses == {PaymentStatus.SUCCEEDED: PAYMENTS}
    assert invariants.violations(session) == []


def test_a_notification_with_a_forged_signature_changes_nothing(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    clock = Clock()
    app.state.clock = clock
    [(order_id, ref)] = _unpaid_orders_with_paid_charges(
        session, clock, app.state.trade_settings, 1
    ).items()
    charge = session.scalars(select(SandboxCharge).where(SandboxCharge.ref == ref)).one()
    assert charge.notification is not None

    response = client.post(
        f"{V1}/payments/sandbox/notify",
        content=charge.notification.encode(),
        headers={sandbox_gateway.SIGNATURE_HEADER: "0" * 64, "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "bad_signature"
    assert session.get_one(Order, order_id, populate_existing=True).status is (
        OrderStatus.AWAITING_PAYMENT
    )


@dataclass
class Webhook:
    """A real HTTP endpoint that answers each request with the next of `answers` (the last
    one repeats) and keeps what it was sent."""

    url: str
    answers: list[int]
    # Each request's body and headers (names in lower case).
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook(url="", answers=[500, 200])
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                headers = {name.lower(): value for name, value in self.headers.items()}
                hook.received.append((body, headers))
                status = hook.answers[min(len(hook.received), len(hook.answers)) - 1]
            payload = b'{"result": "applied"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}{WEBHOOK_PATH}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hook
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_courier_retries_a_refused_notification_and_records_the_delivery(
    session: Session, session_factory: sessionmaker[Session], webhook: Webhook
) -> None:
    clock = Clock()
    paid_at = clock()
    ref = sandbox_gateway.create_charge(session, amount=345_67)
    charge = sandbox_gateway.pay(session, ref=ref, now=paid_at)
    session.commit()
    sent = charge.notification
    assert sent is not None
    assert charge.signature is not None

    def deliver() -> int:
        with httpx2.Client() as http:
            return deliver_due_notifications(
                session_factory, client=http, url=webhook.url, now=clock()
            )

    def reread() -> SandboxCharge:
        return session.get_one(SandboxCharge, charge.id, populate_existing=True)

    assert deliver() == 0  # the webhook answered 500
    refused = reread()
    assert refused.delivery_attempts == 1
    assert refused.next_delivery_at == clock() + timedelta(seconds=sandbox_gateway.RETRY_STEPS[0])
    assert refused.delivered_at is None

    clock.advance(seconds=sandbox_gateway.RETRY_STEPS[0] / 2)
    assert deliver() == 0  # not due again yet: nothing is sent
    assert len(webhook.received) == 1

    clock.advance(seconds=sandbox_gateway.RETRY_STEPS[0] / 2)
    assert deliver() == 1
    delivered = reread()
    assert delivered.delivery_attempts == 2
    assert delivered.delivered_at is not None
    assert delivered.next_delivery_at is None

    clock.advance(days=1)
    assert deliver() == 0  # acknowledged notifications are not sent again
    assert len(webhook.received) == 2
    signature_header = sandbox_gateway.SIGNATURE_HEADER.lower()
    for body, headers in webhook.received:
        assert body == sent.encode()
        assert headers[signature_header] == charge.signature
        assert headers["content-type"] == "application/json"
        told = sandbox_gateway.verify(body, headers[signature_header])
        assert (told.ref, told.amount, told.status, told.paid_at) == (ref, 345_67, "paid", paid_at)
