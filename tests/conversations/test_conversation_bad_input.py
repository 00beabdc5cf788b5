"""Conversations and bargaining refuse what they should, with the code a client acts on:
prices out of range or under the seller's floor, goods not on sale or one's own, messages
too long, empty or too many, steps taken by the wrong side or on closed offers, strangers
in someone else's conversation, and bargaining terms set by anyone but the seller."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.websockets import WebSocketDisconnect

from tests.conversations.support import V1, Chat, make_chat
from tests.factories import goods_body, leaf_category, login, make_user

PRICE = 2_000_00


@pytest.fixture
def chat(app: FastAPI, client: TestClient, session: Session, media_root: Path) -> Chat:
    world = make_chat(app, client, session, media_root, price=PRICE)
    stranger = make_user(session, nickname="路人")
    session.commit()
    world.headers["stranger"] = login(client, stranger)
    return world


def _refused(response: Any, status: int, code: str) -> None:
    assert (response.status_code, response.json()["code"]) == (status, code), response.text


def _offer(chat: Chat, conversation_id: int, price: Any, who: str = "buyer") -> Any:
    return chat.post(f"/conversations/{conversation_id}/offers", who, json={"price": price})


def _say(chat: Chat, conversation_id: int, text: Any, who: str = "buyer") -> Any:
    return chat.post(f"/conversations/{conversation_id}/messages", who, json={"text": text})


def _terms(chat: Chat, who: str, **body: Any) -> Any:
    return chat.client.put(
        f"{V1}/goods/{chat.goods_id}/bargaining", headers=chat.headers[who], json=body
    )


def _pending_offer(chat: Chat) -> tuple[int, int]:
    """A conversation and the buyer's open offer in it."""
    conversation_id = chat.open()
    return conversation_id, int(chat.offer(conversation_id, 1_500_00)["id"])


def _counter(chat: Chat) -> int:
    """The seller's open counter to the buyer's offer."""
    _, offer_id = _pending_offer(chat)
    response = chat.post(f"/offers/{offer_id}/counter", "seller", json={"price": 1_800_00})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_an_offer_at_or_below_zero_is_refused(chat: Chat) -> None:
    conversation_id = chat.open()
    for price in (0, -1, -PRICE):
        _refused(_offer(chat, conversation_id, price), 422, "invalid_price")
    assert chat.get(f"/conversations/{conversation_id}/offers", "buyer").json() == []


def test_an_offer_that_is_not_a_whole_number_of_fen_is_refused(chat: Chat) -> None:
    conversation_id = chat.open()
    for price in ("1500", 1500.5, True, None):
        _refused(_offer(chat, conversation_id, price), 422, "validation_error")
    assert chat.get(f"/conversations/{conversation_id}/offers", "buyer").json() == []


def test_an_offer_above_the_list_price_is_refused_but_the_list_price_itself_is_fine(
    chat: Chat,
) -> None:
    conversation_id = chat.open()
    _refused(_offer(chat, conversation_id, PRICE + 1), 422, "invalid_price")
    assert _offer(chat, conversation_id, PRICE).status_code == 201


def test_an_offer_below_the_sellers_floor_is_refused(chat: Chat) -> None:
    terms = _terms(chat, "seller", floor_price=1_600_00)
    assert terms.status_code == 200, terms.text
    assert terms.json() == {
        "goods_id": chat.goods_id,
        "no_bargaining": False,
        "floor_price": 1_600_00,
    }
    # Shoppers never see the floor; the seller does.
    assert chat.get(f"/goods/{chat.goods_id}", "buyer").json()["floor_price"] is None
    conversation_id = chat.open()

    _refused(_offer(chat, conversation_id, 1_599_99), 409, "below_floor")

    assert _offer(chat, conversation_id, 1_600_00).status_code == 201


def test_a_no_bargaining_good_takes_no_offers_but_can_still_be_discussed_and_bought(
    chat: Chat,
) -> None:
    assert _terms(chat, "seller", no_bargaining=True).status_code == 200
    conversation_id = chat.open()

    _refused(_offer(chat, conversation_id, 1_900_00), 409, "no_bargaining")

    assert _say(chat, conversation_id, "真的不议价吗？").status_code == 201
    bought = chat.post("/orders", "buyer", json={"goods_id": chat.goods_id})
    assert (bought.status_code, bought.json()["price"]) == (201, PRICE)


def test_a_seller_cannot_open_a_conversation_on_their_own_goods(chat: Chat) -> None:
    response = chat.post(f"/goods/{chat.goods_id}/conversations", "seller")
    _refused(response, 409, "own_goods")
    assert chat.get("/conversations", "seller").json()["items"] == []


def test_goods_that_are_not_on_sale_cannot_be_talked_about(chat: Chat) -> None:
    draft = chat.post("/goods", "seller", json=goods_body(leaf_category(chat.session).id))
    assert draft.status_code == 201, draft.text
    _refused(
        chat.post(f"/goods/{draft.json()['id']}/conversations", "buyer"), 404, "goods_not_found"
    )
    _refused(chat.post("/goods/999999999/conversations", "buyer"), 404, "goods_not_found")
    withdrawn = chat.post(f"/goods/{chat.goods_id}/withdraw", "seller")
    assert withdrawn.status_code == 200, withdrawn.text
    _refused(chat.post(f"/goods/{chat.goods_id}/conversations", "buyer"), 404, "goods_not_found")


