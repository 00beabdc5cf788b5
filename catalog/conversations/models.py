from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from catalog.clock import utcnow
from catalog.db import Base, BigIntId, UtcDateTime, string_enum


class Conversation(Base):
    """The one conversation between a buyer and the seller about one good."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("goods_id", "buyer_id", name="uq_conversations_goods_buyer"),
        Index("ix_conversations_buyer", "buyer_id", "last_message_id"),
        Index("ix_conversations_seller", "seller_id", "last_message_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    goods_id: Mapped[int] = mapped_column(ForeignKey("goods.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_message_id: Mapped[int] = mapped_column(BigInteger, default=0)
    # Each side's read position: everything up to this message id has been seen.
    buyer_read_id: Mapped[int] = mapped_column(BigInteger, default=0)
    seller_read_id: Mapped[int] = mapped_column(BigInteger, default=0)


class MessageKind(enum.StrEnum):
    TEXT = "text"
    OFFER = "offer"  # an offer card: made, countered, accepted, rejected, withdrawn, expired
    SYSTEM = "system"


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    # None for messages the platform writes (an offer expired, an order was opened).
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[MessageKind] = mapped_column(string_enum(MessageKind))
    text: Mapped[str] = mapped_column(Text, default="")
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    # The text looks like contact details (phone, WeChat, QQ): the recipient is warned.
    contact_warning: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class OfferStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the other side
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    COUNTERED = "countered"  # replaced by a counter-offer
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    DECLINED = "declined"  # another offer on the good was accepted, or the good went


class Offer(Base):
    __tablename__ = "offers"
    __table_args__ = (
        Index("ix_offers_goods_status", "goods_id", "status"),
        Index("ix_offers_due_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    goods_id: Mapped[int] = mapped_column(ForeignKey("goods.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Who proposed this price: the buyer, or the seller countering.
    proposed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    price: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[OfferStatus] = mapped_column(string_enum(OfferStatus))
    # The offer this one counters, if it is a counter-offer.
    counters_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
