"""The order state machine, declared: which transitions exist, who may take them, what
they do to money and goods, and which deadline each state sets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from catalog.errors import Conflict, PermissionDenied
from catalog.goods import service as goods_service
from catalog.goods.models import Goods
from catalog.notifications.service import Notice, notify_many
from catalog.trade import money
from catalog.trade.models import Actor, Order, OrderStatus, OrderTransition
from catalog.trade.settings import TradeSettings

S = OrderStatus
_TRANSITIONS = cast(Table, OrderTransition.__table__)
Effect = Callable[[Session, Order, "Step"], None]


@dataclass(frozen=True)
class Step:
    """What a transition is given besides the order: when, by whom, and its particulars."""

    now: datetime
    actor: Actor
    actor_id: int | None = None
    note: str = ""
    refund_amount: int = 0


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[OrderStatus]
    target: OrderStatus
    actors: frozenset[Actor]
    effects: tuple[Effect, ...] = field(default=())


def _goods(session: Session, order: Order) -> Goods:
    goods = session.get(Goods, order.goods_id, with_for_update=True)
    assert goods is not None  # orders reference goods by foreign key
    return goods


def _relist(session: Session, order: Order, _step: Step) -> None:
    goods_service.release_from_order(session, goods=_goods(session, order), relist=True)


def _relist_unless_sent(session: Session, order: Order, _step: Step) -> None:
    # Goods that travelled to the buyer and back need the seller's eyes before a new sale.
    sent = order.disputed_from in {S.SHIPPED, S.SELLER_COMPLETED}
    goods_service.release_from_order(session, goods=_goods(session, order), relist=not sent)


def _sold(session: Session, order: Order, _step: Step) -> None:
    goods_service.mark_sold(session, goods=_goods(session, order))


def _take_payment(session: Session, order: Order, step: Step) -> None:
    money.take_payment(session, order)
    order.paid_at = step.now


def _refund(session: Session, order: Order, _step: Step) -> None:
    money.refund(session, order)


def _release(session: Session, order: Order, _step: Step) -> None:
    money.release(session, order)


def _partial_refund(session: Session, order: Order, step: Step) -> None:
    money.release(session, order, refunded=step.refund_amount)


def _remember_dispute_origin(_session: Session, order: Order, _step: Step) -> None:
    order.disputed_from = order.status


def _t(
    name: str, sources: set[OrderStatus], target: OrderStatus, actors: set[Actor], *effects: Effect
) -> Transition:
    return Transition(name, frozenset(sources), target, frozenset(actors), tuple(effects))


B, SE, OP, SY = Actor.BUYER, Actor.SELLER, Actor.OPERATOR, Actor.SYSTEM
# States in which the buyer's money is in escrow and the order is still going.
FUNDED = {S.PAID, S.VIDEO_UPLOADED, S.VIDEO_CONFIRMED, S.SHIPPED, S.SELLER_COMPLETED}
FINISHED = frozenset({S.COMPLETED, S.CANCELLED, S.REFUNDED})

TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _t("pay", {S.AWAITING_PAYMENT}, S.PAID, {SY}, _take_payment),
        _t("cancel", {S.AWAITING_PAYMENT}, S.CANCELLED, {B, SE}, _relist),
        _t("expire", {S.AWAITING_PAYMENT}, S.CANCELLED, {SY}, _relist),
        # The seller may back out before proving the item; the buyer gets everything back.
        _t("seller_cancel", {S.PAID}, S.CANCELLED, {SE}, _refund, _relist),
        _t("upload_video", {S.PAID}, S.VIDEO_UPLOADED, {SE}),
        _t("video_timeout", {S.PAID}, S.CANCELLED, {SY}, _refund, _relist),
        _t("confirm_video", {S.VIDEO_UPLOADED}, S.VIDEO_CONFIRMED, {B}),
        _t("confirm_timeout", {S.VIDEO_UPLOADED}, S.CANCELLED, {SY}, _refund, _relist),
        _t("confirm_timeout_accept", {S.VIDEO_UPLOADED}, S.VIDEO_CONFIRMED, {SY}),
        _t("ship", {S.VIDEO_CONFIRMED}, S.SHIPPED, {SE}),
        _t("ship_timeout", {S.VIDEO_CONFIRMED}, S.CANCELLED, {SY}, _refund, _relist),
        _t("mark_complete", {S.SHIPPED}, S.SELLER_COMPLETED, {SE}),
        _t("confirm_receipt", {S.SHIPPED, S.SELLER_COMPLETED}, S.COMPLETED, {B}, _release, _sold),
        _t("auto_complete", {S.SHIPPED, S.SELLER_COMPLETED}, S.COMPLETED, {SY}, _release, _sold),
        _t("dispute", FUNDED, S.DISPUTED, {B, SE}, _remember_dispute_origin),
        _t("resolve_refund", {S.DISPUTED}, S.REFUNDED, {OP}, _refund, _relist_unless_sent),
        _t("resolve_partial", {S.DISPUTED}, S.COMPLETED, {OP}, _partial_refund, _sold),
        _t("resolve_release", {S.DISPUTED}, S.COMPLETED, {OP}, _release, _sold),
    )
}


def deadline_for(status: OrderStatus, settings: TradeSettings) -> tuple[timedelta, str] | None:
    """How long `status` may last and what the system does when it has; None: untimed
    (a dispute stops every timer, finished orders have none)."""
    confirm_timeout = (
        "confirm_timeout"
        if settings.unconfirmed_video_policy == "refund"
        else "confirm_timeout_accept"
    )
    hours = {
        S.AWAITING_PAYMENT: (settings.unpaid_expiry_minutes / 60, "expire"),
        S.PAID: (settings.video_upload_hours, "video_timeout"),
        S.VIDEO_UPLOADED: (settings.video_confirm_hours, confirm_timeout),
        S.VIDEO_CONFIRMED: (settings.ship_within_hours, "ship_timeout"),
        S.SHIPPED: (settings.auto_complete_after_ship_days * 24, "auto_complete"),
        S.SELLER_COMPLETED: (settings.seller_completed_grace_hours, "auto_complete"),
    }.get(status)
    return None if hours is None else (timedelta(hours=hours[0]), hours[1])


def allowed(order: Order, name: str, actor: Actor) -> Transition:
    """Transition `name` if `actor` may take it from the order's state; refuses otherwise."""
    transition = TRANSITIONS[name]
    if actor not in transition.actors:
        raise PermissionDenied(f"the {actor.value} may not {name} this order", code="not_your_step")
    if order.status not in transition.sources:
        raise Conflict(
            f"an order that is {order.status.value} cannot {name.replace('_', ' ')}",
            code="invalid_order_state",
            status=order.status.value,
        )
    return transition


