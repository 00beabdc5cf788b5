"""Messages sent on the live socket: acknowledged once committed, heard by the other party,
judged by the rules of POSTing them, and committed in batches that one bad message cannot
sink. (Across two server processes: test_live_across_processes.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import WebSocketTestSession

from api.message_batches import MessageBatches, MessageBudget
from api.ratelimit import MemoryRateLimiter
from catalog.conversations.models import Conversation, Message
from catalog.conversations.service import Draft, post_messages
from catalog.errors import InvalidInput, NotFound, TryAgain
from catalog.live import take_announcements
from catalog.notifications.models import Notification
from tests.conversations.support import V1, Chat, make_chat
from tests.factories import login, make_user


@pytest.fixture
def chat(app: FastAPI, client: TestClient, session: Session, media_root: Path) -> Chat:
    world = make_chat(app, client, session, media_root)
    stranger = make_user(session, nickname="路人")
    session.commit()
    world.headers["stranger"] = login(client, stranger)
    return world


def _url(chat: Chat, who: str) -> str:
    token = chat.headers[who]["Authorization"].split()[1]
    return f"{V1}/ws?token={token}&after=0"


def _caught_up(socket: WebSocketTestSession) -> WebSocketTestSession:
    """Once the server answers a ping, the socket's catch-up read is over. (The test's
    one database connection must not serve two threads at once.)"""
    socket.send_text("ping")
    while socket.receive_text() != "pong":
        pass
    return socket


def _answer(socket: WebSocketTestSession, ref: str | None = None) -> dict[str, Any]:
    """The next `sent` or `error` frame (messages and notices in between are skipped)."""
    while True:
        frame: dict[str, Any] = socket.receive_json()
        if frame["type"] in ("sent", "error") and frame.get("ref") == ref:
            return frame


def _next_message(socket: WebSocketTestSession) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = socket.receive_json()
        if frame["type"] == "message":
            return frame


def test_a_message_sent_on_the_socket_is_acknowledged_stored_and_heard_by_the_other_party(
    chat: Chat,
) -> None:
    conversation_id = chat.open()
    with chat.client.websocket_connect(_url(chat, "seller")) as seller:
        _caught_up(seller)
        with chat.client.websocket_connect(_url(chat, "buyer")) as buyer:
            _caught_up(buyer)
            buyer.send_json(
                {
                    "type": "send",
                    "conversation_id": conversation_id,
                    "text": "还在吗？",
                    "ref": "a1",
                }
            )
            sent = _answer(buyer, "a1")
            heard = _next_message(seller)

    assert sent["type"] == "sent"
    assert heard["id"] == sent["id"] == sent["message"]["id"]
    assert (heard["text"], heard["sender_id"]) == ("还在吗？", chat.buyer.id)
    stored = chat.get(f"/conversations/{conversation_id}/messages", "seller").json()
    assert [m["id"] for m in stored] == [sent["id"]]
    listed = chat.get("/conversations", "seller").json()["items"][0]
    assert listed["unread"] == 0  # reading the messages above marked it read
    notices = chat.get("/notifications", "seller").json()["items"]
    assert [(n["kind"], n["conversation_id"]) for n in notices] == [("message", conversation_id)]


def test_bad_frames_are_answered_with_their_reason_and_the_socket_stays_open(
    chat: Chat,
) -> None:
    conversation_id = chat.open()
    frame = {"type": "send", "conversation_id": conversation_id, "text": "你好"}
    with chat.client.websocket_connect(_url(chat, "buyer")) as buyer:
        _caught_up(buyer)
        buyer.send_text("{not json")
        assert _answer(buyer)["code"] == "invalid_frame"
        buyer.send_text('["send", 1]')
        assert _answer(buyer)["code"] == "invalid_frame"
        buyer.send_json({**frame, "conversation_id": "1"})  # strict: a string is not an id
        assert _answer(buyer)["code"] == "invalid_frame"
        buyer.send_json({**frame, "conversation_id": 2**70})
        assert _answer(buyer)["code"] == "invalid_frame"
        buyer.send_json({**frame, "sender_id": 1})  # nothing beyond the frame's fields
        assert _answer(buyer)["code"] == "invalid_frame"
        buyer.send_json({**frame, "text": "长" * 1001, "ref": "long"})
        assert _answer(buyer, "long")["code"] == "invalid_frame"  # refused, but by its ref
        buyer.send_text("x" * 9_000)
        assert _answer(buyer)["code"] == "frame_too_large"
        buyer.send_json({**frame, "text": "   ", "ref": "blank"})
        assert _answer(buyer, "blank")["code"] == "invalid_frame"
        buyer.send_json({**frame, "text": "a\x00b", "ref": "nul"})
        assert _answer(buyer, "nul")["code"] == "invalid_text"
        buyer.send_json({**frame, "conversation_id": 999_999_999, "ref": "nowhere"})
        assert _answer(buyer, "nowhere")["code"] == "conversation_not_found"
        buyer.send_json({**frame, "ref": "fine"})
        assert _answer(buyer, "fine")["type"] == "sent"
    with chat.client.websocket_connect(_url(chat, "stranger")) as stranger:
        _caught_up(stranger)
        stranger.send_json({**frame, "ref": "intruder"})
        assert _answer(stranger, "intruder")["code"] == "conversation_not_found"
    stored = chat.get(f"/conversations/{conversation_id}/messages", "buyer").json()
    assert [m["text"] for m in stored] == ["你好"]


def test_socket_sends_and_posts_share_one_message_budget(app: FastAPI, chat: Chat) -> None:
    conversation_id = chat.open()
    budget = app.state.api_settings.messages_per_minute
    frame = {"type": "send", "conversation_id": conversation_id, "text": "砍价吗"}
    posted = chat.post(f"/conversations/{conversation_id}/messages", "buyer", json={"text": "在"})
    assert posted.status_code == 201
    with chat.client.websocket_connect(_url(chat, "buyer")) as buyer:
        _caught_up(buyer)
        answers = []
        for n in range(budget):
            buyer.send_json({**frame, "ref": str(n)})
            answers.append(_answer(buyer, str(n)))
    assert [a["type"] for a in answers] == ["sent"] * (budget - 1) + ["error"]
    assert answers[-1]["code"] == "rate_limited"
    again = chat.post(f"/conversations/{conversation_id}/messages", "buyer", json={"text": "在"})
    assert again.status_code == 429


def test_a_batch_judges_each_message_alone_and_keeps_their_order(
    chat: Chat, session: Session
) -> None:
    conversation_id = chat.open()
    buyer, seller = chat.buyer.id, chat.seller.id
    stranger_id = make_user(session).id
    session.commit()
    take_announcements(session)

    posted = post_messages(
        session,
        drafts=[
            Draft(buyer, conversation_id, "第一条"),
            Draft(buyer, conversation_id, "长" * 1001),
            Draft(stranger_id, conversation_id, "路过"),
            Draft(seller, conversation_id, "第二条 微信 abc12345"),
            Draft(buyer, conversation_id, "第三条"),
        ],
        now=chat.clock(),
    )

    first, too_long, strangers, second, third = posted
    assert isinstance(too_long, InvalidInput)
    assert isinstance(strangers, NotFound)
    assert isinstance(first, Message)
    assert isinstance(second, Message)
    assert isinstance(third, Message)
    assert first.id < second.id < third.id
    assert second.contact_warning  # the buyer is warned of an off-platform contact
    conversation = session.get_one(Conversation, conversation_id)
    assert conversation.last_message_id == third.id
    assert (conversation.buyer_read_id, conversation.seller_read_id) == (third.id, second.id)
    chain = [
        (event["id"], event["previous_id"])
        for _, event in take_announcements(session)
        if event["type"] == "message"
    ]
    assert chain == [(first.id, 0), (second.id, first.id), (third.id, second.id)]
    notified = session.scalars(
        select(Notification.user_id).where(Notification.conversation_id == conversation_id)
    ).all()
    assert sorted(notified) == sorted([seller, buyer, seller])


def test_a_batch_the_database_refuses_is_committed_message_by_message(
    app: FastAPI, chat: Chat
) -> None:
    conversation_id = chat.open()
    batches = MessageBatches(
        lambda: app.state.session_factory,
        MessageBudget(MemoryRateLimiter(), per_minute=100),
        chat.clock,
    )
    buyer = chat.buyer.id
    # A lone surrogate is no UTF-8: the database driver refuses the whole statement.
    posted = batches.commit(
        [
            Draft(buyer, conversation_id, "先说"),
            Draft(buyer, conversation_id, "坏\ud800的"),
            Draft(buyer, conversation_id, "后说"),
        ]
    )
    assert isinstance(posted[1], TryAgain)
    assert [p["text"] for p in (posted[0], posted[2]) if isinstance(p, dict)] == ["先说", "后说"]
    stored = chat.get(f"/conversations/{conversation_id}/messages", "buyer").json()
    assert [m["text"] for m in stored] == ["先说", "后说"]