def test_an_offer_on_goods_withdrawn_since_the_chat_began_is_refused(chat: Chat) -> None:
    conversation_id = chat.open()
    assert chat.post(f"/goods/{chat.goods_id}/withdraw", "seller").status_code == 200

    _refused(_offer(chat, conversation_id, 1_500_00), 409, "goods_not_available")


def test_message_length_is_one_to_a_thousand_characters(chat: Chat) -> None:
    conversation_id = chat.open()
    assert _say(chat, conversation_id, "好" * 1000).status_code == 201
    _refused(_say(chat, conversation_id, "好" * 1001), 422, "validation_error")
    _refused(_say(chat, conversation_id, ""), 422, "validation_error")
    _refused(_say(chat, conversation_id, "   \n "), 422, "validation_error")
    _refused(
        chat.post(f"/conversations/{conversation_id}/messages", "buyer", json={}),
        422,
        "validation_error",
    )
    assert len(chat.get(f"/conversations/{conversation_id}/messages", "seller").json()) == 1


def test_unknown_fields_are_refused(chat: Chat) -> None:
    conversation_id, offer_id = _pending_offer(chat)
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        (f"/conversations/{conversation_id}/messages", "buyer", {"text": "在吗", "sender_id": 1}),
        (f"/conversations/{conversation_id}/offers", "buyer", {"price": 1, "status": "accepted"}),
        (f"/offers/{offer_id}/counter", "seller", {"price": 1_800_00, "proposed_by": 1}),
        ("/notifications/read", "seller", {"ids": [], "user_id": 1}),
    ]

    for path, who, body in attempts:
        _refused(chat.post(path, who, json=body), 422, "validation_error")

    offers = chat.get(f"/conversations/{conversation_id}/offers", "buyer").json()
    assert [(o["price"], o["status"]) for o in offers] == [(1_500_00, "pending")]
    assert chat.get("/notifications", "seller").json()["unread"] == 1
    _refused(_terms(chat, "seller", no_bargaining=True, discount=10), 422, "validation_error")


def test_a_message_flood_is_cut_off(
    chat: Chat, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.state.api_settings, "messages_per_minute", 3)
    conversation_id = chat.open()
    for n in range(3):
        assert _say(chat, conversation_id, f"第{n}条").status_code == 201

    _refused(_say(chat, conversation_id, "第四条"), 429, "rate_limited")

    # The limit is per sender: the seller can still answer.
    assert _say(chat, conversation_id, "别刷屏", who="seller").status_code == 201
    assert len(chat.get(f"/conversations/{conversation_id}/messages", "seller").json()) == 4


def test_only_the_buyer_makes_offers(chat: Chat) -> None:
    conversation_id = chat.open()
    _refused(_offer(chat, conversation_id, 1_500_00, who="seller"), 403, "not_your_step")


def test_only_the_seller_counters_the_buyers_offer(chat: Chat) -> None:
    _, offer_id = _pending_offer(chat)
    _refused(
        chat.post(f"/offers/{offer_id}/counter", "buyer", json={"price": 1_400_00}),
        403,
        "not_your_step",
    )


def test_nobody_counters_the_sellers_counter(chat: Chat) -> None:
    counter_id = _counter(chat)
    for who in ("buyer", "seller"):
        response = chat.post(f"/offers/{counter_id}/counter", who, json={"price": 1_700_00})
        _refused(response, 403, "not_your_step")


def test_a_counter_above_the_list_price_is_refused(chat: Chat) -> None:
    _, offer_id = _pending_offer(chat)
    response = chat.post(f"/offers/{offer_id}/counter", "seller", json={"price": PRICE + 1})
    _refused(response, 422, "invalid_price")


def test_whoever_proposed_a_price_cannot_accept_or_reject_it(chat: Chat) -> None:
    _, offer_id = _pending_offer(chat)
    _refused(chat.post(f"/offers/{offer_id}/accept", "buyer"), 403, "not_your_step")
    _refused(chat.post(f"/offers/{offer_id}/reject", "buyer"), 403, "not_your_step")


def test_the_seller_cannot_accept_their_own_counter(chat: Chat) -> None:
    counter_id = _counter(chat)
    _refused(chat.post(f"/offers/{counter_id}/accept", "seller"), 403, "not_your_step")
    assert chat.get("/orders", "buyer").json()["items"] == []


def test_only_whoever_proposed_a_price_withdraws_it(chat: Chat) -> None:
    _, offer_id = _pending_offer(chat)
    _refused(chat.post(f"/offers/{offer_id}/withdraw", "seller"), 403, "not_your_step")


