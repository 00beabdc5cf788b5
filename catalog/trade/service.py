"""What buyers, sellers and operators do with orders. Every action locks the order, asks
the state machine, and writes its effects in the caller's transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from catalog.goods import repository as goods_repository
from catalog.goods import service as goods_service
from catalog.goods.models import GoodsStatus
from catalog.goods.rules import VIEWABLE_STATES
from catalog.media.after_transaction import after_rollback
from catalog.media.store import MediaStore
from catalog.media.videos import inspect_video
from catalog.money import MAX_LISTING_PRICE, Fen
from catalog.pagination import fetch_page
from catalog.trade import machine, repository
from catalog.trade.machine import Step
from catalog.trade.models import (
    Actor,
    CommissionRate,
    Dispute,
    DisputeOutcome,
    Order,
    OrderStatus,
    OrderTransition,
    Rating,
)
from catalog.trade.settings import TradeSettings
from catalog.users.models import User
from catalog.users.permissions import Permission, has_permission

MAX_COMMISSION_BP = 3_000  # 30%: anything above is a slip of the keyboard
CARRIERS = {
    "SF": "顺丰速运",
    "ZTO": "中通快递",
    "YTO": "圆通速递",
    "YD": "韵达快递",
    "STO": "申通快递",
    "EMS": "中国邮政EMS",
    "JD": "京东物流",
    "JT": "极兔速递",
    "DBL": "德邦快递",
}
_TRACKING_NUMBER = re.compile(r"[A-Za-z0-9]{8,30}")


def current_commission_bp(session: Session, settings: TradeSettings) -> int:
    latest = session.scalar(
        select(CommissionRate.rate_bp).order_by(CommissionRate.id.desc()).limit(1)
    )
    return settings.default_commission_bp if latest is None else latest


def set_commission(session: Session, *, admin: User, rate_bp: int) -> CommissionRate:
    """A new commission rate for orders created from now on; open orders keep theirs."""
    if not 0 <= rate_bp <= MAX_COMMISSION_BP:
        raise InvalidInput(
            f"the rate must be 0 to {MAX_COMMISSION_BP} basis points",
            code="invalid_rate",
            field="rate_bp",
        )
    rate = CommissionRate(rate_bp=rate_bp, set_by=admin.id)
    session.add(rate)
    session.flush()
    return rate


def place_order(
    session: Session,
    *,
    buyer: User,
    goods_id: int,
    now: datetime,
    settings: TradeSettings,
    price: Fen | None = None,
    offer_id: int | None = None,
) -> Order:
    """Order listed goods at their price (or at an agreed `price` from an accepted offer):
    the goods are reserved for this buyer until the order is paid or expires."""
    goods = goods_repository.get_goods(session, goods_id, for_update=True)
    if goods is None or goods.status not in VIEWABLE_STATES:
        raise NotFound("no such goods", code="goods_not_found")
    if goods.seller_id == buyer.id:
        raise Conflict("you cannot buy your own goods", code="own_goods")
    if goods.status is not GoodsStatus.LISTED:
        raise Conflict(f"these goods are {goods.status.value}", code="goods_not_available")
    if price is not None and not 0 < price <= MAX_LISTING_PRICE:
        raise InvalidInput("the agreed price is out of range", code="invalid_price", field="price")
    unpaid = session.scalar(
        select(func.count())
        .select_from(Order)
        .where(Order.buyer_id == buyer.id, Order.status == OrderStatus.AWAITING_PAYMENT)
    )
    # Unpaid orders hold goods away from everyone else: a cap stops one buyer from
    # reserving a seller's whole shop.
    if (unpaid or 0) >= settings.max_unpaid_orders:
        raise Conflict(
            f"pay or cancel your {unpaid} unpaid orders first", code="too_many_unpaid_orders"
        )
    goods_service.reserve_for_order(session, goods=goods)
    order = Order(
        goods_id=goods.id,
        buyer_id=buyer.id,
        seller_id=goods.seller_id,
        offer_id=offer_id,
        price=goods.price if price is None else price,
        commission_rate_bp=current_commission_bp(session, settings),
        status=OrderStatus.AWAITING_PAYMENT,
        created_at=now,
        updated_at=now,
    )
    deadline = machine.deadline_for(OrderStatus.AWAITING_PAYMENT, settings)
    order.due_at = now + deadline[0] if deadline else None
    session.add(order)
    session.flush()
    step = Step(now, Actor.BUYER, buyer.id)
    machine.log_transitions(
        session, [machine.TimelineEntry(order.id, "place", None, order.status, step)]
    )
    return order


@dataclass(frozen=True)
class OrderView:
    order: Order
    timeline: list[OrderTransition]
    dispute: Dispute | None
    ratings: list[Rating]
    viewer_role: Actor


@dataclass(frozen=True)
class SellerProfile:
    id: int
    nickname: str
    reputation: repository.Reputation


def seller_profile(session: Session, *, seller_id: int) -> SellerProfile:
    """What shoppers see of a seller on their goods: name, rating and completed sales."""
    seller = session.get_one(User, seller_id)
    return SellerProfile(
        seller.id, seller.nickname, repository.reputations(session, [seller_id])[seller_id]
    )


def role_in(order: Order, user: User) -> Actor | None:
    if user.id == order.buyer_id:
        return Actor.BUYER
    if user.id == order.seller_id:
        return Actor.SELLER
    if has_permission(user, Permission.SEE_ORDERS):
        return Actor.OPERATOR
    return None


def order_for(
    session: Session, *, user: User, order_id: int, lock: bool = False
) -> tuple[Order, Actor]:
    """The order and the user's part in it; an order that is not theirs does not exist."""
    order = repository.get_order(session, order_id, for_update=lock)
    role = None if order is None else role_in(order, user)
    if order is None or role is None:
        raise NotFound("no such order", code="order_not_found")
    return order, role