def apply(
    session: Session, order: Order, name: str, step: Step, *, settings: TradeSettings
) -> None:
    """Take transition `name` on `order` (locked by the caller) or refuse: wrong actor,
    wrong state. Its effects, the new state and deadline, and the timeline entry are
    written in the caller's transaction, so they happen together or not at all."""
    transition = allowed(order, name, step.actor)
    source = order.status
    for effect in transition.effects:
        effect(session, order, step)
    order.status = transition.target
    deadline = deadline_for(transition.target, settings)
    order.due_at = step.now + deadline[0] if deadline else None
    order.updated_at = step.now
    if transition.target in FINISHED:
        order.finished_at = step.now
    log_transitions(session, [TimelineEntry(order.id, name, source, transition.target, step)])
    _tell_the_parties(session, order, step)


@dataclass(frozen=True)
class TimelineEntry:
    """One line of an order's timeline: which transition took it from where to where."""

    order_id: int
    name: str
    source: OrderStatus | None
    target: OrderStatus
    step: Step


def log_transitions(session: Session, entries: Sequence[TimelineEntry]) -> None:
    """Append timeline entries: a Core INSERT, since the log is only ever appended to and
    an ORM object per step cost more than the statement."""
    session.connection().execute(
        insert(_TRANSITIONS),
        [
            {
                "order_id": entry.order_id,
                "name": entry.name,
                "from_status": entry.source,
                "to_status": entry.target,
                "actor": entry.step.actor,
                "actor_id": entry.step.actor_id,
                "note": entry.step.note,
                "at": entry.step.now,
            }
            for entry in entries
        ],
    )


STATUS_NAMES = {
    S.AWAITING_PAYMENT: "待付款",
    S.PAID: "已付款，待卖家上传视频",
    S.VIDEO_UPLOADED: "卖家已上传视频，待确认",
    S.VIDEO_CONFIRMED: "视频已确认，待发货",
    S.SHIPPED: "已发货",
    S.SELLER_COMPLETED: "卖家已确认完成",
    S.DISPUTED: "纠纷处理中",
    S.COMPLETED: "交易完成",
    S.CANCELLED: "已取消",
    S.REFUNDED: "已退款",
}


def _tell_the_parties(session: Session, order: Order, step: Step) -> None:
    """An in-app notice to whoever did not take the step (both, for the system's steps)."""
    text = f"订单 #{order.id}：{STATUS_NAMES[order.status]}"
    notices = [
        Notice(party, "order", text, order_id=order.id)
        for party in (order.buyer_id, order.seller_id)
        if party != step.actor_id
    ]
    notify_many(session, notices=notices, now=step.now)
