"""The personalised "for you" feed: score candidates, then lay out pages of goods ids.

Scoring blends three parts, each in [0, 1]: hot (the decayed event score, divided by the
hottest candidate's), new (recency, linear over `new_window_hours`) and the shopper's
affinity for the goods' top category. Assembly walks the scored candidates best first and
adds two rules a shopper notices:

- Exploration: in every block of `diversity_window` positions, a fixed number of slots
  (`exploration_share × diversity_window`, halves rounded up) go to new goods that have no
  events yet, so fresh listings get impressions to earn a hot score. The slots' positions
  inside a block come from `seed` and the block's index only, so a page is reproducible.
- Diversity caps: every `diversity_window` consecutive results hold at most
  `max_per_category` goods of one top category and `max_per_seller` of one seller. When
  the best candidate would break a cap, the next best that fits is taken.

Relaxation: an endless feed never returns a short page while unseen candidates remain.
If nothing fits both caps, the category cap is dropped first (a narrow pool, such as a
shopper who only browses phones, legitimately repeats a category); if nothing fits the
seller cap either, both are dropped and the best remaining candidate is taken. The seller
cap is kept longest because one seller flooding the feed is the worse experience.

Pages: pass the absolute `offset` of the page and the goods shown just before it as
`recent`; blocks and windows then continue across page boundaries, and paging yields
exactly what one long call would.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import hmac
import json
import math
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from ranking.config import RankingConfig
from ranking.hot import EMPTY, hot_at

# Bounds the work done on untrusted input before its signature is checked.
MAX_CURSOR_LENGTH = 1024
# Domain separation: a MAC made with the same key for another purpose is never a cursor.
_CURSOR_CONTEXT = b"idlemarket.feed-cursor.v1\x00"
_CURSOR_FIELDS = frozenset({"request_id", "offset", "config_version"})


@dataclass(frozen=True)
class Candidate:
    """A goods that may appear in the feed, with what ranking needs to know about it."""

    goods_id: int
    category_id: int
    top_category_id: int
    seller_id: int
    published_at: float  # unix seconds
    hot_log: float | None  # log-domain hot score (ranking/hot.py); None without events
    city: str


class Placed(NamedTuple):
    """What the caps need to know of a goods already in the feed."""

    top_category_id: int
    seller_id: int


class ScoredCandidate(NamedTuple):
    """A candidate with its blended score and the parts it was blended from.

    A named tuple: a feed page scores about 900 of them, and a frozen dataclass's
    `__init__` made up most of the scoring time."""

    candidate: Candidate
    score: float
    hot: float
    new: float
    affinity: float
    is_new: bool  # eligible for exploration slots: recent and without any events
    # The candidate's, as a field of its own: a page reads it some 600 times, and a
    # property took a tenth of laying the page out.
    goods_id: int


def _rank_key(item: ScoredCandidate) -> tuple[float, int]:
    return (-item.score, -item.goods_id)


@dataclass(frozen=True)
class Blend:
    """What every score of one cache period shares: the configuration, the time and the
    hottest candidate's log (the hot part is relative to it)."""

    config: RankingConfig
    now: float
    top_log: float

    @classmethod
    def over(cls, candidates: Iterable[Candidate], *, config: RankingConfig, now: float) -> Blend:
        top_log = max((c.hot_log for c in candidates if c.hot_log is not None), default=EMPTY)
        return cls(config, now, top_log)

    def score(
        self, candidates: Iterable[Candidate], affinity: Mapping[int, float] | None = None
    ) -> list[ScoredCandidate]:
        """The candidates blended, best first, ties by id desc."""
        affinity = affinity or {}
        config, now, top_log = self.config, self.now, self.top_log
        # hot = hot_at(log) / hot_at(hottest log) = 2^(log - hottest log): one power each,
        # and none for the goods without events.
        scaled = hot_at(top_log, now, config.half_life_hours) > 0
        window = config.new_window_hours
        hot_weight, new_weight = config.hot_weight, config.new_weight
        affinity_weight = config.affinity_weight
        scored: list[ScoredCandidate] = []
        append = scored.append
        for candidate in candidates:
            hot_log = candidate.hot_log
            # At most 1: a section read after its pool may hold a goods hotter than its top.
            hot = min(1.0, 2.0 ** (hot_log - top_log)) if scaled and hot_log is not None else 0.0
            # A publish time slightly in the future (clock skew) counts as brand new.
            age_hours = max(0.0, (now - candidate.published_at) / 3600.0)
            new = max(0.0, 1.0 - age_hours / window)
            liking = liking_of(affinity, candidate.top_category_id)
            has_events = hot_log is not None and hot_log != EMPTY
            append(
                ScoredCandidate(
                    candidate,
                    hot_weight * hot + new_weight * new + affinity_weight * liking,
                    hot,
                    new,
                    liking,
                    age_hours <= window and not has_events,
                    candidate.goods_id,
                )
            )
        scored.sort(key=_rank_key)
        return scored


