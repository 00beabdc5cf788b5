"""Conversations and their messages: one per buyer and good, read positions, unread counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, case, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog.conversations.contact_details import has_contact_details
from catalog.conversations.models import Conversation, Message, MessageKind
from catalog.errors import CatalogError, Conflict, InvalidInput, NotFound
from catalog.goods import repository as goods_repository
from catalog.goods.models import Goods
from catalog.goods.rules import VIEWABLE_STATES
from catalog.live import announce
from catalog.notifications.service import Notice, notify_many
from catalog.users.models import User

MESSAGE_MAX = 1000
_MESSAGES = cast(Table, Message.__table__)


@dataclass(frozen=True)
class ConversationSummary:
    conversation: Conversation
    unread: int
    last_message: Message | None
    # What a conversation list shows beside each row, loaded for the whole page at once.
    other_party_nickname: str
    goods: Goods | None
    goods_thumb_path: str | None


def open_conversation(
    session: Session, *, buyer: User, goods_id: int, now: datetime
) -> tuple[Conversation, bool]:
    """The conversation between this buyer and the seller about this good, opened if
    needed; says whether it is new. Opening twice at once still makes one."""
    goods = goods_repository.get_goods(session, goods_id)
    if goods is None or goods.status not in VIEWABLE_STATES:
        raise NotFound("no such goods", code="goods_not_found")
    if goods.seller_id == buyer.id:
        raise Conflict("this is your own good", code="own_goods")
    existing = _find(session, goods_id, buyer.id)
    if existing is not None:
        return existing, False
    conversation = Conversation(
        goods_id=goods_id, buyer_id=buyer.id, seller_id=goods.seller_id, created_at=now
    )
    try:
        with session.begin_nested():
            session.add(conversation)
    except IntegrityError:
        found = _find(session, goods_id, buyer.id)  # the other request committed first
        assert found is not None
        return found, False
    return conversation, True


def conversation_for(
    session: Session, *, user: User, conversation_id: int, lock: bool = False
) -> Conversation:
    """A conversation the user is a party to; anyone else is told it does not exist."""
    conversation = session.get(Conversation, conversation_id, with_for_update=lock)
    if conversation is None or not _is_party(conversation, user.id):
        raise _not_yours()
    return conversation


def _is_party(conversation: Conversation, user_id: int) -> bool:
    return user_id in (conversation.buyer_id, conversation.seller_id)


def _not_yours() -> NotFound:
    # The same answer whether it does not exist or is someone else's.
    return NotFound("no such conversation", code="conversation_not_found")


def post_message(
    session: Session, *, user: User, conversation_id: int, text: str, now: datetime
) -> Message:
    """A text message; contact details in it earn the recipient a warning."""
    (posted,) = post_messages(session, drafts=[Draft(user.id, conversation_id, text)], now=now)
    if isinstance(posted, CatalogError):
        raise posted
    return posted


@dataclass(frozen=True)
class Draft:
    """A text message as a user sent it, before it is judged."""

    sender_id: int
    conversation_id: int
    text: str


def post_messages(
    session: Session, *, drafts: Sequence[Draft], now: datetime
) -> list[Message | CatalogError]:
    """Text messages in one transaction, in order (a live socket's batch): each is judged
    alone, and a refused one is answered with its error without holding up the rest."""
    results: list[Message | CatalogError | None] = [None] * len(drafts)
    texts: list[str] = []
    for index, draft in enumerate(drafts):
        text = draft.text.strip()
        texts.append(text)
        if not 1 <= len(text) <= MESSAGE_MAX:
            results[index] = InvalidInput(
                f"a message is 1 to {MESSAGE_MAX} characters", code="invalid_length", field="text"
            )
        elif "\x00" in text:  # PostgreSQL text cannot hold it
            results[index] = InvalidInput(
                "a message cannot contain NUL characters", code="invalid_text", field="text"
            )
    wanted = sorted({d.conversation_id for d, r in zip(drafts, results, strict=True) if r is None})
    # Locked in id order, so two batches never wait on each other in a cycle; holding the
    # rows makes each conversation's messages commit in id order.
    held = {
        c.id: c
        for c in session.scalars(
            select(Conversation)
            .where(Conversation.id.in_(wanted))
            .order_by(Conversation.id)
            .with_for_update()
        )
    }
    accepted: list[tuple[int, NewMessage]] = []
    for index, draft in enumerate(drafts):
        if results[index] is not None:
            continue
        conversation = held.get(draft.conversation_id)
        if conversation is None or not _is_party(conversation, draft.sender_id):
            results[index] = _not_yours()
            continue
        text = texts[index]
        accepted.append(
            (
                index,
                NewMessage(
                    conversation,
                    draft.sender_id,
                    MessageKind.TEXT,
                    text,
                    contact_warning=has_contact_details(text),
                ),
            )
        )
    messages = add_messages(session, [new for _, new in accepted], now=now)
    notify_many(
        session,
        notices=[
            Notice(
                other_party(new.conversation, new.sender_id or 0),
                "message",
                new.text[:60],
                conversation_id=new.conversation.id,
            )
            for _, new in accepted
        ],
        now=now,
    )
    for (index, _), message in zip(accepted, messages, strict=True):
        results[index] = message
    return [result for result in results if result is not None]


class NewMessage(NamedTuple):
    """A message to append to a conversation the caller holds."""

    conversation: Conversation
    sender_id: int | None
    kind: MessageKind
    text: str
    offer_id: int | None = None
    contact_warning: bool = False


def add_message(
    session: Session,
    conversation: Conversation,
    *,
    sender_id: int | None,
    kind: MessageKind,
    text: str,
    now: datetime,
    offer_id: int | None = None,
    contact_warning: bool = False,
) -> Message:
    """Append to the conversation (the caller holds it) and tell both parties' sockets."""
    new = NewMessage(conversation, sender_id, kind, text, offer_id, contact_warning)
    (message,) = add_messages(session, [new], now=now)
    return message


def add_messages(session: Session, news: Sequence[NewMessage], *, now: datetime) -> list[Message]:
    """Append messages in order, in one INSERT; tell both parties' sockets of each."""
    if not news:
        return []
    rows = [
        {
            "conversation_id": new.conversation.id,
            "sender_id": new.sender_id,
            "kind": new.kind,
            "text": new.text,
            "offer_id": new.offer_id,
            "contact_warning": new.contact_warning,
            "created_at": now,
        }
        for new in news
    ]
    # Core rather than the ORM's unit of work, which took most of a batch's time; the
    # messages come back as plain (transient) objects with their ids.
    inserted = session.connection().execute(
        insert(_MESSAGES).returning(_MESSAGES.c.id, sort_by_parameter_order=True), rows
    )
    messages = [
        Message(id=message_id, **row)
        for message_id, row in zip(inserted.scalars(), rows, strict=True)
    ]
    for new, message in zip(news, messages, strict=True):
        conversation = new.conversation
        # Writers hold the conversation's row, so its messages commit in id order; the
        # previous id lets a socket see a hole (an announcement overtaken by a later one).
        previous_id = conversation.last_message_id
        conversation.last_message_id = message.id
        if new.sender_id == conversation.buyer_id:
            conversation.buyer_read_id = message.id
        elif new.sender_id == conversation.seller_id:
            conversation.seller_read_id = message.id
        announce(
            session,
            user_ids=[conversation.buyer_id, conversation.seller_id],
            event={"type": "message", "previous_id": previous_id, **message_payload(message)},
        )
    return messages


def message_payload(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "sender_id": message.sender_id,
        "kind": message.kind.value,
        "text": message.text,
        "offer_id": message.offer_id,
        "contact_warning": message.contact_warning,
        "created_at": message.created_at.isoformat(),
    }


def messages(
    session: Session, *, user: User, conversation_id: int, after_id: int, limit: int
) -> list[Message]:
    """Messages after `after_id`, oldest first; what the user has now seen is marked read."""
    conversation = conversation_for(session, user=user, conversation_id=conversation_id)
    found = list(
        session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id, Message.id > after_id)
            .order_by(Message.id)
            .limit(limit)
        )
    )
    if found:
        seen = found[-1].id
        if user.id == conversation.buyer_id:
            conversation.buyer_read_id = max(conversation.buyer_read_id, seen)
        else:
            conversation.seller_read_id = max(conversation.seller_read_id, seen)
    return found


