"""Bargaining (砍价) inside a conversation: the buyer offers, the seller accepts, rejects or
counters, the buyer may accept a counter or withdraw. An accepted offer opens an order
at the agreed price through the same entry point as buying at the list price; every
other open offer on the good is then declined."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.conversations.models import Conversation, MessageKind, Offer, OfferStatus
from catalog.conversations.service import add_message, conversation_for, other_party
from catalog.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from catalog.goods import repository as goods_repository
from catalog.goods.models import Goods, GoodsStatus
from catalog.goods.service import own_goods
from catalog.money import Fen
from catalog.notifications.service import notify
from catalog.trade import service as trade
from catalog.trade.models import Order
from catalog.trade.settings import TradeSettings
from catalog.users.models import User


class Side(enum.StrEnum):
    """Who may take a step on an open offer."""

    PROPOSER = "proposer"  # whoever named the price
    RECEIVER = "receiver"  # the other side
    SELLER_ON_BUYERS_PRICE = "seller_on_buyers_price"
    SYSTEM = "system"


@dataclass(frozen=True)
class OfferStep:
    target: OfferStatus
    taken_by: Side
    refusal: str


# The offer state machine, in the orders' style: every step leaves PENDING (the one open
# state) for its target, taken by the side named; expiry comes from `due_at`, swept with
# the orders' deadlines.
OFFER_STEPS: dict[str, OfferStep] = {
    "accept": OfferStep(OfferStatus.ACCEPTED, Side.RECEIVER, "the other side accepts your offer"),
    "reject": OfferStep(OfferStatus.REJECTED, Side.RECEIVER, "withdraw your own offer instead"),
    "counter": OfferStep(
        OfferStatus.COUNTERED,
        Side.SELLER_ON_BUYERS_PRICE,
        "only the seller counters the buyer's offer",
    ),
    "withdraw": OfferStep(
        OfferStatus.WITHDRAWN, Side.PROPOSER, "only who made an offer withdraws it"
    ),
    "expire": OfferStep(OfferStatus.EXPIRED, Side.SYSTEM, "offers expire by themselves"),
    "decline": OfferStep(OfferStatus.DECLINED, Side.SYSTEM, "offers are declined by the platform"),
}


def _may_take(side: Side, offer: Offer, conversation: Conversation, user_id: int) -> bool:
    if side is Side.PROPOSER:
        return user_id == offer.proposed_by
    if side is Side.RECEIVER:
        return user_id != offer.proposed_by
    if side is Side.SELLER_ON_BUYERS_PRICE:
        return user_id == conversation.seller_id and offer.proposed_by == conversation.buyer_id
    return False


def _take(
    session: Session, *, step: str, user: User, offer_id: int, now: datetime
) -> tuple[Offer, Conversation, OfferStep]:
    """The open offer, locked, if `user` may take `step` on it now; refused otherwise."""
    offer, conversation = _open_offer_for(session, user=user, offer_id=offer_id, now=now)
    rule = OFFER_STEPS[step]
    if not _may_take(rule.taken_by, offer, conversation, user.id):
        raise PermissionDenied(rule.refusal, code="not_your_step")
    return offer, conversation, rule


def make_offer(
    session: Session,
    *,
    buyer: User,
    conversation_id: int,
    price: int,
    now: datetime,
    settings: TradeSettings,
) -> Offer:
    """The buyer proposes a price. Their earlier open offer in this conversation is
    withdrawn in its favour; an open counter from the seller counts as turned down."""
    conversation = conversation_for(session, user=buyer, conversation_id=conversation_id)
    if buyer.id != conversation.buyer_id:
        raise PermissionDenied(
            "only the buyer makes offers; the seller counters", code="not_your_step"
        )
    _lock_goods(session, conversation.goods_id)
    earlier_offers = _open_offers(session, conversation_id=conversation.id)
    conversation = conversation_for(session, user=buyer, conversation_id=conversation_id, lock=True)
    goods = _biddable_goods(session, conversation.goods_id)
    _check_price(goods, price)
    for earlier in earlier_offers:
        own = earlier.proposed_by == buyer.id
        status = OfferStatus.WITHDRAWN if own else OfferStatus.REJECTED
        _close(session, conversation, earlier, status, now, by=buyer.id)
    return _new_offer(
        session,
        conversation,
        proposer=buyer.id,
        price=price,
        counters=None,
        now=now,
        settings=settings,
    )


def counter_offer(
    session: Session,
    *,
    seller: User,
    offer_id: int,
    price: int,
    now: datetime,
    settings: TradeSettings,
) -> Offer:
    """The seller answers the buyer's offer with a price of their own."""
    offer, conversation, rule = _take(
        session, step="counter", user=seller, offer_id=offer_id, now=now
    )
    goods = _biddable_goods(session, conversation.goods_id)
    _check_price(goods, price, floor=False)
    _close(session, conversation, offer, rule.target, now, by=seller.id)
    return _new_offer(
        session,
        conversation,
        proposer=seller.id,
        price=price,
        counters=offer.id,
        now=now,
        settings=settings,
    )


