"""The for-you feed and "看了又看" from the store: candidate pools, the shopper's
affinity, and what was served already (so pages never repeat)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

import redis
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from catalog.categories.models import Category
from catalog.events.models import Event
from catalog.goods.models import Goods, GoodsStatus
from ranking.config import RankingConfig
from ranking.counters import HotCounter
from ranking.feed import Blend, Candidate, Placed, Ranked, for_shopper, lay_out
from ranking.home import in_given_order, listed_in_order
from ranking.similar import co_occurrence, item_popularity, sessionize, similar_items

POOL = 300  # hot and new candidates each; enough for many pages of 20
MAX_SECTIONS = 256  # per shared pool: every top category and the cities shoppers name
# How old a section may grow before a pool rebuild reads it again: new goods reach every
# shopper through the shared pool's newest goods within its few seconds anyway.
SECTION_SECONDS = 30.0
AFFINITY_DAYS = 7
SERVED_TTL_SECONDS = 1800


@dataclass(frozen=True)
class FeedSession:
    """One shopper's scroll through the feed: the goods served so far, and the category
    affinity read for its first page (kept, so later pages go on in the same order and
    skip the query)."""

    served: list[int] = field(default_factory=list)
    affinity: dict[int, float] | None = None  # None: not read yet
    # The top category and seller of each served goods, so the caps of the window that
    # ends a page carry on into the next one.
    placed: list[Placed] = field(default_factory=list)

    def placed_before(self, offset: int) -> list[Placed]:
        """What the caps know of the goods served before `offset` (none if not kept)."""
        return self.placed[:offset] if len(self.placed) == len(self.served) else []

    def to_json(self) -> str:
        return json.dumps({"served": self.served, "affinity": self.affinity, "placed": self.placed})

    @classmethod
    def from_json(cls, raw: bytes | str) -> FeedSession:
        data = json.loads(raw)
        if isinstance(data, list):  # written before affinity was kept
            return cls(served=[int(goods_id) for goods_id in data])
        affinity = data.get("affinity")
        return cls(
            served=[int(goods_id) for goods_id in data["served"]],
            affinity=None if affinity is None else {int(k): float(v) for k, v in affinity.items()},
            placed=[Placed(int(top), int(seller)) for top, seller in data.get("placed", [])],
        )


class FeedSessions:
    """Feed sessions by request id: in process (embedded) or Redis (services)."""

    def __init__(self, client: redis.Redis | None = None, *, capacity: int = 10_000) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._memory: OrderedDict[str, tuple[float, FeedSession]] = OrderedDict()
        self._capacity = capacity

    def get(self, request_id: str) -> FeedSession:
        if self._client is not None:
            raw = self._client.get(f"feed:served:{request_id}")
            return FeedSession.from_json(raw) if raw else FeedSession()
        with self._lock:
            entry = self._memory.get(request_id)
            if entry is None or time.monotonic() - entry[0] > SERVED_TTL_SECONDS:
                return FeedSession()
            return entry[1]  # never changed in place: callers slice `served`

    def put(self, request_id: str, feed: FeedSession) -> None:
        if self._client is not None:
            self._client.set(f"feed:served:{request_id}", feed.to_json(), ex=SERVED_TTL_SECONDS)
            return
        with self._lock:
            self._memory[request_id] = (time.monotonic(), feed)
            self._memory.move_to_end(request_id)
            while len(self._memory) > self._capacity:
                self._memory.popitem(last=False)


def _parents(session: Session) -> dict[int, int]:
    rows = session.execute(select(Category.id, Category.parent_id))
    return {row.id: row.parent_id or row.id for row in rows}


class _Listing(Protocol):
    """What a candidate is made of: a Goods, or a row of those columns."""

    @property
    def id(self) -> int: ...
    @property
    def category_id(self) -> int: ...
    @property
    def seller_id(self) -> int: ...
    @property
    def published_at(self) -> datetime | None: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def city(self) -> str: ...


def _candidates(
    goods: Sequence[_Listing], hot: dict[int, float], parents: dict[int, int]
) -> list[Candidate]:
    return [
        Candidate(
            goods_id=g.id,
            category_id=g.category_id,
            top_category_id=parents.get(g.category_id, g.category_id),
            seller_id=g.seller_id,
            published_at=(g.published_at or g.updated_at).timestamp(),
            hot_log=hot.get(g.id),
            city=g.city,
        )
        for g in goods
    ]


# What a candidate is made of: rows of these columns cost a fraction of whole Goods.
_CANDIDATE_COLUMNS = (
    Goods.id,
    Goods.category_id,
    Goods.seller_id,
    Goods.published_at,
    Goods.updated_at,
    Goods.city,
)


def _newest_listings(
    session: Session, *conditions: ColumnElement[bool], limit: int
) -> Sequence[_Listing]:
    """The newest listed goods matching `conditions`, as rows of the candidate columns."""
    return session.execute(
        select(*_CANDIDATE_COLUMNS)
        .where(Goods.status == GoodsStatus.LISTED, *conditions)
        .order_by(Goods.published_at.desc(), Goods.id.desc())
        .limit(limit)
    ).all()


def _listings_in_order(session: Session, goods_ids: Sequence[int]) -> list[_Listing]:
    """The listed ones among `goods_ids`, in that order, as rows of the candidate columns."""
    if not goods_ids:
        return []
    listed = Goods.id.in_(goods_ids), Goods.status == GoodsStatus.LISTED
    found: Iterable[_Listing] = session.execute(select(*_CANDIDATE_COLUMNS).where(*listed))
    return in_given_order(found, goods_ids)


def _newest_candidates(
    session: Session,
    counter: HotCounter,
    parents: dict[int, int],
    *conditions: ColumnElement[bool],
    limit: int,
) -> list[Candidate]:
    """The newest listed goods matching `conditions`, as candidates (columns only)."""
    rows = _newest_listings(session, *conditions, limit=limit)
    return _candidates(rows, counter.scores([row.id for row in rows]), parents)


def affinity_of(
    session: Session, *, actor: str, now: datetime, parents: dict[int, int]
) -> dict[int, float]:
    """The shopper's share of recent clicks per top category, scaled so the top is 1."""
    rows = session.execute(
        select(Goods.category_id)
        .join(Event, Event.goods_id == Goods.id)
        .where(
            Event.actor == actor,
            Event.type.in_(("click", "favorite")),
            Event.ts >= now - timedelta(days=AFFINITY_DAYS),
        )
        .order_by(Event.ts.desc())
        .limit(200)
    ).scalars()
    counts = Counter(parents.get(category_id, category_id) for category_id in rows)
    if not counts:
        return {}
    top = max(counts.values())
    return {category: count / top for category, count in counts.items()}


