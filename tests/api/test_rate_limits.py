"""Rate limits: one contract for the in-process and the Redis limiter; login lockout via the API."""

from __future__ import annotations

import os
import uuid

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from tests.factories import PASSWORD, make_user


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def limiter(request: pytest.FixtureRequest) -> RateLimiter:
    if request.param == "memory":
        return MemoryRateLimiter()
    client: redis.Redis = request.getfixturevalue("redis_client")
    return RedisRateLimiter(client, prefix=f"test-{uuid.uuid4().hex}")


def test_limit_admits_exactly_the_budget_per_key(limiter: RateLimiter) -> None:
    admitted = [limiter.hit("login:a", limit=3, window_seconds=60) for _ in range(5)]
    assert admitted == [True, True, True, False, False]
    assert limiter.hit("login:b", limit=3, window_seconds=60)


def test_many_keys_at_once_count_each_cost_against_its_own_budget(limiter: RateLimiter) -> None:
    assert limiter.hit("m:a", limit=3, window_seconds=60)
    verdicts = limiter.hit_many({"m:a": 2, "m:b": 3, "m:c": 4}, limit=3, window_seconds=60)
    assert verdicts == {"m:a": True, "m:b": True, "m:c": False}  # a: 1 + 2; c: 4 at once
    assert limiter.hit_many({"m:a": 1, "m:b": 0}, limit=3, window_seconds=60) == {
        "m:a": False,
        "m:b": True,
    }


def test_redis_limiter_is_shared_between_clients(redis_client: redis.Redis) -> None:
    # Two API processes are two clients of one Redis: the budget is one budget.
    prefix = f"test-{uuid.uuid4().hex}"
    first = RedisRateLimiter(redis_client, prefix=prefix)
    second = RedisRateLimiter(redis.Redis.from_url(os.environ["TEST_REDIS_URL"]), prefix=prefix)
    assert first.hit("k", limit=2, window_seconds=60)
    assert second.hit("k", limit=2, window_seconds=60)
    assert not first.hit("k", limit=2, window_seconds=60)
    keys = list(redis_client.scan_iter(f"{prefix}:*"))
    assert keys
    assert all(0 < redis_client.ttl(key) <= 61 for key in keys)


def test_login_is_locked_after_repeated_failures_even_with_the_right_password(
    client: TestClient, session: Session
) -> None:
    user = make_user(session)
    limit = client.app.state.api_settings.login_attempts_per_window  # type: ignore[attr-defined]
    for _ in range(limit):
        wrong = client.post(
            "/api/v1/auth/login", json={"email": user.email, "password": "nope-nope"}
        )
        assert wrong.status_code == 401
    locked = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["code"] == "rate_limited"
