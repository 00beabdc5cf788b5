from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from api.schemas.base import Input, Output
from catalog.goods.models import Condition, GoodsPhoto, GoodsStatus
from catalog.goods.service import GoodsFields, GoodsView
from catalog.money import MAX_LISTING_PRICE, Fen
from catalog.review.models import Decision
from catalog.trade.service import SellerProfile

Title = Annotated[str, StringConstraints(min_length=2, max_length=60)]
Description = Annotated[str, StringConstraints(max_length=5000)]
City = Annotated[str, StringConstraints(min_length=1, max_length=20)]
# Strict: JSON `true` or "100" is not a price (lax ints would read true as 1 fen).
Price = Annotated[
    int, Field(strict=True, gt=0, le=MAX_LISTING_PRICE, description="fen (1/100 yuan)")
]
Id = Annotated[int, Field(strict=True)]


class GoodsCreateIn(Input):
    category_id: Id
    title: Title
    description: Description = ""
    price: Price
    original_price: Price | None = None
    condition: Condition
    city: City

    def fields(self) -> GoodsFields:
        return GoodsFields(
            category_id=self.category_id,
            title=self.title,
            description=self.description,
            price=Fen(self.price),
            original_price=Fen(self.original_price) if self.original_price is not None else None,
            condition=self.condition,
            city=self.city,
        )


class GoodsUpdateIn(Input):
    category_id: Id | None = None
    title: Title | None = None
    description: Description | None = None
    price: Price | None = None
    original_price: Price | None = None
    condition: Condition | None = None
    city: City | None = None

    def fields(self) -> GoodsFields:
        return GoodsFields(
            category_id=self.category_id,
            title=self.title,
            description=self.description,
            price=Fen(self.price) if self.price is not None else None,
            original_price=Fen(self.original_price) if self.original_price is not None else None,
            condition=self.condition,
            city=self.city,
        )


class PhotoOut(Output):
    id: int
    position: int
    url: str
    thumb_url: str
    width: int
    height: int

    @classmethod
    def of(cls, photo: GoodsPhoto) -> PhotoOut:
        return cls(
            id=photo.id,
            position=photo.position,
            url=media_url(photo.path),
            thumb_url=media_url(photo.thumb_path),
            width=photo.width,
            height=photo.height,
        )


class PhotoOrderIn(Input):
    photo_ids: list[int]


class SellerOut(Output):
    id: int
    nickname: str
    rating: float | None = Field(description="average of buyers' ratings, 1 to 5")
    ratings: int
    sales: int = Field(description="completed sales")

    @classmethod
    def of(cls, profile: SellerProfile) -> SellerOut:
        return cls(
            id=profile.id,
            nickname=profile.nickname,
            rating=profile.reputation.rating,
            ratings=profile.reputation.ratings,
            sales=profile.reputation.sales,
        )


class GoodsOut(Output):
    id: int
    seller_id: int
    category_id: Id
    title: str
    description: str
    price: int
    original_price: int | None
    condition: Condition
    city: str
    status: GoodsStatus
    rejection_reason: str | None
    version: int
    photo: str | None = Field(description="the main photo's URL")
    photos: list[PhotoOut]
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    published_at: datetime | None
    no_bargaining: bool = Field(default=False, description="不议价: offers are refused")
    floor_price: int | None = Field(default=None, description="shown to the seller only")
    seller: SellerOut | None = Field(default=None, description="name, rating and sales")

    @classmethod
    def of(cls, view: GoodsView) -> GoodsOut:
        goods = view.goods
        photos = [PhotoOut.of(photo) for photo in view.photos]
        return cls(
            id=goods.id,
            seller_id=goods.seller_id,
            category_id=goods.category_id,
            title=goods.title,
            description=goods.description,
            price=goods.price,
            original_price=goods.original_price,
            condition=goods.condition,
            city=goods.city,
            status=goods.status,
            rejection_reason=goods.rejection_reason,
            version=goods.version,
            photo=photos[0].url if photos else None,
            photos=photos,
            no_bargaining=goods.no_bargaining,
            created_at=goods.created_at,
            updated_at=goods.updated_at,
            submitted_at=goods.submitted_at,
            published_at=goods.published_at,
        )


class ApproveIn(Input):
    version: int | None = Field(
        default=None, description="the version the reviewer looked at; refused if it changed"
    )


class RejectIn(Input):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    version: int | None = None


class BulkReviewIn(Input):
    ids: Annotated[list[int], Field(min_length=1, max_length=100)]
    decision: Decision
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None


class BulkOutcomeOut(Output):
    goods_id: int
    ok: bool
    code: str | None
    message: str | None


class BulkReviewOut(Output):
    items: list[BulkOutcomeOut]
    total: int
    succeeded: int


class ReviewDecisionOut(Output):
    id: int
    goods_id: int
    goods_version: int
    reviewer_id: int
    decision: Decision
    reason: str | None
    decided_at: datetime


class ReviewTrailOut(Output):
    items: list[ReviewDecisionOut]
    total: int


def media_url(path: str) -> str:
    return f"/media/{path}"