def _listed(session: Session, *conditions: object, limit: int) -> list[Goods]:
    return list(
        session.scalars(
            select(Goods)
            .where(Goods.status == GoodsStatus.LISTED, *conditions)  # type: ignore[arg-type]
            .order_by(Goods.published_at.desc(), Goods.id.desc())
            .limit(limit)
        ).all()
    )


@dataclass(frozen=True)
class ForYouPage:
    goods_ids: list[int]
    exhausted: bool
    affinity: dict[int, float]  # as used: keep it for the feed's next pages
    placed: list[Placed]  # of each goods of the page, for the feed's session


SectionKey = tuple[str, int | str]  # ("top", top category id) or ("city", city)


@dataclass
class Section:
    built_at: float  # time.monotonic()
    candidates: list[Candidate]
    scored: Ranked | None = None  # for `scored.blend`; a new pool's blend scores again

    def ranked(self, blend: Blend) -> Ranked:
        scored = self.scored
        if scored is None or scored.blend is not blend:
            # Pages of two pools racing here only score twice.
            scored = self.scored = Ranked.of(self.candidates, blend)
        return scored


@dataclass
class SharedPool:
    """The candidates every shopper starts from (hottest and newest listed goods), with the
    category tree: the same for everyone, so built once per cache period, not per page.

    It also keeps the sections shoppers add to it: the newest goods of one top category
    (for those who clicked there) or of one city (cold start). The first page that needs
    one builds it; after that the pool rebuilds carry sections over and refresh those
    older than SECTION_SECONDS in the background, so no page waits for them again.

    The candidates and sections are scored once per pool and configuration (`ranked`);
    a page only merges them in its shopper's order.
    """

    candidates: dict[int, Candidate]
    parents: dict[int, int]
    sections: dict[SectionKey, Section] = field(default_factory=dict)
    scored: Ranked | None = None

    def ranked(self, config: RankingConfig, now: float) -> Ranked:
        """The shared candidates scored at the first page's `now` for this pool's few
        seconds, or again when a new configuration is published."""
        scored = self.scored
        if scored is None or (scored.blend.config is not config and scored.blend.config != config):
            blend = Blend.over(self.candidates.values(), config=config, now=now)
            scored = self.scored = Ranked.of(self.candidates.values(), blend)
        return scored

    def prescore(self, config: RankingConfig, now: float) -> None:
        """Score the pool and its sections before any page needs them (a rebuild does it in
        the background, so the first page after it does not pay for the scoring)."""
        blend = self.ranked(config, now).blend
        for section in list(self.sections.values()):
            section.ranked(blend)

    def section(self, key: SectionKey, build: Callable[[], list[Candidate]]) -> Section:
        found = self.sections.get(key)
        if found is None:
            # Two pages racing to build the same section are harmless.
            found = Section(time.monotonic(), build())
            if len(self.sections) < MAX_SECTIONS:  # cities are typed by shoppers
                self.sections[key] = found
        return found


