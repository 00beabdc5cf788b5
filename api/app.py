"""The ASGI application: routes under /api/v1, media files, error handlers, and in the
embedded default the background work (periodic jobs, the outbox relay) as threads."""

from __future__ import annotations

import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import redis
from anyio import to_thread
from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from api.background import BackgroundJobs, BackgroundLeader
from api.category_cache import CategoryCache
from api.errors import install_error_handlers
from api.goods_cards import GoodsCards
from api.live import LiveHub, publish_announcements_on_commit
from api.message_batches import MessageBatches, MessageBudget
from api.ratelimit import RateLimiter, make_rate_limiter
from api.routes import (
    admin,
    admin_ranking,
    admin_search,
    admin_trade,
    auth,
    categories,
    conversations,
    events,
    feed,
    goods,
    health,
    live,
    me,
    orders,
    payments,
    search,
    wallet,
)
from api.serving import settle_heap
from api.settings import ApiSettings, get_api_settings
from api.web import install_web_client
from catalog.clock import utcnow
from catalog.db import make_engine, make_session_factory
from catalog.media.store import MediaStore
from catalog.settings import CatalogSettings, get_settings
from catalog.trade.logistics import SandboxLogistics
from catalog.trade.settings import get_trade_settings
from indexer import analysis
from indexer.engine import SearchEngine
from indexer.engines import make_search_engine
from indexer.relay import RelayLoop
from ranking.config_store import ConfigWatcher
from ranking.for_you import FeedSessions
from ranking.jobs import ALL_JOBS

API_PREFIX = "/api/v1"
SEARCH_THREADS = 1
FEED_THREADS = 2


def _wake_relay_on_outbox_commits(factory: sessionmaker[Session], loop: RelayLoop) -> None:
    """Commits that wrote outbox rows wake the relay at once (catalog marks the session)."""

    def committed(session: Session) -> None:
        if session.info.pop("outbox_written", False):
            loop.wake.set()

    def rolled_back(session: Session, _previous: Any) -> None:
        session.info.pop("outbox_written", None)

    event.listen(factory, "after_commit", committed)
    event.listen(factory, "after_soft_rollback", rolled_back)


def use_session_factory(
    app: FastAPI, factory: sessionmaker[Session], *, cache_seconds: float = 3.0
) -> None:
    """Point the app, and everything that reads the database outside requests, at `factory`
    (tests give the app their own rolled-back connection this way)."""
    app.state.session_factory = factory
    publish_announcements_on_commit(factory, app.state.live)
    app.state.cache_seconds = cache_seconds
    app.state.feed_pool_lock = threading.Lock()
    app.state.home_lock = threading.Lock()
    app.state.home = None
    app.state.goods_cards = GoodsCards()  # ids of another database would mean other goods
    app.state.category_cache = CategoryCache(factory, ttl_seconds=cache_seconds * 20)
    app.state.ranking_config = ConfigWatcher(factory, ttl_seconds=cache_seconds)


def create_app(
    *,
    settings: CatalogSettings | None = None,
    api_settings: ApiSettings | None = None,
    engine: Engine | None = None,
    rate_limiter: RateLimiter | None = None,
    search_engine: SearchEngine | None = None,
    background_jobs: bool | None = None,
) -> FastAPI:
    """Build the app; tests pass their own engine, settings, limiter and search engine.

    `background_jobs` runs the periodic jobs and the outbox relay in threads of this
    process; by default it does when there is no Redis (the embedded default), where
    Celery would run them.
    """
    settings = settings or get_settings()
    api_settings = api_settings or get_api_settings()
    engine = engine or make_engine(settings.resolved_database_url())
    media_root = settings.resolved_media_root()
    media_root.mkdir(parents=True, exist_ok=True)
    if background_jobs is None:
        background_jobs = not api_settings.redis_url

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        factory = app.state.session_factory
        # With several server processes only one runs the background work: the embedded
        # index takes one writer, and one relay suffices.
        leader = background_jobs and BackgroundLeader(settings.home).acquire()
        jobs = BackgroundJobs(ALL_JOBS, factory) if leader else None
        relay = RelayLoop(factory, app.state.search_engine) if leader else None
        app.state.background_jobs, app.state.relay = jobs, relay
        await app.state.live.start()
        await to_thread.run_sync(analysis.warm_up)
        settle_heap()
        if jobs and relay:
            _wake_relay_on_outbox_commits(factory, relay)
            jobs.start()
            relay.start()
        yield
        await app.state.message_batches.stop()
        await app.state.live.stop()
        if jobs and relay:
            relay.stop()
            jobs.stop()
        if leader:
            leader.release()

    app = FastAPI(
        lifespan=lifespan,
        title="idlemarket",
        summary="A second-hand goods marketplace: publish, review, search, trade.",
        version="0.1.0",
    )
    app.state.engine = engine
    app.state.live = LiveHub(api_settings.redis_url)
    use_session_factory(app, make_session_factory(engine))
    app.state.media_store = MediaStore(media_root)
    # Order videos are for the two parties and operators: kept outside the public /media.
    app.state.private_store = MediaStore(settings.home / "private")
    app.state.api_settings = api_settings
    app.state.rate_limiter = rate_limiter or make_rate_limiter(api_settings.redis_url)
    app.state.search_engine = search_engine or make_search_engine()
    # Searches are CPU-bound and hold the GIL most of the time: more threads than this only
    # queue on it, and each hand-over can wait a whole switch interval (5 ms), so extra
    # threads make every search slower. Other processes (`serve --workers`) add cores.
    app.state.search_slots = anyio.CapacityLimiter(SEARCH_THREADS)
    # For-you pages are not: a page waits on PostgreSQL and Redis for about half its time,
    # and a second thread builds another page meanwhile (1.7× the pages per second at 16
    # clients in benchmarks/feed_bench.py; four threads gave no more than two).
    app.state.feed_slots = anyio.CapacityLimiter(FEED_THREADS)
    app.state.redis = (
        redis.Redis.from_url(api_settings.redis_url) if api_settings.redis_url else None
    )
    app.state.feed_sessions = FeedSessions(app.state.redis)
    app.state.clock = utcnow
    app.state.message_batches = MessageBatches(
        lambda: app.state.session_factory,
        MessageBudget(app.state.rate_limiter, api_settings.messages_per_minute),
        lambda: app.state.clock(),
    )
    app.state.trade_settings = get_trade_settings()
    app.state.logistics = SandboxLogistics()
    app.state.cursor_key = api_settings.feed_cursor_secret.encode() or secrets.token_bytes(32)

    v1 = APIRouter(prefix=API_PREFIX)
    # Routes are tried in order: the hottest paths (search, the feeds, events) first.
    for module in (
        search,
        feed,
        events,
        health,
        auth,
        me,
        categories,
        goods,
        admin,
        admin_search,
        admin_ranking,
        orders,
        payments,
        wallet,
        admin_trade,
        conversations,
        live,
    ):
        v1.include_router(module.router)
    v1.include_router(feed.similar_router)
    app.include_router(v1)
    app.mount("/media", StaticFiles(directory=media_root), name="media")
    install_web_client(app)
    install_error_handlers(app)
    return app
