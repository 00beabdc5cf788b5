"""Ranking's periodic jobs (run by Celery beat with services, by server threads embedded)."""

from __future__ import annotations

import time

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import unit_of_work
from catalog.events.models import GoodsHotness
from catalog.jobs import SCHEDULE as CATALOG_JOBS
from catalog.jobs import PeriodicJob
from ranking.config import RankingConfig
from ranking.config_store import active
from ranking.counters import RedisHotCounter
from ranking.hot import event_term
from ranking.refresh import refresh_hot_scores
from ranking.settings import get_ranking_settings


def _log_scores(session: Session, config: RankingConfig) -> dict[int, float]:
    redis_url = get_ranking_settings().redis_url
    if redis_url:
        counter = RedisHotCounter(redis.Redis.from_url(redis_url))
        counter.forget_below(event_term(1.0, time.time(), config.half_life_hours) - FORGET_BELOW)
        return counter.all_scores()
    stored = session.execute(select(GoodsHotness.goods_id, GoodsHotness.log_score))
    return {row.goods_id: row.log_score for row in stored}


def refresh_hot(factory: sessionmaker[Session]) -> int:
    """Bring goods.hot_score (and so search's blend and `sort=hot`) up to date."""
    with unit_of_work(factory) as session:
        config = active(session).config
        scores = _log_scores(session, config)
    return refresh_hot_scores(factory, scores, config=config).changed


# Goods whose hot score decayed below 2^-40 of one fresh click are dropped from Redis, so
# the sorted set holds what is (or was lately) popular, not every goods ever clicked.
FORGET_BELOW = 40.0

SCHEDULE: tuple[PeriodicJob, ...] = (PeriodicJob("refresh-hot-scores", 60.0, refresh_hot),)

# Everything the platform runs periodically, for the two runners.
ALL_JOBS: tuple[PeriodicJob, ...] = CATALOG_JOBS + SCHEDULE


def job_named(name: str) -> PeriodicJob:
    for job in ALL_JOBS:
        if job.name == name:
            return job
    raise KeyError(f"no periodic job named {name!r}")
