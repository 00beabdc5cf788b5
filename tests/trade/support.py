"""Shared pieces of the trade tests: a clock the tests move, an order taken to any step
through the API, the gateway's notifications delivered by hand, and the invariant check."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.trade import invariants
from catalog.trade.models import SandboxCharge
from catalog.users.models import Role, User
from tests.catalog.test_videos import mp4_video
from tests.factories import listed_goods, make_user

V1 = "/api/v1"


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 8, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Trade:
    """A buyer, a seller, an operator and one listed goods, logged in to one client."""

    client: TestClient
    session: Session
    clock: Clock
    buyer: User
    seller: User
    operator: User
    goods_id: int
    headers: dict[str, dict[str, str]]

    def as_(self, who: str) -> dict[str, str]:
        return self.headers[who]

    def post(self, path: str, who: str, **kwargs: Any) -> Any:
        return self.client.post(f"{V1}{path}", headers=self.as_(who), **kwargs)

    def get(self, path: str, who: str, **kwargs: Any) -> Any:
        return self.client.get(f"{V1}{path}", headers=self.as_(who), **kwargs)

    def order(self, order_id: int, who: str = "buyer") -> dict[str, Any]:
        response = self.get(f"/orders/{order_id}", who)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def place(self) -> int:
        response = self.post("/orders", "buyer", json={"goods_id": self.goods_id})
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def pay(self, order_id: int) -> dict[str, Any]:
        """Start a payment, take the sandbox's pay step, deliver the notification."""
        started = self.post(f"/orders/{order_id}/pay", "buyer")
        assert started.status_code == 200, started.text
        paid = self.client.post(started.json()["pay_url"])
        assert paid.status_code == 200, paid.text
        deliver_notifications(self.client, self.session)
        return dict(started.json())

    def paid_order(self) -> int:
        order_id = self.place()
        self.pay(order_id)
        return order_id

    def with_video(self) -> int:
        order_id = self.paid_order()
        response = self.post(
            f"/orders/{order_id}/video",
            "seller",
            files={"file": ("item.mp4", mp4_video(seconds=4), "video/mp4")},
        )
        assert response.status_code == 200, response.text
        return order_id

    def confirmed(self) -> int:
        order_id = self.with_video()
        response = self.post(f"/orders/{order_id}/confirm-video", "buyer")
        assert response.status_code == 200, response.text
        return order_id

    def shipped(self) -> int:
        order_id = self.confirmed()
        response = self.post(
            f"/orders/{order_id}/ship",
            "seller",
            json={"carrier": "SF", "tracking_number": "SF1234567890"},
        )
        assert response.status_code == 200, response.text
        return order_id

    def completed(self) -> int:
        order_id = self.shipped()
        response = self.post(f"/orders/{order_id}/confirm-receipt", "buyer")
        assert response.status_code == 200, response.text
        return order_id

    def payout_account(self, number: str = "13800138000") -> int:
        """An Alipay account of the seller's (holder 王小明) to withdraw to."""
        account = self.post(
            "/wallet/payout-accounts",
            "seller",
            json={"kind": "alipay", "holder_name": "王小明", "number": number},
        )
        assert account.status_code == 201, account.text
        return int(account.json()["id"])

    def sweep(self) -> int:
        from catalog.trade.sweeper import sweep_due_orders

        settings = self.client.app.state.trade_settings  # type: ignore[attr-defined]
        swept = sweep_due_orders(self.session, now=self.clock(), settings=settings)
        self.session.commit()
        return swept


def notifications(session: Session) -> list[tuple[bytes, str]]:
    """Every notification the sandbox gateway owes (or owed) the webhook, as sent."""
    charges = session.scalars(
        select(SandboxCharge)
        .where(SandboxCharge.notification.is_not(None))
        .order_by(SandboxCharge.id)
    )
    return [
        (c.notification.encode(), c.signature) for c in charges if c.notification and c.signature
    ]


def deliver_notifications(client: TestClient, session: Session) -> list[str]:
    """Play the gateway's courier: post each owed notification to the webhook."""
    from catalog.trade.sandbox_gateway import SIGNATURE_HEADER

    results = []
    for body, signature in notifications(session):
        response = client.post(
            f"{V1}/payments/sandbox/notify",
            content=body,
            headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text
        results.append(response.json()["result"])
    return results


def assert_ledger_sound(session: Session) -> None:
    session.flush()
    assert invariants.violations(session) == []


def make_trade(
    app: FastAPI, client: TestClient, session: Session, media_root: Path, *, price: int = 1_000_00
) -> Trade:
    clock = Clock()
    app.state.clock = clock
    seller = make_user(session, nickname="卖家", verified=True)
    buyer = make_user(session, nickname="买家")
    operator = make_user(session, role=Role.OPERATOR, nickname="客服")
    goods_id = listed_goods(
        session,
        seller=seller,
        title="二手 索尼 WH-1000XM4 耳机",
        media_root=media_root,
        price=price,
    )
    session.commit()
    headers = {"buyer": bearer(session, buyer), "seller": bearer(session, seller)}
    headers["operator"] = bearer(session, operator)
    session.commit()
    return Trade(client, session, clock, buyer, seller, operator, goods_id, headers)


def bearer(session: Session, user: User) -> dict[str, str]:
    """A live login for `user` without the password check (argon2 is slow on purpose;
    the login route has its own tests)."""
    from catalog.users import service as users

    issued = users.open_session(session, user=user)
    return {"Authorization": f"Bearer {issued.token}"}
