from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from functools import partial
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from api.deps import Credentials, DbSession, OptionalUser, optional_login
from api.goods_cards import GoodsCards
from api.routes.events import hot_counter
from api.schemas.categories import CategoryOut
from api.schemas.feed import BannerOut, ForYouOut, GoodsCardOut, HomeFeedOut, SimilarOut
from catalog.clock import utcnow
from catalog.db import read_only
from catalog.errors import InvalidInput
from catalog.goods.service import view_goods, with_photos
from ranking.config_store import ConfigWatcher
from ranking.counters import HotCounter
from ranking.feed import FeedCursor, decode_cursor, encode_cursor
from ranking.for_you import (
    FeedSession,
    FeedSessions,
    SharedPool,
    for_you_page,
    shared_pool,
    similar_goods,
)
from ranking.home import home_feed, listed_in_order

router = APIRouter(prefix="/feed", tags=["feed"])


@router.get("/home", response_model=HomeFeedOut)
async def home(request: Request) -> Response:
    """The home page: carousel banners, the category grid, hot goods and the newest goods.
    Echo `request_id` and `ranker_version` in impression events."""
    state = request.app.state
    cached: CachedHome | None = state.home
    # Everyone sees the same home page: built at most once per cache period (a click still
    # reaches "hot" within seconds, a published configuration too), serialised once, and
    # answered with a request id of its own each time.
    if cached is None or not _is_fresh(request, cached.built_at):
        lock: threading.Lock = state.home_lock
        if cached is None or lock.acquire(blocking=False):
            # One request rebuilds; the others keep answering the page it replaces.
            cached = await to_thread.run_sync(_rebuild_home, request, lock if cached else None)
    return Response(cached.answer(uuid.uuid4().hex), media_type="application/json")


@dataclass(frozen=True)
class CachedHome:
    """The home page as JSON, split where each answer puts its own request id."""

    built_at: float
    before_id: bytes
    after_id: bytes

    @classmethod
    def of(cls, page: HomeFeedOut) -> CachedHome:
        marker = uuid.uuid4().hex  # random: no title or link can contain it
        before, found, after = (
            page.model_copy(update={"request_id": marker})
            .model_dump_json()
            .encode()
            .partition(marker.encode())
        )
        assert found, "the request id is in the page"
        return cls(time.monotonic(), before, after)

    def answer(self, request_id: str) -> bytes:
        return self.before_id + request_id.encode() + self.after_id


def _rebuild_home(request: Request, held: threading.Lock | None) -> CachedHome:
    state = request.app.state
    try:
        with state.session_factory() as session:
            watcher: ConfigWatcher = state.ranking_config
            active = watcher.current(session)
            counter = hot_counter(request, session, active.version)
            feed = home_feed(session, counter=counter, now=utcnow())
            page = HomeFeedOut(
                banners=[BannerOut.of(banner) for banner in feed.banners],
                categories=[CategoryOut.of(node) for node in feed.categories],
                hot=[GoodsCardOut.of(view) for view in feed.hot],
                new=[GoodsCardOut.of(view) for view in feed.new],
                request_id="",
                ranker_version=active.version,
            )
        cached = CachedHome.of(page)
        state.home = cached
        return cached
    finally:
        if held is not None:
            held.release()


def _shared_pool(
    request: Request, session: DbSession, counter: HotCounter, background: BackgroundTasks
) -> SharedPool:
    """The shared candidates, at most one cache period old. A stale pool is still served
    and the next one is built after the response is sent, so no shopper waits for it."""
    state = request.app.state
    cached: tuple[float, SharedPool] | None = getattr(state, "feed_pool", None)
    if cached and _is_fresh(request, cached[0]):
        return cached[1]
    if cached is None or state.cache_seconds <= 0:
        pool = shared_pool(session, counter=counter)
        state.feed_pool = (time.monotonic(), pool)
        return pool
    # A background task rather than a thread of our own: it runs after this request's
    # session is closed, so the two never share a database connection.
    background.add_task(_rebuild_pool, request)
    return cached[1]


def _is_fresh(request: Request, built_at: float) -> bool:
    fresh_for: float = request.app.state.cache_seconds
    return time.monotonic() - built_at < fresh_for


