from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from catalog.clock import utcnow
from catalog.db import Base, BigIntId, UtcDateTime


class OutboxEvent(Base):
    """ "Entity X changed": the relay reads the entity afresh when it sends, so one row per
    change is enough and rows can be replayed any number of times."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The relay's scan: pending rows in id order.
        Index("ix_outbox_pending", "processed_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    topic: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    entity_version: Mapped[int] = mapped_column(BigInteger)
    # Why the row was written (approved, edited, withdrawn, ...): for people reading the log.
    reason: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Delivery bookkeeping: failed sends back off; a row failing too often is parked
    # (kept for people to look at) so it stops holding up the rows behind it.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    parked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
