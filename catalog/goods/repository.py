"""Every query about goods and their photos."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from catalog.goods.models import Goods, GoodsPhoto, GoodsStatus


def get_goods(session: Session, goods_id: int, *, for_update: bool = False) -> Goods | None:
    return session.get(Goods, goods_id, with_for_update=for_update)


def photos_of(session: Session, goods_ids: Sequence[int]) -> dict[int, list[GoodsPhoto]]:
    """Photos of many goods in one query, each list in display order (main photo first)."""
    by_goods: dict[int, list[GoodsPhoto]] = defaultdict(list)
    if goods_ids:
        rows = session.scalars(
            select(GoodsPhoto)
            .where(GoodsPhoto.goods_id.in_(goods_ids))
            .order_by(GoodsPhoto.goods_id, GoodsPhoto.position)
        )
        for photo in rows:
            by_goods[photo.goods_id].append(photo)
    return by_goods


def count_photos(session: Session, goods_id: int) -> int:
    return session.scalar(select(func.count()).where(GoodsPhoto.goods_id == goods_id)) or 0


def goods_of_seller(seller_id: int, status: GoodsStatus | None) -> Select[Goods]:
    stmt = select(Goods).where(Goods.seller_id == seller_id)
    if status is not None:
        stmt = stmt.where(Goods.status == status)
    return stmt.order_by(Goods.updated_at.desc(), Goods.id.desc())


def pending_review(category_ids: Sequence[int] | None) -> Select[Goods]:
    stmt = select(Goods).where(Goods.status == GoodsStatus.PENDING_REVIEW)
    if category_ids is not None:
        stmt = stmt.where(Goods.category_id.in_(category_ids))
    return stmt.order_by(Goods.submitted_at, Goods.id)
