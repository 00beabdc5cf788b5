"""Shared pieces of the conversation tests: a buyer, a seller and listed goods, logged in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from catalog.users.models import User
from tests.factories import listed_goods, make_user
from tests.trade.support import Clock, bearer

V1 = "/api/v1"


@dataclass
class Chat:
    client: TestClient
    session: Session
    clock: Clock
    buyer: User
    seller: User
    goods_id: int
    headers: dict[str, dict[str, str]]

    def post(self, path: str, who: str, **kwargs: Any) -> Any:
        return self.client.post(f"{V1}{path}", headers=self.headers[who], **kwargs)

    def get(self, path: str, who: str, **kwargs: Any) -> Any:
        return self.client.get(f"{V1}{path}", headers=self.headers[who], **kwargs)

    def open(self, who: str = "buyer") -> int:
        response = self.post(f"/goods/{self.goods_id}/conversations", who)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def offer(self, conversation_id: int, price: int) -> dict[str, Any]:
        response = self.post(
            f"/conversations/{conversation_id}/offers", "buyer", json={"price": price}
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


def make_chat(
    app: FastAPI, client: TestClient, session: Session, media_root: Path, *, price: int = 2_000_00
) -> Chat:
    clock = Clock()
    app.state.clock = clock
    seller = make_user(session, nickname="卖家")
    buyer = make_user(session, nickname="买家")
    goods_id = listed_goods(
        session,
        seller=seller,
        title="九成新 任天堂 Switch 续航版",
        media_root=media_root,
        price=price,
    )
    session.commit()
    headers = {"buyer": bearer(session, buyer), "seller": bearer(session, seller)}
    session.commit()
    return Chat(client, session, clock, buyer, seller, goods_id, headers)
