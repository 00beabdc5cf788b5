from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from catalog.clock import utcnow
from catalog.db import Base, BigIntId, UtcDateTime, string_enum


class GoodsStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    LISTED = "listed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    RESERVED = "reserved"  # an open order holds them for one buyer
    SOLD = "sold"


class Condition(enum.StrEnum):
    NEW = "全新"
    LIKE_NEW_99 = "99新"
    LIKE_NEW_95 = "95新"
    GOOD_90 = "9成新"
    FAIR_80 = "8成新"
    WORN_70 = "7成新及以下"


class Goods(Base):
    __tablename__ = "goods"
    __table_args__ = (
        # The review queue: oldest submissions first, optionally per category.
        Index("ix_goods_status_submitted", "status", "submitted_at"),
        Index("ix_goods_seller_status", "seller_id", "status"),
        # Newest listed goods (home, feeds, category pages) without sorting the table.
        Index("ix_goods_status_published", "status", "published_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    title: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[int] = mapped_column(BigInteger)
    original_price: Mapped[int | None] = mapped_column(BigInteger)
    condition: Mapped[Condition] = mapped_column(string_enum(Condition))
    city: Mapped[str] = mapped_column(String(20))
    status: Mapped[GoodsStatus] = mapped_column(string_enum(GoodsStatus), default=GoodsStatus.DRAFT)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    # Bumped on every change; the search index keeps the newest version it has seen.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Bargaining: "不议价" refuses offers; offers below the floor (never shown to buyers)
    # are refused automatically.
    no_bargaining: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    floor_price: Mapped[int | None] = mapped_column(BigInteger)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it)


class GoodsHotScore(Base):
    """Popularity at the last refresh, for search to blend and sort by (goods without a row
    have 0). The ranking module rewrites most rows every few minutes: in a table of its
    own, since rewriting wide goods rows and their five indexes cost five times as much."""

    __tablename__ = "goods_hot_scores"

    goods_id: Mapped[int] = mapped_column(
        ForeignKey("goods.id", ondelete="CASCADE"), primary_key=True
    )
    hot_score: Mapped[float] = mapped_column(Float)


class GoodsPhoto(Base):
    __tablename__ = "goods_photos"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    goods_id: Mapped[int] = mapped_column(ForeignKey("goods.id", ondelete="CASCADE"), index=True)
    # 0 is the main photo.
    position: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(200))
    thumb_path: Mapped[str] = mapped_column(String(200))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
