"""Fixed-window rate limits: in process for the embedded default, in Redis across servers."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Protocol

import redis


class RateLimiter(Protocol):
    def hit(self, key: str, *, limit: int, window_seconds: int, cost: int = 1) -> bool:
        """Count `cost` hits on `key`; False once the window holds more than `limit`."""
        ...

    def hit_many(
        self, costs: Mapping[str, int], *, limit: int, window_seconds: int
    ) -> dict[str, bool]:
        """`hit` for several keys at once (one round trip): each key's verdict."""
        ...


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, int], int] = {}

    def hit(self, key: str, *, limit: int, window_seconds: int, cost: int = 1) -> bool:
        return self.hit_many({key: cost}, limit=limit, window_seconds=window_seconds)[key]

    def hit_many(
        self, costs: Mapping[str, int], *, limit: int, window_seconds: int
    ) -> dict[str, bool]:
        window = int(time.time()) // window_seconds
        verdicts = {}
        with self._lock:
            if len(self._counts) > 100_000:
                # Old windows are dead weight; drop them rather than grow without bound.
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
            for key, cost in costs.items():
                count = self._counts.get((key, window), 0) + cost
                self._counts[(key, window)] = count
                verdicts[key] = count <= limit
        return verdicts


class RedisRateLimiter:
    def __init__(self, client: redis.Redis, *, prefix: str = "ratelimit") -> None:
        self._client = client
        self._prefix = prefix

    def hit(self, key: str, *, limit: int, window_seconds: int, cost: int = 1) -> bool:
        return self.hit_many({key: cost}, limit=limit, window_seconds=window_seconds)[key]

    def hit_many(
        self, costs: Mapping[str, int], *, limit: int, window_seconds: int
    ) -> dict[str, bool]:
        window = int(time.time()) // window_seconds
        pipe = self._client.pipeline(transaction=True)
        for key, cost in costs.items():
            redis_key = f"{self._prefix}:{key}:{window}"
            pipe.incrby(redis_key, cost)
            pipe.expire(redis_key, window_seconds + 1)
        replies = pipe.execute()
        counts = replies[0::2]  # each key's INCRBY, then its EXPIRE
        return {key: int(count) <= limit for key, count in zip(costs, counts, strict=True)}


def make_rate_limiter(redis_url: str) -> RateLimiter:
    if redis_url:
        return RedisRateLimiter(redis.Redis.from_url(redis_url))
    return MemoryRateLimiter()