def test_a_closed_offer_cannot_be_acted_on(chat: Chat) -> None:
    _, offer_id = _pending_offer(chat)
    assert chat.post(f"/offers/{offer_id}/withdraw", "buyer").status_code == 200
    attempts: list[tuple[str, str, dict[str, int] | None]] = [
        ("accept", "seller", None),
        ("reject", "seller", None),
        ("counter", "seller", {"price": 1_800_00}),
        ("withdraw", "buyer", None),
    ]

    for action, who, body in attempts:
        response = chat.post(f"/offers/{offer_id}/{action}", who, json=body)
        _refused(response, 409, "offer_closed")
        assert response.json()["status"] == "withdrawn"

    assert chat.get("/orders", "buyer").json()["items"] == []


def test_a_stranger_cannot_see_or_join_someone_elses_conversation(chat: Chat) -> None:
    conversation_id, _ = _pending_offer(chat)
    assert _say(chat, conversation_id, "私聊内容").status_code == 201

    for response in (
        chat.get(f"/conversations/{conversation_id}/messages", "stranger"),
        chat.get(f"/conversations/{conversation_id}/offers", "stranger"),
        _say(chat, conversation_id, "我也想要", who="stranger"),
        _offer(chat, conversation_id, 1_000_00, who="stranger"),
    ):
        _refused(response, 404, "conversation_not_found")
    assert chat.get("/conversations", "stranger").json()["items"] == []
    texts = [
        m["text"] for m in chat.get(f"/conversations/{conversation_id}/messages", "seller").json()
    ]
    assert "我也想要" not in texts


def test_a_stranger_cannot_act_on_someone_elses_offer(chat: Chat) -> None:
    conversation_id, offer_id = _pending_offer(chat)

    for action in ("accept", "reject", "counter", "withdraw"):
        body = {"price": 1_000_00} if action == "counter" else None
        response = chat.post(f"/offers/{offer_id}/{action}", "stranger", json=body)
        _refused(response, 404, "offer_not_found")

    offers = chat.get(f"/conversations/{conversation_id}/offers", "buyer").json()
    assert [o["status"] for o in offers] == ["pending"]
    assert chat.get(f"/goods/{chat.goods_id}", "buyer").json()["status"] == "listed"


def test_acting_on_an_offer_that_does_not_exist_is_not_found(chat: Chat) -> None:
    _refused(chat.post("/offers/999999999/accept", "seller"), 404, "offer_not_found")
    _refused(chat.get("/conversations/999999999/messages", "buyer"), 404, "conversation_not_found")


def _socket_close_code(chat: Chat, who: str, conversation_id: int) -> int:
    """Connect `who`'s socket narrowed to one conversation; the code it is closed with."""
    token = chat.headers[who]["Authorization"].split()[1]
    url = f"{V1}/ws?token={token}&conversation_id={conversation_id}"
    with pytest.raises(WebSocketDisconnect) as refused, chat.client.websocket_connect(url) as ws:
        ws.receive_json()
    return refused.value.code


def test_a_strangers_socket_on_someone_elses_conversation_is_refused(chat: Chat) -> None:
    conversation_id = chat.open()
    assert _say(chat, conversation_id, "只给卖家看").status_code == 201

    assert _socket_close_code(chat, "stranger", conversation_id) == 4403

    # The seller's own socket on it is let in and catches up.
    token = chat.headers["seller"]["Authorization"].split()[1]
    url = f"{V1}/ws?token={token}&conversation_id={conversation_id}"
    with chat.client.websocket_connect(url) as socket:
        assert socket.receive_json()["text"] == "只给卖家看"


def test_a_socket_on_a_conversation_that_does_not_exist_is_refused(chat: Chat) -> None:
    assert _socket_close_code(chat, "buyer", 999_999_999) == 4403


def test_only_the_seller_sets_bargaining_terms(chat: Chat) -> None:
    _refused(_terms(chat, "buyer", no_bargaining=True), 403, "not_goods_owner")
    _refused(_terms(chat, "stranger", floor_price=1_00), 403, "not_goods_owner")
    draft = chat.post("/goods", "seller", json=goods_body(leaf_category(chat.session).id))
    hidden = chat.client.put(
        f"{V1}/goods/{draft.json()['id']}/bargaining",
        headers=chat.headers["buyer"],
        json={"no_bargaining": True},
    )
    _refused(hidden, 404, "goods_not_found")
    # Nothing changed: the buyer can still offer anything.
    assert _offer(chat, chat.open(), 1_00).status_code == 201


def test_a_floor_outside_one_fen_to_the_price_is_refused(chat: Chat) -> None:
    _refused(_terms(chat, "seller", floor_price=PRICE + 1), 422, "invalid_price")
    for floor_price in (0, -1_00, "1000"):
        _refused(_terms(chat, "seller", floor_price=floor_price), 422, "validation_error")
    # None of it stuck: a one-fen offer still goes through.
    assert _offer(chat, chat.open(), 1_00).status_code == 201


def test_terms_of_goods_held_for_an_order_cannot_change(chat: Chat) -> None:
    assert chat.post("/orders", "buyer", json={"goods_id": chat.goods_id}).status_code == 201
    _refused(_terms(chat, "seller", floor_price=1_900_00), 409, "goods_in_trade")