def _rebuild_pool(request: Request) -> None:
    state = request.app.state
    lock: threading.Lock = state.feed_pool_lock
    if not lock.acquire(blocking=False):
        return  # another request's task is building it
    try:
        if _is_fresh(request, state.feed_pool[0]):
            return  # built while this task waited its turn
        with state.session_factory() as session:
            watcher: ConfigWatcher = state.ranking_config
            active = watcher.current(session)
            counter = hot_counter(request, session, active.version)
            # The sections shoppers asked for move over (refreshed when old): no page
            # after the first waits for them.
            previous: SharedPool = state.feed_pool[1]
            pool = shared_pool(session, counter=counter, previous=previous)
            pool.prescore(active.config, utcnow().timestamp())
            state.feed_pool = (time.monotonic(), pool)
    finally:
        lock.release()


@router.get("/for-you", response_model=ForYouOut)
async def for_you(
    request: Request,
    credentials: Credentials,
    background: BackgroundTasks,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
    device_id: Annotated[str | None, Query(max_length=64)] = None,
    city: Annotated[str | None, Query(max_length=20)] = None,
    page_size: Annotated[int, Query(ge=1, le=50)] = 20,
) -> Response:
    """The endless personalised feed: hot and new blended, slots for new goods, at most a
    few goods per category and seller in every stretch, never a repeat across pages. Pass
    `next_cursor` back for the next page; echo `request_id` and `ranker_version` in events."""
    # One hand-over to a worker thread for the whole page. As sync dependencies, the
    # session, the login and the serialisation each took a thread hop of their own, and
    # under load every hop can wait a whole GIL switch interval (5 ms).
    page = partial(
        _for_you_page,
        request,
        background,
        credentials,
        cursor=cursor,
        device_id=device_id,
        city=city,
        page_size=page_size,
    )
    body = await to_thread.run_sync(page, limiter=request.app.state.feed_slots)
    return Response(body, media_type="application/json")


def _for_you_page(
    request: Request,
    background: BackgroundTasks,
    credentials: HTTPAuthorizationCredentials | None,
    *,
    cursor: str | None,
    device_id: str | None,
    city: str | None,
    page_size: int,
) -> bytes:
    key: bytes = request.app.state.cursor_key
    watcher: ConfigWatcher = request.app.state.ranking_config
    with read_only(request.app.state.session_factory) as session:
        login = optional_login(session, credentials)
        active = watcher.current(session)
        if cursor:
            try:
                state = decode_cursor(cursor, key=key)
            except ValueError as error:
                raise InvalidInput(
                    "this cursor is not one we issued", code="invalid_cursor", field="cursor"
                ) from error
        else:
            state = FeedCursor(request_id=uuid.uuid4().hex, offset=0, config_version=active.version)
        sessions: FeedSessions = request.app.state.feed_sessions
        feed = sessions.get(state.request_id)
        served = feed.served[: state.offset]
        placed = feed.placed_before(state.offset)
        actor = f"u:{login[0].id}" if login else (f"d:{device_id}" if device_id else None)
        counter = hot_counter(request, session, active.version)
        page = for_you_page(
            session,
            counter=counter,
            pool=_shared_pool(request, session, counter, background),
            config=active.config,
            actor=actor,
            city=city,
            served=served,
            count=page_size,
            seed=int(state.request_id[:8], 16),
            now=utcnow(),
            # A feed whose session expired reads it again.
            affinity=feed.affinity if state.offset else None,
            placed=placed,
        )
        served += page.goods_ids
        placed += page.placed
        sessions.put(state.request_id, FeedSession(served, page.affinity, placed))
        cards: GoodsCards = request.app.state.goods_cards
        next_state = FeedCursor(state.request_id, len(served), state.config_version)
        return ForYouOut.json_around(
            cards.listed(session, page.goods_ids, page_size),
            next_cursor=None if page.exhausted else encode_cursor(next_state, key=key),
            request_id=state.request_id,
            ranker_version=state.config_version,
        )


similar_router = APIRouter(prefix="/goods", tags=["feed"])


@similar_router.get("/{goods_id}/similar")
def similar(
    goods_id: int,
    session: DbSession,
    user: OptionalUser,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SimilarOut:
    """看了又看: goods viewed in the same sessions as this one, then the same category."""
    view_goods(session, viewer=user, goods_id=goods_id)  # 404 for goods the viewer can't see
    ids = similar_goods(session, goods_id=goods_id, limit=limit, now=utcnow())
    views = with_photos(session, listed_in_order(session, ids, limit))
    return SimilarOut(items=[GoodsCardOut.of(view) for view in views], total=len(views))