def liking_of(affinity: Mapping[int, float], top_category_id: int) -> float:
    # Clamped so a miscomputed affinity cannot outweigh the rest of the blend.
    return min(1.0, max(0.0, affinity.get(top_category_id, 0.0)))


def score_candidates(
    candidates: Iterable[Candidate],
    *,
    config: RankingConfig,
    now: float,
    affinity: Mapping[int, float],
) -> list[ScoredCandidate]:
    """Blend hot, new and category affinity into one score; best first, ties by id desc."""
    pool = list(candidates)
    return Blend.over(pool, config=config, now=now).score(pool, affinity)


@dataclass(frozen=True)
class Ranked:
    """Candidates scored without affinity, best first, and the same split by top category.

    Scored once per cache period: a shopper's affinity only adds a constant to every goods
    of a liked category, so each top category's list stays in order, and a page merges
    these lists lazily instead of scoring and sorting every candidate again."""

    blend: Blend
    items: list[ScoredCandidate]
    by_top: dict[int, list[ScoredCandidate]]
    new_by_top: dict[int, list[ScoredCandidate]]  # those eligible for exploration slots

    @classmethod
    def of(cls, candidates: Iterable[Candidate], blend: Blend) -> Ranked:
        items = blend.score(candidates)
        return cls(blend, items, *_by_top(items))


def _by_top(
    ranked: Iterable[ScoredCandidate],
) -> tuple[dict[int, list[ScoredCandidate]], dict[int, list[ScoredCandidate]]]:
    """Ranked candidates split by top category, keeping their order: all of them, and
    those eligible for exploration slots."""
    every: dict[int, list[ScoredCandidate]] = {}
    new: dict[int, list[ScoredCandidate]] = {}
    for item in ranked:
        top = item.candidate.top_category_id
        every.setdefault(top, []).append(item)
        if item.is_new:
            new.setdefault(top, []).append(item)
    return every, new


ByTop = dict[int, Iterator[ScoredCandidate]]


class ShopperOrder(NamedTuple):
    """A shopper's candidates, one stream per top category, each best first and read
    lazily: all of them, and the ones eligible for exploration slots."""

    ranked: ByTop
    new: ByTop

    @classmethod
    def of(cls, ranked: Iterable[ScoredCandidate]) -> ShopperOrder:
        """From candidates already in rank order."""
        every, new = _by_top(ranked)
        return cls(
            {top: iter(items) for top, items in every.items()},
            {top: iter(items) for top, items in new.items()},
        )


def for_shopper(
    sources: Sequence[Ranked], *, affinity: Mapping[int, float], config: RankingConfig
) -> ShopperOrder:
    """Every candidate of `sources` in this shopper's order: what `score_candidates` would
    give with `affinity` (a goods in several sources comes once per source; `lay_out`
    keeps the first). Kept apart per top category: the category cap turns a liked
    category away for stretches, and one merged stream would be read past all of it."""
    weight = config.affinity_weight

    def merged(lists: Sequence[dict[int, list[ScoredCandidate]]]) -> ByTop:
        streams: ByTop = {}
        for top in {top for by_top in lists for top in by_top}:
            of_top = [by_top[top] for by_top in lists if top in by_top]
            stream = iter(of_top[0]) if len(of_top) == 1 else heapq.merge(*of_top, key=_rank_key)
            liking = liking_of(affinity, top)
            streams[top] = _boosted(stream, weight * liking, liking) if liking > 0 else stream
        return streams

    return ShopperOrder(
        merged([source.by_top for source in sources]),
        merged([source.new_by_top for source in sources]),
    )


def _boosted(
    items: Iterable[ScoredCandidate], extra: float, liking: float
) -> Iterator[ScoredCandidate]:
    # The same float sum as a one-pass blend: (hot and new parts) + affinity part.
    for item in items:
        yield item._replace(score=item.score + extra, affinity=liking)


def exploration_slots(config: RankingConfig) -> int:
    """How many positions of each block are reserved for new goods (halves round up)."""
    # Not round(): banker's rounding would give a 5% share of a 10-window no slot at all.
    wanted = math.floor(config.exploration_share * config.diversity_window + 0.5)
    return min(config.diversity_window, wanted)


