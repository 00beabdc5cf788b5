from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from catalog.clock import utcnow
from catalog.db import Base, BigIntId, UtcDateTime, string_enum


class Decision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class ReviewDecision(Base):
    """Append-only: who decided what about which version of the goods, when and why."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    goods_id: Mapped[int] = mapped_column(ForeignKey("goods.id", ondelete="CASCADE"), index=True)
    goods_version: Mapped[int] = mapped_column(Integer)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[Decision] = mapped_column(string_enum(Decision))
    reason: Mapped[str | None] = mapped_column(String(500))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
