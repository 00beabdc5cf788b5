"""Buying at the list price, across trade and bargaining: the order opens, and every
offer still open on the good is declined (its buyers are told)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from catalog.conversations.offers import decline_open_offers
from catalog.trade import service as trade
from catalog.trade.models import Order
from catalog.trade.settings import TradeSettings
from catalog.users.models import User


def buy_now(
    session: Session, *, buyer: User, goods_id: int, now: datetime, settings: TradeSettings
) -> Order:
    order = trade.place_order(session, buyer=buyer, goods_id=goods_id, now=now, settings=settings)
    decline_open_offers(session, goods_id=goods_id, now=now, reason="商品已下单")
    return order
