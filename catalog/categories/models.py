from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from catalog.db import Base, BigIntId


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Retired categories keep their goods but take no new ones.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
