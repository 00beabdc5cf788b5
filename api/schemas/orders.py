from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from api.schemas.base import Input, Output
from catalog.trade.logistics import TrackingEvent
from catalog.trade.models import (
    Actor,
    Dispute,
    DisputeOutcome,
    Order,
    OrderStatus,
    OrderTransition,
    Rating,
)
from catalog.trade.money import commission
from catalog.trade.service import OrderView

Id = Annotated[int, Field(strict=True)]
Amount = Annotated[int, Field(strict=True, gt=0, description="fen (1/100 yuan)")]
Reason = Annotated[str, StringConstraints(min_length=2, max_length=1000)]
Note = Annotated[str, StringConstraints(max_length=1000)]


class OrderCreateIn(Input):
    goods_id: Id


class ShipIn(Input):
    carrier: Annotated[str, StringConstraints(min_length=1, max_length=10)] = Field(
        description="SF, ZTO, YTO, YD, STO, EMS, JD, JT or DBL"
    )
    tracking_number: Annotated[str, StringConstraints(min_length=1, max_length=40)]


class DisputeIn(Input):
    reason: Reason


class CancelIn(Input):
    reason: Note = ""


class RatingIn(Input):
    score: Annotated[int, Field(strict=True, ge=1, le=5)]
    comment: Annotated[str, StringConstraints(max_length=500)] = ""


class ResolveDisputeIn(Input):
    outcome: DisputeOutcome
    refund_amount: Amount | None = Field(default=None, description="only for refund_partial")
    note: Note = ""


class TransitionOut(Output):
    name: str
    from_status: OrderStatus | None
    to_status: OrderStatus
    actor: Actor
    actor_id: int | None
    note: str
    at: datetime

    @classmethod
    def of(cls, entry: OrderTransition) -> TransitionOut:
        return cls.model_validate(entry)


class DisputeOut(Output):
    id: int
    order_id: int
    opener: Actor
    reason: str
    opened_at: datetime
    outcome: DisputeOutcome | None
    refund_amount: int | None
    resolved_at: datetime | None
    resolution_note: str | None

    @classmethod
    def of(cls, dispute: Dispute) -> DisputeOut:
        return cls.model_validate(dispute)


class RatingOut(Output):
    id: int
    order_id: int
    rater_id: int
    ratee_id: int
    ratee_role: Actor
    score: int
    comment: str
    created_at: datetime

    @classmethod
    def of(cls, rating: Rating) -> RatingOut:
        return cls.model_validate(rating)


class OrderSummaryOut(Output):
    id: int
    goods_id: int
    buyer_id: int
    seller_id: int
    price: int
    status: OrderStatus
    due_at: datetime | None = Field(description="when the system acts if nobody does")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, order: Order) -> OrderSummaryOut:
        return cls.model_validate(order)


class OrderOut(OrderSummaryOut):
    commission_rate_bp: int
    commission: int = Field(description="the platform's share if the order completes in full")
    seller_receives: int
    offer_id: int | None
    video_url: str | None
    video_seconds: float | None
    carrier: str | None
    tracking_number: str | None
    paid_at: datetime | None
    shipped_at: datetime | None
    finished_at: datetime | None
    disputed_from: OrderStatus | None
    your_role: Actor
    timeline: list[TransitionOut]
    dispute: DisputeOut | None
    ratings: list[RatingOut]

    @classmethod
    def of_view(cls, view: OrderView) -> OrderOut:
        order = view.order
        fee = commission(order.price, order.commission_rate_bp)
        return cls(
            **OrderSummaryOut.of(order).model_dump(),
            commission_rate_bp=order.commission_rate_bp,
            commission=fee,
            seller_receives=order.price - fee,
            offer_id=order.offer_id,
            video_url=f"/api/v1/orders/{order.id}/video" if order.video_path else None,
            video_seconds=order.video_seconds,
            carrier=order.carrier,
            tracking_number=order.tracking_number,
            paid_at=order.paid_at,
            shipped_at=order.shipped_at,
            finished_at=order.finished_at,
            disputed_from=order.disputed_from,
            your_role=view.viewer_role,
            timeline=[TransitionOut.of(entry) for entry in view.timeline],
            dispute=DisputeOut.of(view.dispute) if view.dispute else None,
            ratings=[RatingOut.of(rating) for rating in view.ratings],
        )


class PaymentOut(Output):
    payment_id: int
    order_id: int
    amount: int
    status: str
    pay_url: str = Field(description="POST here: the sandbox's 'the shopper paid' step")


class SandboxPaidOut(Output):
    ref: str
    paid_at: datetime


class WebhookOut(Output):
    result: Literal["applied", "duplicate", "returned"]


class TrackingEventOut(Output):
    at: datetime
    status: str
    description: str

    @classmethod
    def of(cls, event: TrackingEvent) -> TrackingEventOut:
        return cls(at=event.at, status=event.status, description=event.description)


class TrackingOut(Output):
    carrier: str
    carrier_name: str
    tracking_number: str
    events: list[TrackingEventOut]


class CommissionIn(Input):
    rate_bp: Annotated[int, Field(strict=True, ge=0, le=3000, description="100 = 1%")]


class CommissionOut(Output):
    rate_bp: int


class TradeHealthOut(Output):
    violations: list[str]