def accept_offer(
    session: Session, *, user: User, offer_id: int, now: datetime, settings: TradeSettings
) -> tuple[Offer, Order]:
    """The side that did not propose the price accepts it: the good is reserved for the
    buyer and an order opens at that price; the good's other open offers are declined.
    Two accepts at once, or an accept and a direct purchase, meet at the good's row lock:
    one wins, the other is told the good is no longer available."""
    offer, conversation, rule = _take(session, step="accept", user=user, offer_id=offer_id, now=now)
    buyer = session.get_one(User, conversation.buyer_id)
    goods = goods_repository.get_goods(session, offer.goods_id)
    # A seller who lowered the price since the offer does not charge more than it.
    price = min(offer.price, goods.price) if goods is not None else offer.price
    order = trade.place_order(
        session,
        buyer=buyer,
        goods_id=offer.goods_id,
        now=now,
        settings=settings,
        price=Fen(price),
        offer_id=offer.id,
    )
    offer.status = rule.target
    offer.decided_at = now
    offer.order_id = order.id
    offer.due_at = None
    add_message(
        session,
        conversation,
        sender_id=None,
        kind=MessageKind.OFFER,
        text=f"已接受出价 ¥{offer.price / 100:.2f}，订单已生成",
        now=now,
        offer_id=offer.id,
    )
    notify(
        session,
        user_id=other_party(conversation, user.id),
        kind="offer_accepted",
        text=f"出价 ¥{offer.price / 100:.2f} 已被接受",
        now=now,
        conversation_id=conversation.id,
        offer_id=offer.id,
        order_id=order.id,
    )
    decline_open_offers(session, goods_id=offer.goods_id, now=now, reason="商品已下单")
    return offer, order


def reject_offer(session: Session, *, user: User, offer_id: int, now: datetime) -> Offer:
    """The side that did not propose the price turns it down."""
    offer, conversation, rule = _take(session, step="reject", user=user, offer_id=offer_id, now=now)
    _close(session, conversation, offer, rule.target, now, by=user.id)
    return offer


def withdraw_offer(session: Session, *, user: User, offer_id: int, now: datetime) -> Offer:
    """Whoever proposed a price takes it back while it is open."""
    offer, conversation, rule = _take(
        session, step="withdraw", user=user, offer_id=offer_id, now=now
    )
    _close(session, conversation, offer, rule.target, now, by=user.id)
    return offer


def decline_open_offers(session: Session, *, goods_id: int, now: datetime, reason: str) -> int:
    """The good was ordered: every offer still open on it is declined, with a note."""
    offers = list(
        session.scalars(
            select(Offer)
            .where(Offer.goods_id == goods_id, Offer.status == OfferStatus.PENDING)
            .with_for_update()
        )
    )
    for offer in offers:
        conversation = session.get_one(Conversation, offer.conversation_id, with_for_update=True)
        _close(
            session, conversation, offer, OFFER_STEPS["decline"].target, now, by=None, note=reason
        )
    return len(offers)


