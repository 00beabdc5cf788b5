"""The hot score's arithmetic and the two counters that keep it (Redis and the database)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy.orm import Session

from ranking.counters import DatabaseHotCounter, HotCounter, RedisHotCounter
from ranking.hot import EMPTY, EPOCH, accumulate, add_log2, event_term, hot_at
from tests.factories import leaf_category, make_user

HOUR = 3600.0


def test_one_event_halves_every_half_life() -> None:
    log = accumulate(EMPTY, [(4.0, EPOCH + 10 * HOUR)], half_life_hours=10)
    assert hot_at(log, EPOCH + 10 * HOUR, 10) == pytest.approx(4.0)
    assert hot_at(log, EPOCH + 20 * HOUR, 10) == pytest.approx(2.0)
    assert hot_at(log, EPOCH + 40 * HOUR, 10) == pytest.approx(0.5)


def test_scores_add_and_order_never_changes_with_time_alone() -> None:
    now = EPOCH + 1000 * HOUR
    old_burst = accumulate(EMPTY, [(1.0, now - 48 * HOUR)] * 8, 24)  # 8 clicks two days ago
    fresh = accumulate(EMPTY, [(1.0, now)] * 3, 24)  # 3 clicks now
    assert hot_at(old_burst, now, 24) == pytest.approx(2.0)
    assert hot_at(fresh, now, 24) == pytest.approx(3.0)
    for later in (now + HOUR, now + 100 * HOUR):
        assert hot_at(fresh, later, 24) > hot_at(old_burst, later, 24)
    assert fresh > old_burst  # the log form orders them without computing anything


def test_log_addition_is_stable_far_from_the_epoch() -> None:
    far = EPOCH + 50 * 365 * 24 * HOUR  # fifty years on, 2^(t/h) alone would overflow
    term = event_term(1.0, far, half_life_hours=1)
    assert math.isfinite(add_log2(term, term))
    assert add_log2(term, term) == pytest.approx(term + 1)
    assert event_term(0.0, far, 1) == EMPTY  # weightless events add nothing


def _goods_ids(session: Session, n: int) -> list[int]:
    from catalog.goods.models import Condition, Goods

    seller = make_user(session)
    rows = [
        Goods(
            seller_id=seller.id,
            category_id=leaf_category(session).id,
            title=f"计数 {i}",
            price=100,
            condition=Condition.NEW,
            city="上海",
        )
        for i in range(n)
    ]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


def _keeps_the_numbers(counter: HotCounter, a: int, b: int, c: int) -> None:
    now = EPOCH + 500 * HOUR
    counter.add([(a, event_term(1, now, 24)), (b, event_term(1, now, 24))])
    counter.add([(b, event_term(1, now, 24)), (c, event_term(5, now - 24 * HOUR, 24))])
    assert [goods_id for goods_id, _ in counter.top(3)] == [c, b, a]
    scores = counter.scores([a, b, c, 999_999])
    assert hot_at(scores[a], now, 24) == pytest.approx(1.0)
    assert hot_at(scores[b], now, 24) == pytest.approx(2.0)
    assert hot_at(scores[c], now, 24) == pytest.approx(2.5)
    assert 999_999 not in scores


def test_database_counter(session: Session) -> None:
    _keeps_the_numbers(DatabaseHotCounter(session, config_version=0), *_goods_ids(session, 3))


@pytest.fixture
def redis_counter(redis_client: redis.Redis) -> Iterator[RedisHotCounter]:
    counter = RedisHotCounter(redis_client, key=f"test:hot:{uuid.uuid4().hex}")
    yield counter
    counter.reset()


def test_redis_counter_against_the_real_server(redis_counter: RedisHotCounter) -> None:
    _keeps_the_numbers(redis_counter, 11, 12, 13)


def test_redis_forgets_goods_long_cold(redis_counter: RedisHotCounter) -> None:
    now = EPOCH + 5000 * HOUR
    redis_counter.add([(1, event_term(1, now, 24)), (2, event_term(1, now - 60 * 24 * HOUR, 24))])
    dropped = redis_counter.forget_below(event_term(1, now, 24) - 40)
    assert dropped == 1
    assert set(redis_counter.all_scores()) == {1}
