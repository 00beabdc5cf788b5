from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from catalog.clock import utcnow
from catalog.db import Base, BigIntId, UtcDateTime, string_enum


class OrderStatus(enum.StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"  # in escrow; the seller owes a video
    VIDEO_UPLOADED = "video_uploaded"  # the buyer owes a confirmation
    VIDEO_CONFIRMED = "video_confirmed"  # the seller owes the shipment
    SHIPPED = "shipped"
    SELLER_COMPLETED = "seller_completed"  # completes by itself unless the buyer disputes
    DISPUTED = "disputed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class Actor(enum.StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    OPERATOR = "operator"
    SYSTEM = "system"


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        # The sweeper's claim: due rows, soonest first.
        Index("ix_orders_due_at", "due_at"),
        Index("ix_orders_buyer", "buyer_id", "id"),
        Index("ix_orders_seller", "seller_id", "id"),
        Index("ix_orders_status", "status", "id"),
        # One open order per goods, whatever the application does.
        Index(
            "uq_orders_open_goods",
            "goods_id",
            unique=True,
            postgresql_where=text("finished_at IS NULL"),
            sqlite_where=text("finished_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    goods_id: Mapped[int] = mapped_column(ForeignKey("goods.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The accepted offer this order came from (the bargaining issue), if any.
    offer_id: Mapped[int | None] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    # Copied from the platform's rate when the order is created (basis points, 100 = 1%).
    commission_rate_bp: Mapped[int] = mapped_column(Integer)
    status: Mapped[OrderStatus] = mapped_column(string_enum(OrderStatus))
    # When the system acts if nobody else does; None while nothing is timed (or disputed).
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    disputed_from: Mapped[OrderStatus | None] = mapped_column(string_enum(OrderStatus))
    video_path: Mapped[str | None] = mapped_column(String(200))
    video_seconds: Mapped[float | None] = mapped_column()
    carrier: Mapped[str | None] = mapped_column(String(20))
    tracking_number: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it)


class OrderTransition(Base):
    """The append-only timeline of an order: who moved it from where to where, and when."""

    __tablename__ = "order_transitions"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[OrderStatus | None] = mapped_column(string_enum(OrderStatus))
    to_status: Mapped[OrderStatus] = mapped_column(string_enum(OrderStatus))
    actor: Mapped[Actor] = mapped_column(string_enum(Actor))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    # Money that arrived for an order no longer taking it, sent back to the buyer.
    RETURNED = "returned"


class Payment(Base):
    """One attempt to pay an order at the gateway, known by the gateway's reference."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    gateway: Mapped[str] = mapped_column(String(20))
    gateway_ref: Mapped[str] = mapped_column(String(64), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[PaymentStatus] = mapped_column(string_enum(PaymentStatus))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SandboxCharge(Base):
    """The sandbox gateway's own book: a charge, whether the shopper paid it, and the
    signed notification it owes our webhook (delivered until acknowledged)."""

    __tablename__ = "sandbox_charges"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    notification: Mapped[str | None] = mapped_column(Text)
    signature: Mapped[str | None] = mapped_column(String(128))
    delivery_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_delivery_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DisputeOutcome(enum.StrEnum):
    REFUND_FULL = "refund_full"
    REFUND_PARTIAL = "refund_partial"
    RELEASE = "release"


class Dispute(Base):
    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    opened_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opener: Mapped[Actor] = mapped_column(string_enum(Actor))
    reason: Mapped[str] = mapped_column(String(1000))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    outcome: Mapped[DisputeOutcome | None] = mapped_column(string_enum(DisputeOutcome))
    refund_amount: Mapped[int | None] = mapped_column(BigInteger)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolution_note: Mapped[str | None] = mapped_column(String(1000))


class Rating(Base):
    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("order_id", "rater_id", name="uq_ratings_order_rater"),
        Index("ix_ratings_ratee", "ratee_id", "ratee_role"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    rater_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ratee_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Whether the ratee was the seller or the buyer in this order.
    ratee_role: Mapped[Actor] = mapped_column(string_enum(Actor))
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CommissionRate(Base):
    """The platform's commission, as admins set it over time; the newest row applies."""

    __tablename__ = "commission_rates"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    rate_bp: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class IdempotencyRecord(Base):
    """The first answer to a money-moving request, replayed for the same key."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the method, path and body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