def messages_since(
    session: Session, *, user_id: int, after_id: int, limit: int, conversation_id: int | None = None
) -> list[Message]:
    """Every message after `after_id` in the user's conversations, or in one of them (a
    socket catching up)."""
    mine = select(Conversation.id).where(
        (Conversation.buyer_id == user_id) | (Conversation.seller_id == user_id)
    )
    if conversation_id is not None:
        mine = mine.where(Conversation.id == conversation_id)
    return list(
        session.scalars(
            select(Message)
            .where(Message.conversation_id.in_(mine), Message.id > after_id)
            .order_by(Message.id)
            .limit(limit)
        )
    )


def conversations_of(
    session: Session, *, user: User, page: int, page_size: int
) -> tuple[list[ConversationSummary], int]:
    """The user's conversations, latest activity first, each with its unread count."""
    base = select(Conversation).where(
        (Conversation.buyer_id == user.id) | (Conversation.seller_id == user.id)
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = list(
        session.scalars(
            base.order_by(Conversation.last_message_id.desc(), Conversation.id.desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
    )
    return _summaries(session, rows, user_id=user.id), total


def summary_of(session: Session, conversation: Conversation, *, user: User) -> ConversationSummary:
    """One conversation as the user's list shows it."""
    return _summaries(session, [conversation], user_id=user.id)[0]


def _summaries(
    session: Session, rows: list[Conversation], *, user_id: int
) -> list[ConversationSummary]:
    """A page of conversations as a list shows them, in a fixed number of queries: unread
    counts, last messages, the other sides' nicknames, the goods and their photos."""
    ids = [conversation.id for conversation in rows]
    my_read_id = case(
        (Conversation.buyer_id == user_id, Conversation.buyer_read_id),
        else_=Conversation.seller_read_id,
    )
    unread: dict[int, int] = {
        conversation_id: count
        for conversation_id, count in session.execute(
            select(Message.conversation_id, func.count())
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Message.conversation_id.in_(ids),
                Message.id > my_read_id,
                Message.sender_id.is_distinct_from(user_id),
            )
            .group_by(Message.conversation_id)
        )
    }
    last_ids = [c.last_message_id for c in rows if c.last_message_id]
    last = {m.id: m for m in session.scalars(select(Message).where(Message.id.in_(last_ids)))}
    others = {other_party(conversation, user_id) for conversation in rows}
    nicknames: dict[int, str] = {
        person_id: nickname
        for person_id, nickname in session.execute(
            select(User.id, User.nickname).where(User.id.in_(others))
        )
    }
    goods_ids = {conversation.goods_id for conversation in rows}
    goods = {g.id: g for g in session.scalars(select(Goods).where(Goods.id.in_(goods_ids)))}
    photos = goods_repository.photos_of(session, list(goods_ids))
    return [
        ConversationSummary(
            conversation=conversation,
            unread=unread.get(conversation.id, 0),
            last_message=last.get(conversation.last_message_id or 0),
            other_party_nickname=nicknames.get(other_party(conversation, user_id), ""),
            goods=goods.get(conversation.goods_id),
            goods_thumb_path=(
                photos[conversation.goods_id][0].thumb_path
                if photos.get(conversation.goods_id)
                else None
            ),
        )
        for conversation in rows
    ]


def other_party(conversation: Conversation, user_id: int) -> int:
    return conversation.seller_id if user_id == conversation.buyer_id else conversation.buyer_id


def _find(session: Session, goods_id: int, buyer_id: int) -> Conversation | None:
    return session.scalar(
        select(Conversation).where(
            Conversation.goods_id == goods_id, Conversation.buyer_id == buyer_id
        )
    )