def view_order(session: Session, *, user: User, order_id: int) -> OrderView:
    order, role = order_for(session, user=user, order_id=order_id)
    return OrderView(
        order,
        repository.timeline(session, order.id),
        repository.dispute_of(session, order.id),
        repository.ratings_of_order(session, order.id),
        role,
    )


def list_orders(
    session: Session,
    *,
    user: User,
    as_role: Actor,
    status: OrderStatus | None,
    page: int,
    page_size: int,
) -> tuple[list[Order], int]:
    """The user's orders as buyer or as seller, newest first."""
    if as_role is Actor.BUYER:
        stmt = repository.orders_of(buyer_id=user.id, status=status)
    else:
        stmt = repository.orders_of(seller_id=user.id, status=status)
    return fetch_page(session, stmt, page=page, page_size=page_size)


# What a buyer or seller may ask for by name; the machine decides whether it is their step.
PARTY_ACTIONS = {
    "confirm_video",
    "mark_complete",
    "confirm_receipt",
}


def act(
    session: Session,
    *,
    user: User,
    order_id: int,
    action: str,
    now: datetime,
    settings: TradeSettings,
    note: str = "",
) -> Order:
    """A buyer's or seller's step that needs nothing but their say-so."""
    assert action in PARTY_ACTIONS, action
    order, role = _party_order(session, user=user, order_id=order_id, now=now)
    machine.apply(session, order, action, Step(now, role, user.id, note), settings=settings)
    session.flush()
    return order


def cancel(
    session: Session,
    *,
    user: User,
    order_id: int,
    now: datetime,
    settings: TradeSettings,
    note: str = "",
) -> Order:
    """Either side before payment; the seller also after payment, before the video (the
    buyer is refunded in full). Which transition it is, is decided under the row lock."""
    order, role = _party_order(session, user=user, order_id=order_id, now=now)
    paid = role is Actor.SELLER and order.status is OrderStatus.PAID
    name = "seller_cancel" if paid else "cancel"
    machine.apply(session, order, name, Step(now, role, user.id, note), settings=settings)
    session.flush()
    return order


def upload_video(
    session: Session,
    *,
    seller: User,
    order_id: int,
    data: bytes,
    store: MediaStore,
    now: datetime,
    settings: TradeSettings,
) -> Order:
    """The seller's video of the item, checked by its content, size and duration."""
    order, role = _party_order(session, user=seller, order_id=order_id, now=now)
    machine.allowed(order, "upload_video", role)  # refuse before reading the file
    video = inspect_video(
        data,
        max_bytes=settings.video_max_bytes,
        min_seconds=settings.video_min_seconds,
        max_seconds=settings.video_max_seconds,
    )
    path = store.save(data, extension=video.container, folder="videos")
    after_rollback(session, lambda: store.delete(path))
    machine.apply(session, order, "upload_video", Step(now, role, seller.id), settings=settings)
    order.video_path = path
    order.video_seconds = round(video.duration_seconds, 2)
    session.flush()
    return order


def ship(
    session: Session,
    *,
    seller: User,
    order_id: int,
    carrier: str,
    tracking_number: str,
    now: datetime,
    settings: TradeSettings,
) -> Order:
    """The seller shipped the item offline: the carrier and the tracking number."""
    if carrier not in CARRIERS:
        raise InvalidInput(
            f"carrier must be one of {', '.join(CARRIERS)}", code="unknown_carrier", field="carrier"
        )
    tracking_number = tracking_number.strip()
    if not _TRACKING_NUMBER.fullmatch(tracking_number):
        raise InvalidInput(
            "a tracking number is 8 to 30 letters and digits",
            code="invalid_tracking_number",
            field="tracking_number",
        )
    order, role = _party_order(session, user=seller, order_id=order_id, now=now)
    machine.apply(session, order, "ship", Step(now, role, seller.id), settings=settings)
    order.carrier = carrier
    order.tracking_number = tracking_number.upper()
    order.shipped_at = now
    session.flush()
    return order


