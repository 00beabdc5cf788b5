"""The bargaining path through the API, on SQLite and PostgreSQL, with a clock the test
moves: offers rejected, countered, withdrawn and accepted into an order that is paid at
the agreed price; offers expiring; competing offers declined when the good is ordered;
unread counts, notifications, ranking events, and spotting contact details in chat."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from catalog import jobs
from catalog.conversations.contact_details import has_contact_details
from catalog.conversations.offers import sweep_due_offers
from catalog.events.models import Event
from catalog.ledger import service as ledger
from tests.conversations.support import Chat, make_chat
from tests.factories import login, make_user
from tests.trade.support import assert_ledger_sound, deliver_notifications

PRICE = 2_000_00


@pytest.fixture
def chat(app: FastAPI, client: TestClient, session: Session, media_root: Path) -> Iterator[Chat]:
    world = make_chat(app, client, session, media_root, price=PRICE)
    yield world
    assert_ledger_sound(session)


def _another_buyer(chat: Chat, who: str) -> int:
    """One more shopper, logged in, acting as `who`; their user id."""
    user = make_user(chat.session, nickname=who)
    chat.session.commit()
    chat.headers[who] = login(chat.client, user)
    return user.id


def _offer(chat: Chat, conversation_id: int, price: int, who: str = "buyer") -> dict[str, Any]:
    response = chat.post(f"/conversations/{conversation_id}/offers", who, json={"price": price})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _act(chat: Chat, offer_id: int, action: str, who: str, **body: int) -> Any:
    return chat.post(f"/offers/{offer_id}/{action}", who, json=body or None)


def _statuses(chat: Chat, conversation_id: int) -> list[str]:
    offers = chat.get(f"/conversations/{conversation_id}/offers", "buyer").json()
    return [offer["status"] for offer in offers]


def _messages(chat: Chat, conversation_id: int, who: str = "buyer") -> list[dict[str, Any]]:
    response = chat.get(f"/conversations/{conversation_id}/messages", who)
    assert response.status_code == 200, response.text
    return list(response.json())


def _notice_kinds(chat: Chat, who: str) -> list[str]:
    return [notice["kind"] for notice in chat.get("/notifications", who).json()["items"]]


def _goods_status(chat: Chat) -> str:
    return str(chat.get(f"/goods/{chat.goods_id}", "seller").json()["status"])


def _unread(chat: Chat, who: str) -> int:
    [conversation] = chat.get("/conversations", who).json()["items"]
    return int(conversation["unread"])


def test_seller_rejects_an_offer_and_the_buyer_is_told(chat: Chat) -> None:
    conversation_id = chat.open()
    offer = _offer(chat, conversation_id, 1_200_00)
    assert "offer" in _notice_kinds(chat, "seller")

    rejected = _act(chat, offer["id"], "reject", "seller")

    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert "offer_rejected" in _notice_kinds(chat, "buyer")
    last = _messages(chat, conversation_id)[-1]
    assert (last["kind"], last["sender_id"]) == ("offer", chat.seller.id)
    assert "拒绝" in last["text"]
    again = _act(chat, offer["id"], "accept", "seller")
    assert (again.status_code, again.json()["code"]) == (409, "offer_closed")
    assert _goods_status(chat) == "listed"


def test_haggling_back_and_forth_ends_in_an_order_at_the_last_price(chat: Chat) -> None:
    conversation_id = chat.open()
    first = _offer(chat, conversation_id, 1_500_00)
    counter = _act(chat, first["id"], "counter", "seller", price=1_900_00)
    assert counter.status_code == 201, counter.text
    assert counter.json()["counters_id"] == first["id"]
    turned_down = _act(chat, counter.json()["id"], "reject", "buyer")
    assert turned_down.status_code == 200, turned_down.text
    second = _offer(chat, conversation_id, 1_600_00)
    withdrawn = _act(chat, second["id"], "withdraw", "buyer")
    assert withdrawn.status_code == 200, withdrawn.text
    third = _offer(chat, conversation_id, 1_800_00)

    accepted = _act(chat, third["id"], "accept", "seller")

    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["offer"]["status"] == "accepted"
    assert _statuses(chat, conversation_id) == ["countered", "rejected", "withdrawn", "accepted"]
    order = chat.get(f"/orders/{accepted.json()['order_id']}", "buyer").json()
    assert (order["price"], order["status"], order["offer_id"]) == (
        1_800_00,
        "awaiting_payment",
        third["id"],
    )
    assert _goods_status(chat) == "reserved"
    assert "offer_accepted" in _notice_kinds(chat, "buyer")


def test_buyer_accepts_the_counter_and_pays_exactly_the_agreed_price(chat: Chat) -> None:
    conversation_id = chat.open()
    offer = _offer(chat, conversation_id, 1_500_00)
    counter = _act(chat, offer["id"], "counter", "seller", price=1_750_00).json()

    accepted = _act(chat, counter["id"], "accept", "buyer")

    assert accepted.status_code == 200, accepted.text
    order_id = accepted.json()["order_id"]
    assert "offer_accepted" in _notice_kinds(chat, "seller")
    started = chat.post(f"/orders/{order_id}/pay", "buyer")
    assert started.status_code == 200, started.text
    assert started.json()["amount"] == 1_750_00
    paid = chat.client.post(started.json()["pay_url"])
    assert paid.status_code == 200, paid.text
    assert deliver_notifications(chat.client, chat.session) == ["applied"]
    order = chat.get(f"/orders/{order_id}", "buyer").json()
    assert (order["status"], order["price"]) == ("paid", 1_750_00)
    assert ledger.balance(chat.session, ledger.escrow(order_id)) == 1_750_00


def test_a_new_offer_does_not_withdraw_the_sellers_counter_in_the_buyers_name(
    chat: Chat,
) -> None:
    conversation_id = chat.open()
    first = _offer(chat, conversation_id, 1_500_00)
    counter = _act(chat, first["id"], "counter", "seller", price=1_900_00).json()

    _offer(chat, conversation_id, 1_700_00)

    offers = chat.get(f"/conversations/{conversation_id}/offers", "seller").json()
    by_id = {offer["id"]: offer["status"] for offer in offers}
    assert by_id[counter["id"]] in {"pending", "rejected"}
    assert "offer_withdrawn" not in _notice_kinds(chat, "seller")


def test_an_unanswered_offer_expires_after_a_day_with_a_note_in_the_chat(chat: Chat) -> None:
    conversation_id = chat.open()
    offer = _offer(chat, conversation_id, 1_500_00)
    assert offer["due_at"].startswith("2026-11-24T08:00")

    chat.clock.advance(hours=25)
    assert sweep_due_offers(chat.session, now=chat.clock()) == 1
    chat.session.commit()

    assert _statuses(chat, conversation_id) == ["expired"]
    note = _messages(chat, conversation_id)[-1]
    assert note["sender_id"] is None
    assert "过期" in note["text"]
    assert "offer_expired" in _notice_kinds(chat, "buyer")
    assert "offer_expired" in _notice_kinds(chat, "seller")
    late = _act(chat, offer["id"], "accept", "seller")
    assert (late.status_code, late.json()["code"]) == (409, "offer_closed")
    assert sweep_due_offers(chat.session, now=chat.clock()) == 0


def test_an_offer_not_yet_due_is_left_alone_by_the_sweep(chat: Chat) -> None:
    conversation_id = chat.open()
    _offer(chat, conversation_id, 1_500_00)
    chat.clock.advance(hours=23)

    assert sweep_due_offers(chat.session, now=chat.clock()) == 0
    assert _statuses(chat, conversation_id) == ["pending"]


def test_accepting_an_offer_past_its_time_before_the_sweep_is_refused(chat: Chat) -> None:
    conversation_id = chat.open()
    offer = _offer(chat, conversation_id, 1_500_00)
    chat.clock.advance(hours=25)

    late = _act(chat, offer["id"], "accept", "seller")

    assert (late.status_code, late.json()["code"]) == (409, "offer_expired")
    assert _goods_status(chat) == "listed"
    assert chat.get("/orders", "buyer").json()["items"] == []


def test_the_periodic_order_sweep_also_expires_due_offers(
    chat: Chat, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation_id = chat.open()
    _offer(chat, conversation_id, 1_500_00)
    chat.clock.advance(hours=25)
    monkeypatch.setattr(jobs, "utcnow", chat.clock)

    assert jobs.sweep_orders(session_factory) == 1

    assert _statuses(chat, conversation_id) == ["expired"]


def test_accepting_one_buyers_offer_declines_the_other_buyers_offer(chat: Chat) -> None:
    _another_buyer(chat, "rival")
    mine = chat.open()
    theirs = chat.open("rival")
    assert mine != theirs
    rival_offer = _offer(chat, theirs, 1_700_00, who="rival")
    my_offer = _offer(chat, mine, 1_500_00)

    accepted = _act(chat, my_offer["id"], "accept", "seller")

    assert accepted.status_code == 200, accepted.text
    rival_offers = chat.get(f"/conversations/{theirs}/offers", "rival").json()
    assert [offer["status"] for offer in rival_offers] == ["declined"]
    note = _messages(chat, theirs, "rival")[-1]
    assert note["sender_id"] is None
    assert "失效" in note["text"]
    assert "offer_declined" in _notice_kinds(chat, "rival")
    assert _goods_status(chat) == "reserved"
    # The good is held for the winner: nobody else can bargain for it or buy it.
    late_accept = _act(chat, rival_offer["id"], "accept", "seller")
    assert (late_accept.status_code, late_accept.json()["code"]) == (409, "offer_closed")
    new_offer = chat.post(f"/conversations/{theirs}/offers", "rival", json={"price": 1_900_00})
    assert (new_offer.status_code, new_offer.json()["code"]) == (409, "goods_not_available")
    purchase = chat.post("/orders", "rival", json={"goods_id": chat.goods_id})
    assert (purchase.status_code, purchase.json()["code"]) == (409, "goods_not_available")


def test_a_direct_purchase_declines_every_open_offer(chat: Chat) -> None:
    _another_buyer(chat, "rival")
    _another_buyer(chat, "shopper")
    mine = chat.open()
    theirs = chat.open("rival")
    my_offer = _offer(chat, mine, 1_500_00)
    _offer(chat, theirs, 1_600_00, who="rival")

    bought = chat.post("/orders", "shopper", json={"goods_id": chat.goods_id})

    assert bought.status_code == 201, bought.text
    assert bought.json()["price"] == PRICE
    assert _statuses(chat, mine) == ["declined"]
    assert [o["status"] for o in chat.get(f"/conversations/{theirs}/offers", "rival").json()] == [
        "declined"
    ]
    assert "offer_declined" in _notice_kinds(chat, "buyer")
    assert "offer_declined" in _notice_kinds(chat, "rival")
    late_accept = _act(chat, my_offer["id"], "accept", "seller")
    assert (late_accept.status_code, late_accept.json()["code"]) == (409, "offer_closed")
    new_offer = chat.post(f"/conversations/{mine}/offers", "buyer", json={"price": 1_900_00})
    assert (new_offer.status_code, new_offer.json()["code"]) == (409, "goods_not_available")


def test_after_the_buyer_cancels_the_good_is_listed_and_bargaining_starts_again(
    chat: Chat,
) -> None:
    rival = _another_buyer(chat, "rival")
    mine = chat.open()
    theirs = chat.open("rival")
    _offer(chat, theirs, 1_600_00, who="rival")
    accepted = _act(chat, _offer(chat, mine, 1_500_00)["id"], "accept", "seller")
    order_id = accepted.json()["order_id"]

    cancelled = chat.post(f"/orders/{order_id}/cancel", "buyer", json={"reason": "不想要了"})

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert _goods_status(chat) == "listed"
    rival_offer = _offer(chat, theirs, 1_650_00, who="rival")
    again = _act(chat, rival_offer["id"], "accept", "seller")
    assert again.status_code == 200, again.text
    order = chat.get(f"/orders/{again.json()['order_id']}", "rival").json()
    assert (order["price"], order["buyer_id"], order["status"]) == (
        1_650_00,
        rival,
        "awaiting_payment",
    )
    assert _goods_status(chat) == "reserved"


def test_reading_the_messages_clears_the_unread_count(chat: Chat) -> None:
    conversation_id = chat.open()
    for text in ("你好", "还在吗？"):
        chat.post(f"/conversations/{conversation_id}/messages", "buyer", json={"text": text})
    _offer(chat, conversation_id, 1_500_00)
    assert _unread(chat, "seller") == 3
    assert _unread(chat, "buyer") == 0

    assert [m["text"] for m in _messages(chat, conversation_id, "seller")][:2] == [
        "你好",
        "还在吗？",
    ]

    assert _unread(chat, "seller") == 0
    chat.post(f"/conversations/{conversation_id}/messages", "seller", json={"text": "在的"})
    [summary] = chat.get("/conversations", "buyer").json()["items"]
    assert (summary["unread"], summary["last_message"]["text"]) == (1, "在的")
    assert _unread(chat, "seller") == 0


def test_notifications_are_marked_read_by_id_or_all_at_once(chat: Chat) -> None:
    conversation_id = chat.open()
    chat.post(f"/conversations/{conversation_id}/messages", "buyer", json={"text": "能便宜点吗"})
    offer = _offer(chat, conversation_id, 1_500_00)
    _act(chat, offer["id"], "counter", "seller", price=1_800_00)
    page = chat.get("/notifications", "seller").json()
    assert ([n["kind"] for n in page["items"]], page["unread"]) == (["offer", "message"], 2)
    buyers = chat.get("/notifications", "buyer").json()
    assert (buyers["unread"], buyers["items"][0]["kind"]) == (1, "counter_offer")

    newest = page["items"][0]["id"]
    one = chat.post("/notifications/read", "seller", json={"ids": [newest]})
    assert one.json()["marked"] == 1
    assert chat.get("/notifications", "seller").json()["unread"] == 1
    # Someone else's notices are not the seller's to mark.
    theirs = chat.post("/notifications/read", "seller", json={"ids": [buyers["items"][0]["id"]]})
    assert theirs.json()["marked"] == 0
    assert chat.get("/notifications", "buyer").json()["unread"] == 1

    everything = chat.post("/notifications/read", "seller", json={})

    assert everything.json()["marked"] == 1
    after = chat.get("/notifications", "seller").json()
    assert after["unread"] == 0
    assert all(notice["read_at"] is not None for notice in after["items"])
    assert chat.get("/notifications", "seller", params={"unread_only": True}).json()["items"] == []


def _events(session: Session, goods_id: int, kind: str) -> tuple[int, int]:
    """How many events of `kind` on the goods were stored, and how many of them count."""
    row = session.execute(
        select(func.count(), func.count().filter(Event.counted)).where(
            Event.goods_id == goods_id, Event.type == kind
        )
    ).one()
    return int(row[0]), int(row[1])


def test_chat_and_offer_are_recorded_once_as_ranking_events(chat: Chat) -> None:
    conversation_id = chat.open()
    assert chat.open() == conversation_id
    assert _events(chat.session, chat.goods_id, "chat") == (1, 1)
    assert _events(chat.session, chat.goods_id, "offer") == (0, 0)

    _offer(chat, conversation_id, 1_500_00)
    assert _events(chat.session, chat.goods_id, "offer") == (1, 1)
    # A second offer moments later is the same interest: it does not count twice.
    _offer(chat, conversation_id, 1_600_00)
    assert _events(chat.session, chat.goods_id, "offer")[1] == 1


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("我电话 13800138000", True),
        ("打我电话138 0013 8000", True),
        ("138-0013-8000 随时联系", True),
        ("+86 139 1234 5678", True),
        ("加我微信 abc_12345 聊", True),
        ("vx: zhangsan88", True),
        ("WX号是 Mary_2024", True),
        ("威信 hello123", True),
        ("QQ 12345678", True),
        ("扣扣：987654321", True),
        ("一三八零零一三八零零零", True),
        ("壹叁捌 零零壹叁 捌零零零", True),
        ("１３８００１３８０００", True),
        ("价格能少点吗", False),
        ("iPhone 13 128G 星光色", False),
        ("最低 1380元，包邮", False),
        ("九成新，三八节买的，用了一年", False),
        ("订单号 2023112313800138000", False),
        ("微信支付可以吗", False),
        ("13寸 MacBook Pro 2019 款 16G 512G", False),
    ],
)
def test_contact_details_are_spotted_and_ordinary_chat_is_not(text: str, flagged: bool) -> None:
    assert has_contact_details(text) is flagged


@pytest.mark.parametrize(
    "text",
    ["1 3 8 0 0 1 3 8 0 0 0", "1-38-0013-8000", "一 三 八 零 零 一 三 八 零 零 零"],
    ids=["digit-by-digit", "dash-after-the-first-digit", "chinese-digit-by-digit"],
)
def test_phone_numbers_spaced_out_digit_by_digit_are_spotted(text: str) -> None:
    assert has_contact_details(text)


def test_phone_numbers_read_out_with_yao_for_one_are_spotted() -> None:
    assert has_contact_details("我电话 幺三八零零幺三八零零零")
