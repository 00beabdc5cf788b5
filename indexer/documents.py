"""Search documents: the snapshot of listed goods that an engine indexes, read afresh."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.categories.models import Category
from catalog.goods.models import Goods, GoodsHotScore, GoodsPhoto, GoodsStatus

# Only the start of a description is searchable: it says what the goods are; the rest is
# shipping notes and small print that would drown titles in matches.
INDEXED_DESCRIPTION_CHARS = 300


@dataclass(frozen=True)
class GoodsDocument:
    id: int
    version: int
    title: str
    description: str
    category_id: int
    # The leaf and its parent: filtering by either finds the goods.
    category_ids: tuple[int, ...]
    category_names: tuple[str, ...]
    price: int
    condition: str
    city: str
    seller_id: int
    photo: str | None
    published_at: int  # unix seconds
    hot_score: float

    def published_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.published_at, UTC)


class CategoryPaths:
    """Category id → (ids up to the root, names up to the root), read once per batch."""

    def __init__(self, session: Session) -> None:
        rows = session.execute(select(Category.id, Category.parent_id, Category.name)).all()
        parents = {row.id: row.parent_id for row in rows}
        names = {row.id: row.name for row in rows}
        self._paths: dict[int, tuple[tuple[int, ...], tuple[str, ...]]] = {}
        for category_id in parents:
            ids = [category_id]
            parent = parents[category_id]
            while parent is not None and parent not in ids:
                ids.append(parent)
                parent = parents.get(parent)
            self._paths[category_id] = (tuple(ids), tuple(names[i] for i in ids))

    def of(self, category_id: int) -> tuple[tuple[int, ...], tuple[str, ...]]:
        return self._paths.get(category_id, ((category_id,), ()))


def _document(
    goods: Goods, photo: str | None, hot_score: float, paths: CategoryPaths
) -> GoodsDocument:
    ids, names = paths.of(goods.category_id)
    published = goods.published_at or goods.updated_at
    return GoodsDocument(
        id=goods.id,
        version=goods.version,
        title=goods.title,
        description=goods.description,
        category_id=goods.category_id,
        category_ids=ids,
        category_names=names,
        price=goods.price,
        condition=goods.condition.value,
        city=goods.city,
        seller_id=goods.seller_id,
        photo=photo,
        published_at=int(published.timestamp()),
        hot_score=hot_score,
    )


def _main_photos(session: Session, goods_ids: Sequence[int]) -> dict[int, str]:
    rows = session.execute(
        select(GoodsPhoto.goods_id, GoodsPhoto.thumb_path).where(
            GoodsPhoto.goods_id.in_(goods_ids), GoodsPhoto.position == 0
        )
    )
    return {row.goods_id: f"/media/{row.thumb_path}" for row in rows}


def _hot_scores(session: Session, goods_ids: Sequence[int]) -> dict[int, float]:
    rows = session.execute(
        select(GoodsHotScore.goods_id, GoodsHotScore.hot_score).where(
            GoodsHotScore.goods_id.in_(goods_ids)
        )
    )
    return {row.goods_id: row.hot_score for row in rows}


def load_documents(
    session: Session, goods_ids: Sequence[int], paths: CategoryPaths | None = None
) -> tuple[list[GoodsDocument], list[tuple[int, int]]]:
    """Documents for the listed ones among `goods_ids`, and (id, version) of the rest, which
    the index must not hold (unknown ids get version 0)."""
    paths = paths or CategoryPaths(session)
    goods = session.scalars(select(Goods).where(Goods.id.in_(goods_ids))).all()
    photos = _main_photos(session, [g.id for g in goods])
    hot = _hot_scores(session, [g.id for g in goods])
    documents, gone = [], []
    found = {g.id: g for g in goods}
    for goods_id in goods_ids:
        item = found.get(goods_id)
        if item is not None and item.status is GoodsStatus.LISTED:
            documents.append(_document(item, photos.get(item.id), hot.get(item.id, 0.0), paths))
        else:
            gone.append((goods_id, item.version if item is not None else 0))
    return documents, gone


def iter_listed_documents(session: Session, *, batch: int = 5_000) -> Iterator[GoodsDocument]:
    """Every listed goods as a document, in id order, batch by batch (for full rebuilds)."""
    paths = CategoryPaths(session)
    last_id = 0
    while True:
        goods = session.scalars(
            select(Goods)
            .where(Goods.status == GoodsStatus.LISTED, Goods.id > last_id)
            .order_by(Goods.id)
            .limit(batch)
        ).all()
        if not goods:
            return
        photos = _main_photos(session, [g.id for g in goods])
        hot = _hot_scores(session, [g.id for g in goods])
        for item in goods:
            yield _document(item, photos.get(item.id), hot.get(item.id, 0.0), paths)
        last_id = goods[-1].id
        session.expunge_all()


def listed_versions(session: Session) -> dict[int, int]:
    """id → version of every listed goods: what the index should hold."""
    rows = session.execute(
        select(Goods.id, Goods.version).where(Goods.status == GoodsStatus.LISTED)
    )
    return {row.id: row.version for row in rows}
