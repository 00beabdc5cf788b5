from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from api.schemas.base import Input, Output
from api.schemas.goods import media_url
from catalog.conversations.models import Message, MessageKind, Offer, OfferStatus
from catalog.conversations.service import ConversationSummary
from catalog.money import MAX_LISTING_PRICE
from catalog.notifications.models import Notification

Price = Annotated[int, Field(strict=True, description="fen (1/100 yuan)")]


class MessageIn(Input):
    text: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


MAX_REF = 64  # characters of a send frame's `ref`, the client's own name for it


class SendFrame(Input):
    """A message sent on the live socket (see `/api/v1/ws`)."""

    type: Literal["send"]
    conversation_id: Annotated[int, Field(strict=True, ge=1, le=2**63 - 1)]
    text: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    ref: Annotated[str, StringConstraints(max_length=MAX_REF)] | None = None


class OfferIn(Input):
    price: Price


class BargainingIn(Input):
    no_bargaining: bool = False
    floor_price: Annotated[int, Field(strict=True, gt=0, le=MAX_LISTING_PRICE)] | None = Field(
        default=None, description="offers below it are refused at once; buyers never see it"
    )


class BargainingOut(Output):
    goods_id: int
    no_bargaining: bool
    floor_price: int | None


class MarkReadIn(Input):
    ids: list[Annotated[int, Field(strict=True)]] | None = Field(
        default=None, max_length=500, description="omit to mark everything read"
    )


class MessageOut(Output):
    id: int
    conversation_id: int
    sender_id: int | None
    kind: MessageKind
    text: str
    offer_id: int | None
    contact_warning: bool = Field(
        description="looks like a phone number, WeChat or QQ: trades off the platform lose escrow"
    )
    created_at: datetime

    @classmethod
    def of(cls, message: Message) -> MessageOut:
        return cls.model_validate(message)


class OfferOut(Output):
    id: int
    conversation_id: int
    goods_id: int
    buyer_id: int
    seller_id: int
    proposed_by: int
    price: int
    status: OfferStatus
    counters_id: int | None
    order_id: int | None
    due_at: datetime | None
    created_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, offer: Offer) -> OfferOut:
        return cls.model_validate(offer)


class ConversationOut(Output):
    id: int
    goods_id: int
    buyer_id: int
    seller_id: int
    created_at: datetime
    unread: int
    last_message: MessageOut | None
    other_party_nickname: str = Field(description="the nickname of the other side")
    goods_title: str | None
    goods_price: int | None
    goods_photo: str | None = Field(description="the good's main photo (thumbnail)")

    @classmethod
    def of(cls, summary: ConversationSummary) -> ConversationOut:
        conversation = summary.conversation
        goods = summary.goods
        return cls(
            other_party_nickname=summary.other_party_nickname,
            goods_title=goods.title if goods else None,
            goods_price=goods.price if goods else None,
            goods_photo=media_url(summary.goods_thumb_path) if summary.goods_thumb_path else None,
            id=conversation.id,
            goods_id=conversation.goods_id,
            buyer_id=conversation.buyer_id,
            seller_id=conversation.seller_id,
            created_at=conversation.created_at,
            unread=summary.unread,
            last_message=MessageOut.of(summary.last_message) if summary.last_message else None,
        )


class NotificationOut(Output):
    id: int
    kind: str
    text: str
    conversation_id: int | None
    offer_id: int | None
    order_id: int | None
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, notice: Notification) -> NotificationOut:
        return cls.model_validate(notice)


class NotificationPageOut(Output):
    items: list[NotificationOut]
    total: int
    unread: int
    page: int
    page_size: int


class MarkedOut(Output):
    marked: int


class AcceptedOut(Output):
    offer: OfferOut
    order_id: int