def build_section(
    session: Session, counter: HotCounter, parents: dict[int, int], key: SectionKey
) -> list[Candidate]:
    """The newest POOL listed goods of a top category or of a city, as candidates."""
    kind, value = key
    condition: ColumnElement[bool]
    if kind == "top":
        within = [category for category, parent in parents.items() if parent == value]
        condition = Goods.category_id.in_(within)
    else:
        condition = Goods.city == value
    return _newest_candidates(session, counter, parents, condition, limit=POOL)


def shared_pool(
    session: Session, *, counter: HotCounter, previous: SharedPool | None = None
) -> SharedPool:
    """The shared candidates; with `previous`, its sections too (refreshed when old)."""
    hot_ids = [goods_id for goods_id, _ in counter.top(POOL)]
    goods = {row.id: row for row in _listings_in_order(session, hot_ids)}
    goods.update({row.id: row for row in _newest_listings(session, limit=POOL)})
    parents = _parents(session)
    hot = counter.scores(list(goods))
    pool = SharedPool(
        {c.goods_id: c for c in _candidates(list(goods.values()), hot, parents)}, parents
    )
    now = time.monotonic()
    for key, section in (previous.sections if previous else {}).items():
        if now - section.built_at < SECTION_SECONDS:
            pool.sections[key] = section
        else:
            pool.sections[key] = Section(now, build_section(session, counter, parents, key))
    return pool


def _section(
    session: Session, counter: HotCounter, pool: SharedPool, key: SectionKey, blend: Blend
) -> Ranked:
    section = pool.section(key, partial(build_section, session, counter, pool.parents, key))
    return section.ranked(blend)


def for_you_page(
    session: Session,
    *,
    counter: HotCounter,
    pool: SharedPool,
    config: RankingConfig,
    actor: str | None,
    city: str | None,
    served: list[int],
    count: int,
    seed: int,
    now: datetime,
    affinity: dict[int, float] | None = None,
    placed: Sequence[Placed] = (),
) -> ForYouPage:
    """The next `count` goods for this shopper, none of them already served; `affinity`
    as an earlier page of the same feed used it, or None to read it; `placed` as the
    feed's session keeps it for the goods served."""
    shared = pool.ranked(config, now.timestamp())
    if affinity is None:
        affinity = affinity_of(session, actor=actor, now=now, parents=pool.parents) if actor else {}
    sources = [shared]
    if affinity:
        # The newest goods of the three liked categories, beyond what the pool holds.
        liked = sorted(affinity, key=affinity.__getitem__, reverse=True)[:3]
        sources += [_section(session, counter, pool, ("top", top), shared.blend) for top in liked]
    elif city:
        # Cold start: what is listed near the shopper.
        sources.append(_section(session, counter, pool, ("city", city), shared.blend))
    page = lay_out(
        for_shopper(sources, affinity=affinity, config=config),
        config=config,
        seen=set(served),
        count=count,
        seed=seed,
        offset=len(served),
        recent=placed,
    )
    return ForYouPage(
        [goods.goods_id for goods in page],
        exhausted=len(page) < count,
        affinity=affinity,
        placed=[Placed(goods.top_category_id, goods.seller_id) for goods in page],
    )


def similar_goods(session: Session, *, goods_id: int, limit: int, now: datetime) -> list[int]:
    """Goods clicked in the same sessions as this one; the same category fills the rest."""
    since = now - timedelta(days=30)
    actors = session.scalars(
        select(Event.actor)
        .where(Event.goods_id == goods_id, Event.type == "click", Event.ts >= since)
        .distinct()
        .limit(500)
    ).all()
    ranked: list[int] = []
    if actors:
        clicks = session.execute(
            select(Event.actor, Event.goods_id, Event.ts)
            .where(Event.actor.in_(actors), Event.type == "click", Event.ts >= since)
            .limit(20_000)
        ).all()
        sessions = sessionize((row.actor, row.goods_id, row.ts.timestamp()) for row in clicks)
        counts = co_occurrence(sessions)
        ranked = similar_items(
            counts, goods_id, limit=limit * 3, popularity=item_popularity(sessions)
        )
    result = [g.id for g in listed_in_order(session, ranked, limit)]
    if len(result) < limit:
        goods = session.get(Goods, goods_id)
        if goods is not None:
            exclude = {goods_id, *result}
            result += [
                g.id
                for g in _listed(session, Goods.category_id == goods.category_id, limit=limit * 2)
                if g.id not in exclude
            ][: limit - len(result)]
    return result