def exploration_positions(*, seed: int, block: int, window: int, slots: int) -> list[int]:
    """The reserved positions (0-based, inside the block) of block `block`, ascending.

    A hash rather than `random` so the layout never changes with the Python version: a
    shopper paging through a feed must keep seeing the layout their first page promised.
    """
    return list(_exploration_positions(seed, block, window, slots))


@lru_cache(maxsize=1024)
def _exploration_positions(seed: int, block: int, window: int, slots: int) -> tuple[int, ...]:
    def draw(position: int) -> bytes:
        return hashlib.blake2b(f"{seed}:{block}:{position}".encode(), digest_size=8).digest()

    return tuple(sorted(sorted(range(window), key=draw)[:slots]))


def assemble(
    scored: Iterable[ScoredCandidate],
    *,
    config: RankingConfig,
    seen: AbstractSet[int],
    count: int,
    seed: int,
    offset: int = 0,
    recent: Sequence[Candidate | Placed] = (),
) -> list[int]:
    """Up to `count` unseen goods ids in feed order, from candidates in any order (a goods
    listed twice counts with its best score); see `lay_out`."""
    order = ShopperOrder.of(sorted(scored, key=_rank_key))
    page = lay_out(
        order, config=config, seen=seen, count=count, seed=seed, offset=offset, recent=recent
    )
    return [goods.goods_id for goods in page]


def lay_out(
    order: ShopperOrder,
    *,
    config: RankingConfig,
    seen: AbstractSet[int],
    count: int,
    seed: int,
    offset: int = 0,
    recent: Sequence[Candidate | Placed] = (),
) -> list[Candidate]:
    """Up to `count` unseen goods in feed order; fewer only when the pool runs out.

    `order` is read only as far as the page needs. `offset` is the page's absolute
    position in the feed and `recent` the goods shown right before it (oldest first);
    both default to a feed that starts here.
    """
    if count < 0 or offset < 0:
        raise ValueError("count and offset cannot be negative")
    taken = set(seen)  # shared: a goods taken from one stream is gone from the other
    every, new = _Pending(order.ranked, taken), _Pending(order.new, taken)
    window = config.diversity_window
    slots = exploration_slots(config)
    # The window ending at a position holds the window-1 results before it.
    tail = _Tail(window - 1, recent)
    picked: list[Candidate] = []
    for position in range(offset, offset + count):
        block, inside = divmod(position, window)
        exploring = slots > 0 and inside in _exploration_positions(seed, block, window, slots)
        chosen = _choose(every, new if exploring else None, tail=tail, config=config)
        if chosen is None:
            break  # the pool ran out
        taken.add(chosen.goods_id)
        tail.append(chosen.candidate)
        picked.append(chosen.candidate)
    return picked


class _Tail:
    """The last `size` goods placed, counted per top category and per seller (kept as
    goods come and go: counting the tail again at every position took a tenth of a page)."""

    def __init__(self, size: int, recent: Sequence[Candidate | Placed]) -> None:
        self._size = max(0, size)
        self._goods: deque[Candidate | Placed] = deque()
        self.tops: Counter[int] = Counter()
        self.sellers: Counter[int] = Counter()
        for candidate in recent[max(0, len(recent) - self._size) :]:
            self.append(candidate)

    def append(self, candidate: Candidate | Placed) -> None:
        if not self._size:
            return
        if len(self._goods) == self._size:
            gone = self._goods.popleft()
            self.tops[gone.top_category_id] -= 1
            self.sellers[gone.seller_id] -= 1
        self._goods.append(candidate)
        self.tops[candidate.top_category_id] += 1
        self.sellers[candidate.seller_id] += 1


_NO_SELLERS: frozenset[int] = frozenset()


