"""Refreshing goods_hot_scores (what search blends and sorts by) from the hot counters.

The counters keep log-domain scores that never need rescoring for order; search needs a
number at "now", so this job converts, writes the goods whose score moved noticeably, and
queues those that are listed for the index through the outbox. A score that falls to 0
(the goods lost its counter) is deleted: goods without a row have 0.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import cast

from sqlalchemy import BigInteger, Engine, Float, Row, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import any_of, on_postgres, unit_of_work, unnested
from catalog.goods.models import Goods, GoodsHotScore, GoodsStatus
from catalog.outbox.service import record_goods_changes
from ranking.config import RankingConfig
from ranking.hot import hot_at

CHUNK = 5_000
WRITERS = 2
_HOT = cast(Table, GoodsHotScore.__table__)
_GOODS = cast(Table, Goods.__table__)
_SCORES = unnested(("goods_id", BigInteger()), ("score", Float()))
# A score within 5% (or 0.01) of the stored one is left alone: not worth an index write.
RELATIVE_CHANGE = 0.05
ABSOLUTE_CHANGE = 0.01


@dataclass(frozen=True)
class Refresh:
    scored: int
    changed: int
    seconds: float


def _write_scores(session: Session, scores: list[tuple[int, float]]) -> None:
    """Insert or replace the scores of many goods (their versions do not change: the goods
    did not, only their popularity)."""
    if not scores:
        return
    if on_postgres(session):
        # Two array parameters through unnest: rendering 5,000 rows of VALUES cost
        # SQLAlchemy longer than PostgreSQL spent running the statement.
        upsert = postgresql.insert(_HOT).from_select(
            ["goods_id", "hot_score"], select(_SCORES.c.goods_id, _SCORES.c.score)
        )
        session.execute(
            upsert.on_conflict_do_update(
                index_elements=["goods_id"], set_={"hot_score": upsert.excluded.hot_score}
            ),
            {"goods_id": [goods_id for goods_id, _ in scores], "score": [s for _, s in scores]},
        )
        return
    upsert_row = sqlite.insert(_HOT)
    session.execute(
        upsert_row.on_conflict_do_update(
            index_elements=["goods_id"], set_={"hot_score": upsert_row.excluded.hot_score}
        ),
        [{"goods_id": goods_id, "hot_score": score} for goods_id, score in scores],
    )


def _all_stored_scores(session: Session) -> dict[int, float]:
    """Every stored score, in one pass: looking them up 5,000 ids at a time took 17 s at 1M
    goods when none had moved (3 s this way)."""
    # Core execution, not the ORM's: its row processing was a second of a 1M refresh.
    statement = select(_HOT.c.goods_id, _HOT.c.hot_score)
    return dict(session.connection().execute(statement).all())  # rows are pairs


def _states(session: Session, goods_ids: list[int]) -> Sequence[Row[int, GoodsStatus, int]]:
    """Status and version of those of the given goods that exist."""
    # Apart from the scores: joined, PostgreSQL hashed the whole score table for every
    # chunk (46 ms a chunk against 14 ms for the two index scans).
    where, params = any_of(session, _GOODS.c.id, goods_ids, name="goods_id", kind=BigInteger())
    statement = select(_GOODS.c.id, _GOODS.c.status, _GOODS.c.version).where(where)
    return session.connection().execute(statement, params).all()


def _moved(old: float, new: float) -> bool:
    return abs(new - old) > max(ABSOLUTE_CHANGE, RELATIVE_CHANGE * max(old, new))


def _write_chunk(factory: sessionmaker[Session], targets: dict[int, float], ids: list[int]) -> int:
    """Store the new scores of `ids` (scores that moved) in one transaction, with an outbox
    row for each listed goods; how many of them exist."""
    with unit_of_work(factory) as session:
        moved = _states(session, ids)
        _write_scores(
            session,
            [(goods_id, targets[goods_id]) for goods_id, _, _ in moved if targets[goods_id]],
        )
        gone = [goods_id for goods_id, _, _ in moved if not targets[goods_id]]
        if gone:
            session.execute(delete(GoodsHotScore).where(GoodsHotScore.goods_id.in_(gone)))
        record_goods_changes(
            session,
            [
                (goods_id, version)
                for goods_id, status, version in moved
                if status is GoodsStatus.LISTED
            ],
            reason="hot",
        )
        return len(moved)


def refresh_hot_scores(
    factory: sessionmaker[Session],
    log_scores: dict[int, float],
    *,
    config: RankingConfig,
    now: float | None = None,
) -> Refresh:
    """Write hot-at-now for every goods with a counter (and 0 for those that lost theirs).

    Each chunk of 5,000 is a transaction of its own, so a crash loses no more than the
    chunks not yet written, and the next run writes them. On PostgreSQL, chunks are written
    over `WRITERS` connections at once: the work is PostgreSQL's (index updates of the
    scores and the outbox), and one connection kept one of the two cores busy."""
    started = time.perf_counter()
    now = now or time.time()
    targets = {
        goods_id: hot_at(log, now, config.half_life_hours) for goods_id, log in log_scores.items()
    }
    with unit_of_work(factory) as session:
        stored = _all_stored_scores(session)
        # SQLite takes one writer at a time; a factory bound to one connection (a test's
        # transaction) cannot serve two threads.
        parallel = on_postgres(session) and isinstance(factory.kw.get("bind"), Engine)
    targets.update({goods_id: 0.0 for goods_id in stored if goods_id not in targets})
    moved = sorted(i for i, target in targets.items() if _moved(stored.get(i, 0.0), target))
    chunks = [moved[start : start + CHUNK] for start in range(0, len(moved), CHUNK)]
    write = partial(_write_chunk, factory, targets)
    if parallel and len(chunks) > 1:
        with ThreadPoolExecutor(WRITERS, thread_name_prefix="hot-refresh") as pool:
            changed = sum(pool.map(write, chunks))
    else:
        changed = sum(map(write, chunks))
    return Refresh(len(targets), changed, time.perf_counter() - started)