def open_dispute(
    session: Session,
    *,
    user: User,
    order_id: int,
    reason: str,
    now: datetime,
    settings: TradeSettings,
) -> Dispute:
    """Either side stops the order's clock and freezes its money until an operator decides."""
    reason = reason.strip()
    if not 2 <= len(reason) <= 1000:
        raise InvalidInput(
            "say what went wrong (2 to 1000 characters)", code="invalid_reason", field="reason"
        )
    order, role = _party_order(session, user=user, order_id=order_id, now=now)
    machine.apply(
        session, order, "dispute", Step(now, role, user.id, reason[:500]), settings=settings
    )
    dispute = Dispute(
        order_id=order.id, opened_by=user.id, opener=role, reason=reason, opened_at=now
    )
    session.add(dispute)
    session.flush()
    return dispute


def resolve_dispute(
    session: Session,
    *,
    operator: User,
    order_id: int,
    outcome: DisputeOutcome,
    refund_amount: int | None,
    note: str,
    now: datetime,
    settings: TradeSettings,
) -> Dispute:
    """An operator's decision: everything back to the buyer, part of it, or all to the seller."""
    order = repository.get_order(session, order_id, for_update=True)
    dispute = None if order is None else repository.dispute_of(session, order.id)
    if order is None or dispute is None:
        raise NotFound("no dispute on such an order", code="dispute_not_found")
    if outcome is DisputeOutcome.REFUND_PARTIAL:
        if refund_amount is None or not 0 < refund_amount < order.price:
            raise InvalidInput(
                f"a partial refund is between 1 and {order.price - 1} fen",
                code="invalid_refund_amount",
                field="refund_amount",
            )
    elif refund_amount is not None:
        raise InvalidInput(
            "only a partial refund takes an amount",
            code="invalid_refund_amount",
            field="refund_amount",
        )
    name = {
        DisputeOutcome.REFUND_FULL: "resolve_refund",
        DisputeOutcome.REFUND_PARTIAL: "resolve_partial",
        DisputeOutcome.RELEASE: "resolve_release",
    }[outcome]
    step = Step(now, Actor.OPERATOR, operator.id, note[:500], refund_amount=refund_amount or 0)
    machine.apply(session, order, name, step, settings=settings)
    dispute.outcome = outcome
    dispute.refund_amount = (
        order.price if outcome is DisputeOutcome.REFUND_FULL else refund_amount or 0
    )
    dispute.resolved_by = operator.id
    dispute.resolved_at = now
    dispute.resolution_note = note
    session.flush()
    return dispute


def rate(
    session: Session, *, user: User, order_id: int, score: int, comment: str, now: datetime
) -> Rating:
    """After completion, each side rates the other once (1 to 5 and a comment)."""
    if not 1 <= score <= 5:
        raise InvalidInput("a rating is 1 to 5", code="invalid_score", field="score")
    comment = comment.strip()
    if len(comment) > 500:
        raise InvalidInput(
            "a comment is at most 500 characters", code="invalid_length", field="comment"
        )
    order, role = _party_order(session, user=user, order_id=order_id, now=now)
    if order.status is not OrderStatus.COMPLETED:
        raise Conflict(
            "orders are rated once they are completed",
            code="invalid_order_state",
            status=order.status.value,
        )
    if any(r.rater_id == user.id for r in repository.ratings_of_order(session, order.id)):
        raise Conflict("you rated this order already", code="already_rated")
    ratee_role = Actor.SELLER if role is Actor.BUYER else Actor.BUYER
    rating = Rating(
        order_id=order.id,
        rater_id=user.id,
        ratee_id=order.seller_id if ratee_role is Actor.SELLER else order.buyer_id,
        ratee_role=ratee_role,
        score=score,
        comment=comment,
        created_at=now,
    )
    session.add(rating)
    session.flush()
    return rating


def _party_order(
    session: Session, *, user: User, order_id: int, now: datetime
) -> tuple[Order, Actor]:
    """The order locked for a change by its buyer or seller. A deadline that has passed is
    the sweeper's to act on, even if it has not come round yet: no step may beat it."""
    order, role = order_for(session, user=user, order_id=order_id, lock=True)
    if role is Actor.OPERATOR:
        raise PermissionDenied("only the buyer or the seller takes this step", code="not_your_step")
    if order.due_at is not None and order.due_at <= now:
        raise Conflict(
            "the deadline for this step has passed",
            code="deadline_passed",
            due_at=order.due_at.isoformat(),
        )
    return order, role
