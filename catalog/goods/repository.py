"""Every query about goods and their photos."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import cast

from sqlalchemy import BigInteger, Select, Table, func, select
from sqlalchemy.orm import Session

from catalog.db import in_parameter, on_postgres
from catalog.goods.models import Goods, GoodsPhoto, GoodsStatus

_GOODS = cast(Table, Goods.__table__)


def get_goods(session: Session, goods_id: int, *, for_update: bool = False) -> Goods | None:
    return session.get(Goods, goods_id, with_for_update=for_update)


def _listed_versions(*, postgres: bool) -> Select[tuple[int, int]]:
    ids = in_parameter(_GOODS.c.id, "ids", BigInteger(), postgres=postgres)
    return select(_GOODS.c.id, _GOODS.c.version).where(ids, _GOODS.c.status == GoodsStatus.LISTED)


# Built once: every for-you page runs it (api/goods_cards.py).
_LISTED_VERSIONS = {postgres: _listed_versions(postgres=postgres) for postgres in (True, False)}


def listed_versions(session: Session, goods_ids: Sequence[int]) -> dict[int, int]:
    """The version of each listed goods among `goods_ids` (the others are left out): a
    cheap check of whether a goods can be shown and whether a copy of it is current."""
    if not goods_ids:
        return {}
    statement = _LISTED_VERSIONS[on_postgres(session)]
    rows = session.execute(statement, {"ids": list(goods_ids)})
    return {row.id: row.version for row in rows}


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
