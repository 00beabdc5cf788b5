from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from api.schemas.base import Input, Output
from api.schemas.categories import CategoryOut
from api.schemas.goods import media_url
from catalog.banners.models import Banner
from catalog.goods.service import GoodsView


class GoodsCardOut(Output):
    id: int
    title: str
    price: int
    original_price: int | None
    condition: str
    city: str
    category_id: int
    seller_id: int
    photo: str | None
    published_at: datetime | None

    @classmethod
    def of(cls, view: GoodsView) -> GoodsCardOut:
        goods = view.goods
        return cls(
            id=goods.id,
            title=goods.title,
            price=goods.price,
            original_price=goods.original_price,
            condition=goods.condition.value,
            city=goods.city,
            category_id=goods.category_id,
            seller_id=goods.seller_id,
            photo=media_url(view.photos[0].thumb_path) if view.photos else None,
            published_at=goods.published_at,
        )


class BannerOut(Output):
    id: int
    title: str
    image: str
    link: str
    position: int
    starts_at: datetime | None
    ends_at: datetime | None
    active: bool

    @classmethod
    def of(cls, banner: Banner) -> BannerOut:
        return cls.model_validate(banner)


class HomeFeedOut(Output):
    banners: list[BannerOut]
    categories: list[CategoryOut]
    hot: list[GoodsCardOut]
    new: list[GoodsCardOut]
    request_id: str
    ranker_version: int


class ForYouOut(Output):
    items: list[GoodsCardOut]
    next_cursor: str | None
    request_id: str
    ranker_version: int

    @staticmethod
    def json_around(
        cards: Sequence[bytes], *, next_cursor: str | None, request_id: str, ranker_version: int
    ) -> bytes:
        """The page as JSON, around cards already rendered (api/goods_cards.py): the bytes
        that dumping the whole model would give."""
        rest = ForYouOut(
            items=[], next_cursor=next_cursor, request_id=request_id, ranker_version=ranker_version
        ).model_dump_json()
        empty = '{"items":[]'  # items is the first field
        if not rest.startswith(empty):
            raise AssertionError(f"unexpected JSON for ForYouOut: {rest[:40]}")
        return b'{"items":[' + b",".join(cards) + b"]" + rest[len(empty) :].encode()


class SimilarOut(Output):
    items: list[GoodsCardOut]
    total: int


class BannerIn(Input):
    title: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    image: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    link: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    position: int = 0
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool = True


class BannerListOut(Output):
    items: list[BannerOut]
    total: int


class RankingConfigIn(Input):
    params: dict[str, Any] = Field(description="fields of the ranking configuration")
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class RankingConfigOut(Output):
    version: int
    params: dict[str, Any]
    note: str
    published_at: datetime | None
    active: bool


class RankingConfigListOut(Output):
    items: list[RankingConfigOut]
    total: int
