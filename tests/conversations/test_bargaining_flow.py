"""Talking and bargaining through the API: a conversation, messages with unread counts and
contact warnings, an offer countered and accepted into an order at the agreed price."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conversations.support import V1, Chat, make_chat
from tests.trade.support import assert_ledger_sound


@pytest.fixture
def chat(app: FastAPI, client: TestClient, session: Session, media_root: Path) -> Iterator[Chat]:
    world = make_chat(app, client, session, media_root)
    yield world
    assert_ledger_sound(session)


def test_offer_countered_then_accepted_opens_an_order_at_the_agreed_price(chat: Chat) -> None:
    conversation_id = chat.open()
    assert chat.open() == conversation_id  # one conversation per buyer and good
    sent = chat.post(
        f"/conversations/{conversation_id}/messages", "buyer", json={"text": "还在吗？"}
    )
    assert sent.status_code == 201, sent.text
    listing = chat.get("/conversations", "seller").json()
    assert listing["items"][0]["unread"] == 1
    assert listing["items"][0]["other_party_nickname"] == "买家"
    goods = chat.get(f"/goods/{chat.goods_id}", "buyer").json()
    row = chat.get("/conversations", "buyer").json()["items"][0]
    assert (row["other_party_nickname"], row["goods_title"], row["goods_price"]) == (
        "卖家",
        goods["title"],
        goods["price"],
    )
    reopened = chat.post(f"/goods/{chat.goods_id}/conversations", "buyer").json()
    assert (reopened["id"], reopened["other_party_nickname"], reopened["goods_title"]) == (
        conversation_id,
        "卖家",
        goods["title"],
    )
    assert reopened["last_message"]["text"] == "还在吗？"

    offer = chat.offer(conversation_id, 1_500_00)
    counter = chat.post(f"/offers/{offer['id']}/counter", "seller", json={"price": 1_800_00})
    assert counter.status_code == 201, counter.text
    accepted = chat.post(f"/offers/{counter.json()['id']}/accept", "buyer")
    assert accepted.status_code == 200, accepted.text
    order_id = accepted.json()["order_id"]

    order = chat.get(f"/orders/{order_id}", "buyer").json()
    assert (order["price"], order["status"], order["offer_id"]) == (
        1_800_00,
        "awaiting_payment",
        counter.json()["id"],
    )
    offers = chat.get(f"/conversations/{conversation_id}/offers", "buyer").json()
    assert [o["status"] for o in offers] == ["countered", "accepted"]
    kinds = [n["kind"] for n in chat.get("/notifications", "buyer").json()["items"]]
    assert "counter_offer" in kinds


def test_messages_with_contact_details_carry_a_warning(chat: Chat) -> None:
    conversation_id = chat.open()
    chat.post(
        f"/conversations/{conversation_id}/messages",
        "buyer",
        json={"text": "加我微信 abc_12345 聊"},
    )
    messages = chat.get(f"/conversations/{conversation_id}/messages", "seller").json()
    assert messages[-1]["contact_warning"] is True


def test_the_socket_catches_up_then_receives_live_messages(chat: Chat) -> None:
    conversation_id = chat.open()
    first = chat.post(
        f"/conversations/{conversation_id}/messages", "buyer", json={"text": "第一条"}
    )
    token = chat.headers["seller"]["Authorization"].split()[1]
    with chat.client.websocket_connect(f"{V1}/ws?token={token}&after=0") as socket:
        caught_up = socket.receive_json()
        assert (caught_up["type"], caught_up["id"]) == ("message", first.json()["id"])
        chat.post(f"/conversations/{conversation_id}/messages", "buyer", json={"text": "第二条"})
        live = socket.receive_json()
        while live["type"] != "message":
            live = socket.receive_json()
        assert live["text"] == "第二条"


def test_a_socket_without_a_valid_token_is_refused(client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(f"{V1}/ws?token=forged") as socket,
    ):
        socket.receive_json()
    assert refused.value.code == 4401
