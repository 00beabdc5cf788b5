from __future__ import annotations

from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from catalog.db import make_engine, make_session_factory
from catalog.settings import get_settings
from indexer.engine import SearchEngine
from indexer.engines import make_search_engine
from indexer.relay import drain
from ranking.jobs import job_named
from worker.celery_app import app


@lru_cache(maxsize=1)
def _session_factory() -> sessionmaker[Session]:
    return make_session_factory(make_engine(get_settings().resolved_database_url()))


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
