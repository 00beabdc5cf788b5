from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from catalog.clock import utcnow
from catalog.db import Base, BigIntId, UtcDateTime


class Event(Base):
    """One thing a shopper did. Never updated; `counted` says whether it moves scores
    (a repeat within the window, a seller's own click or a staff click does not)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_goods_ts", "goods_id", "ts"),
        Index("ix_events_actor_ts", "actor", "ts"),
        Index("ix_events_ts", "ts"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    goods_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    device_id: Mapped[str | None] = mapped_column(String(64))
    # "u:<user id>" or "d:<device id>": who, for de-duplication and personalisation.
    actor: Mapped[str] = mapped_column(String(72))
    ts: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    surface: Mapped[str | None] = mapped_column(String(32))
    position: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[str | None] = mapped_column(String(64))
    ranker_version: Mapped[int | None] = mapped_column(Integer)
    counted: Mapped[bool] = mapped_column(Boolean, default=True)


class GoodsHotness(Base):
    """Per goods, log2(Σ w · 2^(t/h)) over its counted events (see ranking/hot.py), under
    the configuration version that computed it."""

    __tablename__ = "goods_hotness"
    __table_args__ = (Index("ix_goods_hotness_score", "log_score"),)

    goods_id: Mapped[int] = mapped_column(
        ForeignKey("goods.id", ondelete="CASCADE"), primary_key=True
    )
    log_score: Mapped[float] = mapped_column(Float)
    config_version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RankingConfigVersion(Base):
    """A published ranking configuration. The newest active one is in force."""

    __tablename__ = "ranking_configs"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    params: Mapped[str] = mapped_column(Text)  # JSON of ranking.config.RankingConfig
    note: Mapped[str] = mapped_column(String(500), default="")
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
