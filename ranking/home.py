"""The home feed: banners, the category grid, hot goods and new goods."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.banners.models import Banner
from catalog.banners.service import banners_on_show
from catalog.categories.service import CategoryNode, category_tree
from catalog.goods.models import Goods, GoodsStatus
from catalog.goods.service import GoodsView, with_photos
from ranking.counters import HotCounter

HOT_CANDIDATES = 200  # hot ids read to find `limit` that are still listed


@dataclass(frozen=True)
class HomeFeed:
    banners: list[Banner]
    categories: list[CategoryNode]
    hot: list[GoodsView]
    new: list[GoodsView]


class _WithId(Protocol):
    @property
    def id(self) -> int: ...


WithId = TypeVar("WithId", bound=_WithId)


def in_given_order(found: Iterable[WithId], goods_ids: Sequence[int]) -> list[WithId]:
    """`found` (goods or rows, in any order) in the order of `goods_ids`; ids not found are
    skipped."""
    by_id = {item.id: item for item in found}
    return [by_id[goods_id] for goods_id in goods_ids if goods_id in by_id]


def listed_in_order(session: Session, goods_ids: Sequence[int], limit: int) -> list[Goods]:
    """The listed ones among `goods_ids`, in the given order (sold or delisted are skipped)."""
    if not goods_ids:
        return []
    found = session.scalars(
        select(Goods).where(Goods.id.in_(goods_ids), Goods.status == GoodsStatus.LISTED)
    )
    return in_given_order(found, goods_ids)[:limit]


def newest_listed(session: Session, limit: int) -> list[Goods]:
    return list(
        session.scalars(
            select(Goods)
            .where(Goods.status == GoodsStatus.LISTED)
            .order_by(Goods.published_at.desc(), Goods.id.desc())
            .limit(limit)
        ).all()
    )


def home_feed(session: Session, *, counter: HotCounter, now: datetime, limit: int = 10) -> HomeFeed:
    hot_ids = [goods_id for goods_id, _ in counter.top(HOT_CANDIDATES)]
    return HomeFeed(
        banners=banners_on_show(session, now=now),
        categories=category_tree(session),
        hot=with_photos(session, listed_in_order(session, hot_ids, limit)),
        new=with_photos(session, newest_listed(session, limit)),
    )