class _Pending:
    """Per top category, a ranked stream read only as far as asked; what was read and
    not yet taken is kept in order, so no stream is read twice."""

    def __init__(self, streams: ByTop, taken: set[int]) -> None:
        self._streams = streams
        self._taken = taken  # seen before this page, or placed on it
        self._read: dict[int, list[ScoredCandidate]] = {top: [] for top in streams}
        self._seen_in: dict[int, set[int]] = {top: set() for top in streams}
        # Each stream's first goods not taken, whatever its seller (None: the stream is used
        # up). It changes only when taken, so a position asks again of one stream, not all.
        self._heads: dict[int, ScoredCandidate | None] = {}

    def best(self, tops: AbstractSet[int], sellers: AbstractSet[int]) -> ScoredCandidate | None:
        """The best goods outside the capped top categories and sellers, or None."""
        found: ScoredCandidate | None = None
        heads, taken = self._heads, self._taken
        for top in self._streams:
            if top in tops:
                continue
            if top in heads:
                item = heads[top]
                if item is not None and item.goods_id in taken:
                    item = heads[top] = self._first(top, _NO_SELLERS)
            else:
                item = heads[top] = self._first(top, _NO_SELLERS)
            if item is not None and item.candidate.seller_id in sellers:
                item = self._first(top, sellers)  # the first not taken is the first allowed
            if item is not None and (
                found is None
                or item.score > found.score
                or (item.score == found.score and item.goods_id > found.goods_id)
            ):  # _rank_key(item) < _rank_key(found), without two tuples per comparison
                found = item
        return found

    def _first(self, top: int, sellers: AbstractSet[int]) -> ScoredCandidate | None:
        read = self._read[top]
        taken = self._taken
        if read and read[0].goods_id in taken:
            read[:] = [item for item in read if item.goods_id not in taken]
        for item in read:
            if item.candidate.seller_id not in sellers and item.goods_id not in taken:
                return item
        seen_in = self._seen_in[top]
        for item in self._streams[top]:
            # A goods in several sources comes again below its best: once is enough.
            if item.goods_id in taken or item.goods_id in seen_in:
                continue
            seen_in.add(item.goods_id)
            read.append(item)
            if item.candidate.seller_id not in sellers:
                return item
        return None


# (category cap, seller cap) enforced at each level of relaxation, strictest first.
_RELAXATION = ((True, True), (False, True), (False, False))


def _choose(
    every: _Pending,
    new: _Pending | None,
    *,
    tail: _Tail,
    config: RankingConfig,
) -> ScoredCandidate | None:
    """The goods for the next position; `new` for an exploration slot. None: no goods left."""
    capped_tops = {top for top, n in tail.tops.items() if n >= config.max_per_category}
    capped_sellers = {seller for seller, n in tail.sellers.items() if n >= config.max_per_seller}
    for category_cap, seller_cap in _RELAXATION:
        tops = capped_tops if category_cap else set()
        sellers_out = capped_sellers if seller_cap else set()
        # An exploration slot prefers new goods, but not at the price of a cap.
        for pending in (new, every) if new is not None else (every,):
            if (found := pending.best(tops, sellers_out)) is not None:
                return found
    return None


@dataclass(frozen=True)
class FeedCursor:
    """Where a shopper is in one feed: the request that started it and how far they got."""

    request_id: str
    offset: int
    config_version: int

    def __post_init__(self) -> None:
        if self.offset < 0:
            raise ValueError("a cursor offset cannot be negative")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError("malformed cursor") from error
    # The decoder skips stray characters; only the canonical spelling is accepted.
    if _b64encode(data) != text:
        raise ValueError("malformed cursor")
    return data


def _signature(payload: bytes, key: bytes) -> bytes:
    if not key:
        raise ValueError("a cursor key is required")
    return hmac.new(key, _CURSOR_CONTEXT + payload, hashlib.sha256).digest()


def encode_cursor(state: FeedCursor, *, key: bytes) -> str:
    """The cursor as URL-safe text: base64url(JSON) "." base64url(HMAC-SHA256)."""
    payload = json.dumps(
        {
            "request_id": state.request_id,
            "offset": state.offset,
            "config_version": state.config_version,
        },
        separators=(",", ":"),
        sort_keys=True,
        ensure_ascii=True,
    ).encode("ascii")
    return f"{_b64encode(payload)}.{_b64encode(_signature(payload, key))}"


def decode_cursor(text: str, *, key: bytes) -> FeedCursor:
    """The cursor `encode_cursor` made with `key`; ValueError if malformed or forged."""
    if len(text) > MAX_CURSOR_LENGTH:
        raise ValueError("cursor too long")
    body, dot, mac = text.partition(".")
    if not dot or "." in mac:
        raise ValueError("malformed cursor")
    payload = _b64decode(body)
    if not hmac.compare_digest(_b64decode(mac), _signature(payload, key)):
        raise ValueError("cursor signature does not match")
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError("malformed cursor") from error
    if not isinstance(data, dict) or set(data) != _CURSOR_FIELDS:
        raise ValueError("malformed cursor")
    request_id, offset, version = data["request_id"], data["offset"], data["config_version"]
    # type() rather than isinstance(): JSON true must not pass for offset 1.
    if not isinstance(request_id, str) or type(offset) is not int or type(version) is not int:
        raise ValueError("malformed cursor")
    return FeedCursor(request_id=request_id, offset=offset, config_version=version)
