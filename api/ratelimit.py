"""Fixed-window rate limits: in process for the embedded default, in Redis across servers."""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis


class RateLimiter(Protocol):
    def hit(self, key: str, *, limit: int, window_seconds: int, cost: int = 1) -> bool:
        """Count `cost` hits on `key`; False once the window holds more than `limit`."""
        ...


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, int], int] = {}

    def hit(self, key: str, *, limit: int, window_seconds: int, cost: int = 1) -> bool:
        window = int(time.time()) // window_seconds
        with self._lock:
            if len(self._counts) > 100_000:
                # Old windows are dead weight; drop them rather than grow without bound.
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
            count = self._counts.get((key, window), 0) + cost
            self._counts[(key, window)] = count
        return count <= limit


class RedisRateLimiter:
    def __init__(self, client: redis.Redis, *, prefix: str = "ratelimit") -> None:
        self._client = client
        self._prefix = prefix

    def hit(self, key: str, *, limit: int, window_seconds: int, cost: int = 1) -> bool:
        window = int(time.time()) // window_seconds
        redis_key = f"{self._prefix}:{key}:{window}"
        pipe = self._client.pipeline(transaction=True)
        pipe.incrby(redis_key, cost)
        pipe.expire(redis_key, window_seconds + 1)
        count, _ = pipe.execute()
        return int(count) <= limit


def make_rate_limiter(redis_url: str) -> RateLimiter:
    if redis_url:
        return RedisRateLimiter(redis.Redis.from_url(redis_url))
    return MemoryRateLimiter()
