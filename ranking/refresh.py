"""Refreshing goods.hot_score (what search blends and sorts by) from the hot counters.

The counters keep log-domain scores that never need rescoring for order; search needs a
number at "now", so this job converts, writes the goods whose score moved noticeably, and
queues those that are listed for the index through the outbox.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import BigInteger, Float, Row, Table, any_, bindparam, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import unit_of_work, unnested
from catalog.goods.models import Goods, GoodsStatus
from catalog.outbox.service import record_goods_changes
from ranking.config import RankingConfig
from ranking.hot import hot_at

CHUNK = 5_000
_GOODS = cast(Table, Goods.__table__)
_IDS = sql_cast(bindparam("goods_id"), ARRAY(BigInteger))
_SCORES = unnested(("goods_id", BigInteger()), ("score", Float()))
# A score within 5% (or 0.01) of the stored one is left alone: not worth an index write.
RELATIVE_CHANGE = 0.05
ABSOLUTE_CHANGE = 0.01


@dataclass(frozen=True)
class Refresh:
    scored: int
    changed: int
    seconds: float


def _on_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _write_scores(session: Session, scores: list[tuple[int, float]]) -> None:
    """Set hot_score for many goods. The goods' version is not bumped: the goods did not
    change, only their popularity."""
    if _on_postgres(session):
        session.execute(
            update(_GOODS)
            .where(_GOODS.c.id == _SCORES.c.goods_id)
            .values(hot_score=_SCORES.c.score),
            {"goods_id": [goods_id for goods_id, _ in scores], "score": [s for _, s in scores]},
        )
        return
    session.execute(
        update(_GOODS)
        .where(_GOODS.c.id == bindparam("goods_id"))
        .values(hot_score=bindparam("score")),
        [{"goods_id": goods_id, "score": score} for goods_id, score in scores],
    )


def _current(session: Session, goods_ids: list[int]) -> Sequence[Row[int, float, GoodsStatus, int]]:
    """Score, status and version of the given goods."""
    columns = select(Goods.id, Goods.hot_score, Goods.status, Goods.version)
    if _on_postgres(session):
        # = ANY(array): one parameter instead of an IN list of 5,000 rendered per call.
        return session.execute(columns.where(Goods.id == any_(_IDS)), {"goods_id": goods_ids}).all()
    return session.execute(columns.where(Goods.id.in_(goods_ids))).all()


def _moved(old: float, new: float) -> bool:
    return abs(new - old) > max(ABSOLUTE_CHANGE, RELATIVE_CHANGE * max(old, new))


def refresh_hot_scores(
    factory: sessionmaker[Session],
    log_scores: dict[int, float],
    *,
    config: RankingConfig,
    now: float | None = None,
) -> Refresh:
    """Write hot-at-now for every goods with a counter (and 0 for those that lost theirs)."""
    started = time.perf_counter()
    now = now or time.time()
    targets = {
        goods_id: hot_at(log, now, config.half_life_hours) for goods_id, log in log_scores.items()
    }
    changed = 0
    with unit_of_work(factory) as session:
        scored_before = session.scalars(select(Goods.id).where(Goods.hot_score > 0)).all()
    targets.update({goods_id: 0.0 for goods_id in scored_before if goods_id not in targets})
    ids = sorted(targets)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        with unit_of_work(factory) as session:
            current = _current(session, chunk)
            moved = [row for row in current if _moved(row.hot_score, targets[row.id])]
            if not moved:
                continue
            _write_scores(session, [(row.id, targets[row.id]) for row in moved])
            record_goods_changes(
                session,
                [(row.id, row.version) for row in moved if row.status is GoodsStatus.LISTED],
                reason="hot",
            )
            changed += len(moved)
    return Refresh(len(targets), changed, time.perf_counter() - started)
