"""Real-time hot counters: per goods, the log-domain hot score (ranking/hot.py), kept
where the hot order can be read without rescoring: a Redis sorted set with services, the
`goods_hotness` table in the embedded default."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Protocol

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.clock import utcnow
from catalog.events.models import GoodsHotness
from ranking.hot import EMPTY, add_log2

# Adds log-domain terms to members of a sorted set atomically: log2(2^a + 2^b), stable.
_LOG_ADD = """
for i = 1, #ARGV, 2 do
  local member, term = ARGV[i], tonumber(ARGV[i + 1])
  local current = redis.call('ZSCORE', KEYS[1], member)
  local value = term
  if current then
    local a = tonumber(current)
    local high, low = math.max(a, term), math.min(a, term)
    value = high + math.log(1 + 2 ^ (low - high)) / math.log(2)
  end
  redis.call('ZADD', KEYS[1], value, member)
end
return #ARGV / 2
"""


def combine(terms: Iterable[tuple[int, float]]) -> dict[int, float]:
    """Per goods, the log-sum of its new terms (one update per goods per batch)."""
    combined: dict[int, float] = defaultdict(lambda: EMPTY)
    for goods_id, term in terms:
        combined[goods_id] = add_log2(combined[goods_id], term)
    return dict(combined)


class HotCounter(Protocol):
    def add(self, terms: Sequence[tuple[int, float]]) -> None: ...

    def top(self, limit: int) -> list[tuple[int, float]]:
        """(goods id, log score), hottest first."""
        ...

    def scores(self, goods_ids: Sequence[int]) -> dict[int, float]: ...

    def reset(self) -> None: ...


class RedisHotCounter:
    def __init__(self, client: redis.Redis, *, key: str = "hot:goods") -> None:
        self._client = client
        self._key = key
        self._log_add = client.register_script(_LOG_ADD)

    def add(self, terms: Sequence[tuple[int, float]]) -> None:
        args: list[str | float] = []
        for goods_id, term in combine(terms).items():
            if term != EMPTY:
                args += [str(goods_id), term]
        if args:
            self._log_add(keys=[self._key], args=args)

    def top(self, limit: int) -> list[tuple[int, float]]:
        rows: list[tuple[bytes, float]] = self._client.zrevrange(  # type: ignore[assignment]
            self._key, 0, limit - 1, withscores=True
        )
        return [(int(member), float(score)) for member, score in rows]

    def scores(self, goods_ids: Sequence[int]) -> dict[int, float]:
        if not goods_ids:
            return {}
        values = self._client.zmscore(self._key, [str(i) for i in goods_ids])
        return {i: float(v) for i, v in zip(goods_ids, values, strict=True) if v is not None}

    def reset(self) -> None:
        self._client.delete(self._key)

    def all_scores(self) -> dict[int, float]:
        rows: list[tuple[bytes, float]] = self._client.zrange(  # type: ignore[assignment]
            self._key, 0, -1, withscores=True
        )
        return {int(member): float(score) for member, score in rows}

    def forget_below(self, log_score: float) -> int:
        """Drop goods whose log score is below `log_score` (long cold)."""
        return int(self._client.zremrangebyscore(self._key, "-inf", f"({log_score}"))


class DatabaseHotCounter:
    """The embedded default: the same numbers in a table, updated in the caller's
    transaction (so an event and its effect on the score commit together)."""

    def __init__(self, session: Session, *, config_version: int) -> None:
        self._session = session
        self._version = config_version

    def add(self, terms: Sequence[tuple[int, float]]) -> None:
        combined = {k: v for k, v in combine(terms).items() if v != EMPTY}
        if not combined:
            return
        rows = {
            row.goods_id: row
            for row in self._session.scalars(
                select(GoodsHotness).where(GoodsHotness.goods_id.in_(combined)).with_for_update()
            )
        }
        now = utcnow()
        for goods_id, term in combined.items():
            row = rows.get(goods_id)
            if row is None:
                self._session.add(
                    GoodsHotness(
                        goods_id=goods_id,
                        log_score=term,
                        config_version=self._version,
                        updated_at=now,
                    )
                )
            else:
                row.log_score = add_log2(row.log_score, term)
                row.updated_at = now
        self._session.flush()

    def top(self, limit: int) -> list[tuple[int, float]]:
        rows = self._session.execute(
            select(GoodsHotness.goods_id, GoodsHotness.log_score)
            .order_by(GoodsHotness.log_score.desc())
            .limit(limit)
        )
        return [(row.goods_id, row.log_score) for row in rows]

    def scores(self, goods_ids: Sequence[int]) -> dict[int, float]:
        rows = self._session.execute(
            select(GoodsHotness.goods_id, GoodsHotness.log_score).where(
                GoodsHotness.goods_id.in_(goods_ids)
            )
        )
        return {row.goods_id: row.log_score for row in rows}

    def reset(self) -> None:
        self._session.query(GoodsHotness).delete()