def sweep_due_offers(session: Session, *, now: datetime, limit: int = 500) -> int:
    """Expire open offers whose time is up (the same sweep as orders' deadlines)."""
    offers = session.scalars(
        select(Offer)
        .where(Offer.due_at <= now, Offer.status == OfferStatus.PENDING)
        .order_by(Offer.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    for offer in offers:
        conversation = session.get_one(Conversation, offer.conversation_id, with_for_update=True)
        _close(session, conversation, offer, OFFER_STEPS["expire"].target, now, by=None)
    session.flush()
    return len(offers)


def offers_in(session: Session, *, user: User, conversation_id: int) -> list[Offer]:
    conversation = conversation_for(session, user=user, conversation_id=conversation_id)
    return list(
        session.scalars(
            select(Offer).where(Offer.conversation_id == conversation.id).order_by(Offer.id)
        )
    )


def set_bargaining(
    session: Session,
    *,
    seller: User,
    goods_id: int,
    no_bargaining: bool,
    floor_price: int | None,
    now: datetime,
) -> Goods:
    """The seller's terms: "不议价", or a floor below which offers are refused at once.
    Open offers the new terms would refuse are declined."""
    goods = own_goods(session, actor=seller, goods_id=goods_id)
    if floor_price is not None and not 0 < floor_price <= goods.price:
        raise InvalidInput(
            "the floor is between 1 fen and the price", code="invalid_price", field="floor_price"
        )
    goods.no_bargaining = no_bargaining
    goods.floor_price = floor_price
    session.flush()
    pending = session.scalars(
        select(Offer)
        .where(Offer.goods_id == goods.id, Offer.status == OfferStatus.PENDING)
        .with_for_update()
    ).all()
    for offer in pending:
        too_low = floor_price is not None and offer.price < floor_price
        if no_bargaining or (too_low and offer.proposed_by != seller.id):
            conversation = session.get_one(
                Conversation, offer.conversation_id, with_for_update=True
            )
            _close(
                session,
                conversation,
                offer,
                OfferStatus.DECLINED,
                now,
                by=None,
                note="卖家更改了议价设置",
            )
    return goods


_STATUS_TEXT = {
    OfferStatus.REJECTED: "拒绝了出价",
    OfferStatus.COUNTERED: "还价",
    OfferStatus.WITHDRAWN: "撤回了出价",
    OfferStatus.EXPIRED: "出价已过期",
    OfferStatus.DECLINED: "出价已失效",
}


def _close(
    session: Session,
    conversation: Conversation,
    offer: Offer,
    status: OfferStatus,
    now: datetime,
    *,
    by: int | None,
    note: str = "",
) -> None:
    offer.status = status
    offer.decided_at = now
    offer.due_at = None
    if status is OfferStatus.COUNTERED:
        return  # the counter-offer's own message tells the story
    text = f"{_STATUS_TEXT[status]} ¥{offer.price / 100:.2f}" + (f"（{note}）" if note else "")
    add_message(
        session,
        conversation,
        sender_id=by,
        kind=MessageKind.OFFER,
        text=text,
        now=now,
        offer_id=offer.id,
    )
    for party in (conversation.buyer_id, conversation.seller_id):
        if party != by:
            notify(
                session,
                user_id=party,
                kind=f"offer_{status.value}",
                text=text,
                now=now,
                conversation_id=conversation.id,
                offer_id=offer.id,
            )


def _new_offer(
    session: Session,
    conversation: Conversation,
    *,
    proposer: int,
    price: int,
    counters: int | None,
    now: datetime,
    settings: TradeSettings,
) -> Offer:
    offer = Offer(
        conversation_id=conversation.id,
        goods_id=conversation.goods_id,
        buyer_id=conversation.buyer_id,
        seller_id=conversation.seller_id,
        proposed_by=proposer,
        price=price,
        status=OfferStatus.PENDING,
        counters_id=counters,
        due_at=now + timedelta(hours=settings.offer_expiry_hours),
        created_at=now,
    )
    session.add(offer)
    session.flush()
    verb = "还价" if counters else "出价"
    text = f"{verb} ¥{price / 100:.2f}"
    add_message(
        session,
        conversation,
        sender_id=proposer,
        kind=MessageKind.OFFER,
        text=text,
        now=now,
        offer_id=offer.id,
    )
    notify(
        session,
        user_id=other_party(conversation, proposer),
        kind="counter_offer" if counters else "offer",
        text=text,
        now=now,
        conversation_id=conversation.id,
        offer_id=offer.id,
    )
    return offer


def _open_offer_for(
    session: Session, *, user: User, offer_id: int, now: datetime
) -> tuple[Offer, Conversation]:
    """The open offer, locked for a change. Every path that changes offers locks the good
    first, then offers, then conversations (as buying does), so they never deadlock."""
    goods_id = session.scalar(select(Offer.goods_id).where(Offer.id == offer_id))
    if goods_id is not None:
        _lock_goods(session, goods_id)
    offer = session.get(Offer, offer_id, with_for_update=True, populate_existing=True)
    if offer is None or user.id not in (offer.buyer_id, offer.seller_id):
        raise NotFound("no such offer", code="offer_not_found")
    conversation = conversation_for(
        session, user=user, conversation_id=offer.conversation_id, lock=True
    )
    if offer.status is not OfferStatus.PENDING:
        raise Conflict(
            f"this offer is {offer.status.value}", code="offer_closed", status=offer.status.value
        )
    if offer.due_at is not None and offer.due_at <= now:
        raise Conflict("this offer has expired", code="offer_expired")
    return offer, conversation


def _lock_goods(session: Session, goods_id: int) -> None:
    session.execute(select(Goods.id).where(Goods.id == goods_id).with_for_update())


def _open_offers(session: Session, *, conversation_id: int) -> list[Offer]:
    """The conversation's open offers, locked (after the good, before the conversation)."""
    return list(
        session.scalars(
            select(Offer)
            .where(Offer.conversation_id == conversation_id, Offer.status == OfferStatus.PENDING)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def _biddable_goods(session: Session, goods_id: int) -> Goods:
    goods = goods_repository.get_goods(session, goods_id)
    if goods is None or goods.status is not GoodsStatus.LISTED:
        raise Conflict("these goods are not on sale", code="goods_not_available")
    if goods.no_bargaining:
        raise Conflict("the seller does not bargain on these goods (不议价)", code="no_bargaining")
    return goods


def _check_price(goods: Goods, price: int, *, floor: bool = True) -> None:
    if not 0 < price <= goods.price:
        raise InvalidInput(
            f"an offer is between 1 fen and the price, {goods.price} fen",
            code="invalid_price",
            field="price",
        )
    if floor and goods.floor_price is not None and price < goods.floor_price:
        raise Conflict("the seller does not accept offers this low", code="below_floor")
