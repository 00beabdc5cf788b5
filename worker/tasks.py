from __future__ import annotations

from functools import lru_cache

import redis
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from catalog import live_redis
from catalog.db import make_engine, make_session_factory
from catalog.live import take_announcements
from catalog.settings import get_settings
from indexer.engine import SearchEngine
from indexer.engines import make_search_engine
from indexer.relay import drain
from ranking.jobs import job_named
from worker.celery_app import REDIS_URL, app


@lru_cache(maxsize=1)
def _session_factory() -> sessionmaker[Session]:
    factory = make_session_factory(make_engine(get_settings().resolved_database_url()))
    # Jobs announce too (an offer expired, an order timed out): the servers' sockets hear
    # of it through Redis once the job's transaction commits.
    publisher = redis.Redis.from_url(REDIS_URL)
    channel = live_redis.channel_for(REDIS_URL)

    def committed(session: Session) -> None:
        live_redis.publish(publisher, channel, take_announcements(session))

    event.listen(factory, "after_commit", committed)
    return factory


@app.task(name="worker.tasks.run_periodic_job")  # type: ignore[untyped-decorator]
def run_periodic_job(name: str) -> int:
    """One round of the periodic job `name` (see ranking.jobs.ALL_JOBS)."""
    return job_named(name).run(_session_factory())


@app.task(name="worker.tasks.relay_outbox")  # type: ignore[untyped-decorator]
def relay_outbox() -> int:
    """Every few seconds: send pending outbox rows to the search engine (rows are claimed
    with SKIP LOCKED, so overlapping runs share the work instead of repeating it)."""
    return drain(_session_factory(), _search_engine())


@lru_cache(maxsize=1)
def _search_engine() -> SearchEngine:
    return make_search_engine()
