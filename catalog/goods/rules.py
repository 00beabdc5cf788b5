"""The lifecycle of goods: which states exist, which are public, who moves them where."""

from __future__ import annotations

from catalog.errors import Conflict
from catalog.goods.models import Goods, GoodsStatus

PUBLIC_STATES = frozenset({GoodsStatus.LISTED})
# Goods in an order: their page stays up (marked reserved or sold) but nobody can buy or
# edit them, and they are not in search.
IN_TRADE_STATES = frozenset({GoodsStatus.RESERVED, GoodsStatus.SOLD})
VIEWABLE_STATES = PUBLIC_STATES | IN_TRADE_STATES
SUBMITTABLE_FROM = frozenset({GoodsStatus.DRAFT, GoodsStatus.REJECTED, GoodsStatus.WITHDRAWN})
WITHDRAWABLE_FROM = frozenset(
    {GoodsStatus.DRAFT, GoodsStatus.PENDING_REVIEW, GoodsStatus.LISTED, GoodsStatus.REJECTED}
)
# Fields whose change on listed goods needs a reviewer's eyes again; price and the like do not.
REVIEWED_FIELDS = frozenset({"title", "description", "category_id", "photos"})


def is_public(goods: Goods) -> bool:
    return goods.status in PUBLIC_STATES


def require_state(goods: Goods, allowed: frozenset[GoodsStatus], action: str) -> None:
    if goods.status not in allowed:
        raise Conflict(
            f"goods that are {goods.status.value} cannot be {action}",
            code="invalid_goods_state",
            status=goods.status.value,
        )
