from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from api.deps import (
    ApiSettingsDep,
    CurrentUser,
    DbSession,
    Now,
    Pagination,
    RateLimiterDep,
    TradeSettingsDep,
    Writer,
)
from api.message_batches import MessageBudget, over_budget
from api.routes.events import record_server_event
from api.schemas.base import Page
from api.schemas.conversations import (
    AcceptedOut,
    BargainingIn,
    BargainingOut,
    ConversationOut,
    MarkedOut,
    MarkReadIn,
    MessageIn,
    MessageOut,
    NotificationOut,
    NotificationPageOut,
    OfferIn,
    OfferOut,
)
from catalog.conversations import offers
from catalog.conversations import service as conversations
from catalog.notifications import service as notifications

router = APIRouter(tags=["conversations"])


@router.post("/goods/{goods_id}/conversations", status_code=status.HTTP_201_CREATED)
def open_conversation(
    goods_id: int, request: Request, session: DbSession, user: Writer, now: Now
) -> ConversationOut:
    """Open (or return) your one conversation with the seller about these goods."""
    conversation, new = conversations.open_conversation(
        session, buyer=user, goods_id=goods_id, now=now
    )
    if new:
        record_server_event(request, session, user=user, kind="chat", goods_id=goods_id)
    return ConversationOut.of(conversations.summary_of(session, conversation, user=user))


@router.get("/conversations")
def list_conversations(
    session: DbSession, user: CurrentUser, paging: Pagination
) -> Page[ConversationOut]:
    """Your conversations, latest activity first, with unread counts."""
    items, total = conversations.conversations_of(
        session, user=user, page=paging.page, page_size=paging.page_size
    )
    return paging.answer([ConversationOut.of(item) for item in items], total)


@router.get("/conversations/{conversation_id}/messages")
def list_messages(
    conversation_id: int,
    session: DbSession,
    user: CurrentUser,
    after_id: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[MessageOut]:
    """Messages after `after_id`, oldest first; reading them marks them read."""
    found = conversations.messages(
        session, user=user, conversation_id=conversation_id, after_id=after_id, limit=limit
    )
    return [MessageOut.of(message) for message in found]


@router.post("/conversations/{conversation_id}/messages", status_code=status.HTTP_201_CREATED)
def post_message(
    conversation_id: int,
    body: MessageIn,
    session: DbSession,
    user: Writer,
    now: Now,
    limiter: RateLimiterDep,
    settings: ApiSettingsDep,
) -> MessageOut:
    """Send a message; both sides' open sockets receive it."""
    if not MessageBudget(limiter, settings.messages_per_minute).allows(user.id):
        raise over_budget()
    message = conversations.post_message(
        session, user=user, conversation_id=conversation_id, text=body.text, now=now
    )
    return MessageOut.of(message)


@router.get("/conversations/{conversation_id}/offers")
def list_offers(conversation_id: int, session: DbSession, user: CurrentUser) -> list[OfferOut]:
    """Every offer and counter-offer in the conversation, oldest first."""
    found = offers.offers_in(session, user=user, conversation_id=conversation_id)
    return [OfferOut.of(offer) for offer in found]


@router.post("/conversations/{conversation_id}/offers", status_code=status.HTTP_201_CREATED)
def make_offer(
    conversation_id: int,
    body: OfferIn,
    request: Request,
    session: DbSession,
    user: Writer,
    now: Now,
    settings: TradeSettingsDep,
) -> OfferOut:
    """Offer a price (the buyer); it expires in 24 hours unless the seller answers."""
    offer = offers.make_offer(
        session,
        buyer=user,
        conversation_id=conversation_id,
        price=body.price,
        now=now,
        settings=settings,
    )
    record_server_event(request, session, user=user, kind="offer", goods_id=offer.goods_id)
    return OfferOut.of(offer)


@router.post("/offers/{offer_id}/accept")
def accept_offer(
    offer_id: int, session: DbSession, user: Writer, now: Now, settings: TradeSettingsDep
) -> AcceptedOut:
    """Accept the other side's price: the goods are reserved for the buyer and an order
    opens at that price (`order_id`); the buyer then pays it."""
    offer, order = offers.accept_offer(
        session, user=user, offer_id=offer_id, now=now, settings=settings
    )
    return AcceptedOut(offer=OfferOut.of(offer), order_id=order.id)


@router.post("/offers/{offer_id}/reject")
def reject_offer(offer_id: int, session: DbSession, user: Writer, now: Now) -> OfferOut:
    """Turn the other side's price down."""
    return OfferOut.of(offers.reject_offer(session, user=user, offer_id=offer_id, now=now))


@router.post("/offers/{offer_id}/counter", status_code=status.HTTP_201_CREATED)
def counter_offer(
    offer_id: int,
    body: OfferIn,
    session: DbSession,
    user: Writer,
    now: Now,
    settings: TradeSettingsDep,
) -> OfferOut:
    """The seller answers the buyer's offer with a price of their own (the new offer)."""
    offer = offers.counter_offer(
        session, seller=user, offer_id=offer_id, price=body.price, now=now, settings=settings
    )
    return OfferOut.of(offer)


@router.post("/offers/{offer_id}/withdraw")
def withdraw_offer(offer_id: int, session: DbSession, user: Writer, now: Now) -> OfferOut:
    """Take back a price you proposed while it is still open."""
    return OfferOut.of(offers.withdraw_offer(session, user=user, offer_id=offer_id, now=now))


@router.put("/goods/{goods_id}/bargaining")
def set_bargaining(
    goods_id: int, body: BargainingIn, session: DbSession, user: Writer, now: Now
) -> BargainingOut:
    """The seller's terms: "不议价" (no offers at all) or a floor below which offers are
    refused automatically. Open offers the new terms refuse are declined."""
    goods = offers.set_bargaining(
        session,
        seller=user,
        goods_id=goods_id,
        no_bargaining=body.no_bargaining,
        floor_price=body.floor_price,
        now=now,
    )
    return BargainingOut(
        goods_id=goods.id, no_bargaining=goods.no_bargaining, floor_price=goods.floor_price
    )


@router.get("/notifications")
def list_notifications(
    session: DbSession, user: CurrentUser, paging: Pagination, unread_only: bool = False
) -> NotificationPageOut:
    """Your notices (messages, offers, order steps), newest first, and the unread count."""
    items, total, unread = notifications.notifications_of(
        session,
        user_id=user.id,
        unread_only=unread_only,
        page=paging.page,
        page_size=paging.page_size,
    )
    return NotificationPageOut(
        items=[NotificationOut.of(item) for item in items],
        total=total,
        unread=unread,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post("/notifications/read")
def mark_notifications_read(
    body: MarkReadIn, session: DbSession, user: CurrentUser, now: Now
) -> MarkedOut:
    """Mark the given notices, or all of them, read."""
    return MarkedOut(
        marked=notifications.mark_read(session, user_id=user.id, ids=body.ids, now=now)
    )
