"""The for-you feed: scoring, exploration slots, diversity caps, paging and cursors."""

from __future__ import annotations

import base64
import json
import random
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from ranking.config import RankingConfig
from ranking.feed import (
    Blend,
    Candidate,
    FeedCursor,
    Ranked,
    ScoredCandidate,
    ShopperOrder,
    assemble,
    decode_cursor,
    encode_cursor,
    exploration_positions,
    exploration_slots,
    for_shopper,
    lay_out,
    score_candidates,
)
from ranking.hot import EMPTY, EPOCH

HOUR = 3600.0
NOW = EPOCH + 96 * HOUR  # 4 half-lives of 24 h after the hot epoch
KEY = b"test-cursor-key"


def make_candidate(
    goods_id: int,
    *,
    top_category_id: int = 1,
    seller_id: int = 1,
    age_hours: float = 100.0,
    hot_log: float | None = None,
) -> Candidate:
    return Candidate(
        goods_id=goods_id,
        category_id=top_category_id * 100,
        top_category_id=top_category_id,
        seller_id=seller_id,
        published_at=NOW - age_hours * HOUR,
        hot_log=hot_log,
        city="杭州",
    )


def make_scored(
    goods_id: int,
    *,
    score: float,
    top_category_id: int = 1,
    seller_id: int | None = None,
    is_new: bool = False,
) -> ScoredCandidate:
    return ScoredCandidate(
        candidate=make_candidate(
            goods_id,
            top_category_id=top_category_id,
            seller_id=goods_id if seller_id is None else seller_id,
        ),
        score=score,
        hot=0.0,
        new=1.0 if is_new else 0.0,
        affinity=0.0,
        is_new=is_new,
        goods_id=goods_id,
    )


def make_config(**overrides: Any) -> RankingConfig:
    return RankingConfig.from_mapping(overrides)


def mixed_pool() -> list[ScoredCandidate]:
    """60 goods, every fifth one new; neighbours in score share category and seller."""
    return [
        make_scored(
            goods_id,
            score=float(goods_id),
            top_category_id=goods_id // 5 % 4,
            seller_id=goods_id // 3 % 7,
            is_new=goods_id % 5 == 0,
        )
        for goods_id in range(1, 61)
    ]


MIXED = make_config(
    diversity_window=6, max_per_category=2, max_per_seller=1, exploration_share=1 / 3
)


def cap_breaches(
    ids: Sequence[int], pool: Sequence[ScoredCandidate], config: RankingConfig
) -> list[int]:
    """Start positions of every sliding window that holds too many of one category/seller."""
    by_id = {item.goods_id: item.candidate for item in pool}
    window = config.diversity_window
    breaches = []
    for start in range(max(1, len(ids) - window + 1)):
        shown = [by_id[goods_id] for goods_id in ids[start : start + window]]
        categories = Counter(c.top_category_id for c in shown)
        sellers = Counter(c.seller_id for c in shown)
        if (
            max(categories.values()) > config.max_per_category
            or max(sellers.values()) > config.max_per_seller
        ):
            breaches.append(start)
    return breaches


# Scoring


def test_score_blends_normalised_hot_recency_and_affinity() -> None:
    config = make_config(
        hot_weight=0.5,
        new_weight=0.25,
        affinity_weight=1.0,
        half_life_hours=24,
        new_window_hours=48,
    )
    candidates = [
        # hot_at = 2^(6 - 4) = 4, the hottest: hot 1.0
        make_candidate(1, top_category_id=1, age_hours=100, hot_log=6.0),
        # hot_at = 2: hot 0.5; 12 h old of a 48 h window: new 0.75
        make_candidate(2, top_category_id=2, age_hours=12, hot_log=5.0),
        # no events, 24 h old: new 0.5 and eligible for exploration
        make_candidate(3, top_category_id=1, age_hours=24),
        # older than the new window: new 0, not eligible; 4 and 5 tie on score
        make_candidate(4, top_category_id=3, age_hours=60),
        make_candidate(5, top_category_id=3, age_hours=60),
    ]

    scored = score_candidates(candidates, config=config, now=NOW, affinity={1: 0.5, 3: 0.25})

    assert [(s.goods_id, s.score, s.hot, s.new, s.affinity, s.is_new) for s in scored] == [
        (1, 1.0, 1.0, 0.0, 0.5, False),  # 0.5·1 + 0.25·0 + 1·0.5
        (3, 0.625, 0.0, 0.5, 0.5, True),  # 0.5·0 + 0.25·0.5 + 1·0.5
        (2, 0.4375, 0.5, 0.75, 0.0, False),  # 0.5·0.5 + 0.25·0.75 + 1·0
        (5, 0.25, 0.0, 0.0, 0.25, False),  # ties broken by goods id, descending
        (4, 0.25, 0.0, 0.0, 0.25, False),
    ]


def test_no_hot_scores_means_no_hot_part_rather_than_a_division_by_zero() -> None:
    scored = score_candidates(
        [make_candidate(1), make_candidate(2, hot_log=EMPTY)],
        config=make_config(),
        now=NOW,
        affinity={},
    )
    assert [(s.goods_id, s.hot, s.score) for s in scored] == [(2, 0.0, 0.0), (1, 0.0, 0.0)]


def test_new_window_edges_future_publish_times_and_affinity_bounds() -> None:
    config = make_config(new_window_hours=48, new_weight=1.0, hot_weight=0, affinity_weight=1)
    scored = score_candidates(
        [
            make_candidate(1, age_hours=48),  # exactly at the edge: still new, no recency left
            make_candidate(2, age_hours=-2, top_category_id=7),  # clock skew: brand new
            make_candidate(3, age_hours=1, hot_log=1.0),  # has events: not for exploration
        ],
        config=config,
        now=NOW,
        affinity={7: 3.0, 1: -1.0},
    )
    by_id = {s.goods_id: (s.new, s.affinity, s.is_new) for s in scored}
    assert by_id == {1: (0.0, 0.0, True), 2: (1.0, 1.0, True), 3: (47 / 48, 0.0, False)}


# Exploration slots


@pytest.mark.parametrize(
    ("share", "window", "slots"),
    [(0.2, 10, 2), (0.05, 10, 1), (0.25, 10, 3), (0.04, 10, 0), (0.0, 10, 0), (1.0, 7, 7)],
)
def test_exploration_slots_per_block_round_halves_up(share: float, window: int, slots: int) -> None:
    config = make_config(exploration_share=share, diversity_window=window)
    assert exploration_slots(config) == slots


def test_exploration_positions_are_fixed_by_seed_and_block() -> None:
    assert [exploration_positions(seed=7, block=b, window=5, slots=2) for b in range(4)] == [
        [0, 1],
        [2, 3],
        [0, 2],
        [0, 3],
    ]
    assert exploration_positions(seed=1, block=0, window=5, slots=2) == [1, 4]
    for block in range(50):
        positions = exploration_positions(seed=3, block=block, window=10, slots=3)
        assert len(set(positions)) == 3
        assert all(0 <= p < 10 for p in positions)


def test_new_goods_fill_exactly_the_reserved_positions_of_each_block() -> None:
    config = make_config(
        diversity_window=5, exploration_share=0.4, max_per_category=5, max_per_seller=5
    )
    hot = [make_scored(i, score=float(i)) for i in range(101, 121)]
    new = [make_scored(i, score=i / 100, is_new=True) for i in range(1, 7)]

    ids = assemble(hot + new, config=config, seen=set(), count=15, seed=7)

    # seed 7 reserves [0, 1], [2, 3], [0, 2] of blocks 0..2: positions 0, 1, 7, 8, 10, 12
    assert ids == [6, 5, 120, 119, 118, 117, 116, 4, 3, 115, 2, 114, 1, 113, 112]
    assert [p for p, goods_id in enumerate(ids) if goods_id < 100] == [0, 1, 7, 8, 10, 12]


def test_reserved_slots_fall_back_to_the_best_remaining_when_new_goods_run_out() -> None:
    config = make_config(
        diversity_window=5, exploration_share=0.4, max_per_category=5, max_per_seller=5
    )
    pool = [make_scored(i, score=float(i)) for i in range(101, 121)]
    pool.append(make_scored(1, score=0.01, is_new=True))

    assert assemble(pool, config=config, seen=set(), count=5, seed=7) == [1, 120, 119, 118, 117]


def test_a_reserved_slot_takes_an_established_goods_rather_than_break_a_cap() -> None:
    config = make_config(
        diversity_window=3, exploration_share=1.0, max_per_category=1, max_per_seller=3
    )
    pool = [
        make_scored(1, score=0.3, top_category_id=1, is_new=True),
        make_scored(2, score=0.2, top_category_id=1, is_new=True),
        make_scored(50, score=5.0, top_category_id=2),
        make_scored(49, score=4.0, top_category_id=3),
    ]
    assert assemble(pool, config=config, seen=set(), count=4, seed=0) == [1, 50, 49, 2]


# Diversity caps


def test_the_next_best_goods_is_taken_when_the_best_would_break_a_cap() -> None:
    config = make_config(
        diversity_window=3, max_per_category=1, max_per_seller=1, exploration_share=0
    )
    pool = [
        make_scored(10, score=6, top_category_id=1, seller_id=1),
        make_scored(9, score=5, top_category_id=1, seller_id=2),
        make_scored(8, score=4, top_category_id=2, seller_id=1),
        make_scored(7, score=3, top_category_id=2, seller_id=3),
        make_scored(6, score=2, top_category_id=3, seller_id=4),
        make_scored(5, score=1, top_category_id=1, seller_id=5),
    ]
    ids = assemble(pool, config=config, seen=set(), count=6, seed=0)
    # 9 waits for 10's category to leave the window, 8 for seller 1; the last place has
    # only 5 left, whose category is taken: the category cap gives way.
    assert ids == [10, 7, 6, 9, 8, 5]
    assert cap_breaches(ids, pool, config) == [3]


def test_the_first_window_of_a_feed_counts_every_goods_already_shown() -> None:
    config = make_config(
        diversity_window=6, max_per_category=1, max_per_seller=6, exploration_share=0
    )
    pool = [
        make_scored(goods_id, score=float(goods_id), top_category_id=category)
        for goods_id, category in [(10, 1), (9, 2), (8, 3), (7, 1), (6, 4), (5, 5), (4, 6)]
    ]
    assert assemble(pool, config=config, seen=set(), count=6, seed=0) == [10, 9, 8, 6, 5, 4]


def test_every_sliding_window_respects_both_caps() -> None:
    pool = mixed_pool()
    assert cap_breaches(list(range(60, 20, -1)), pool, MIXED)  # score order alone breaks caps
    ids = assemble(pool, config=MIXED, seen=set(), count=40, seed=11)
    assert len(ids) == 40
    assert len(set(ids)) == 40
    assert cap_breaches(ids, pool, MIXED) == []


def test_the_category_cap_gives_way_before_the_seller_cap() -> None:
    config = make_config(
        diversity_window=3, max_per_category=1, max_per_seller=1, exploration_share=0
    )
    pool = [
        make_scored(6, score=4, seller_id=1),
        make_scored(5, score=3, seller_id=1),
        make_scored(4, score=2, seller_id=2),
        make_scored(3, score=1, seller_id=3),
    ]  # one category only: its cap can never hold
    assert assemble(pool, config=config, seen=set(), count=4, seed=0) == [6, 4, 3, 5]


def test_caps_are_relaxed_rather_than_returning_a_short_page() -> None:
    config = make_config(
        diversity_window=5, max_per_category=1, max_per_seller=1, exploration_share=0
    )
    pool = [make_scored(i, score=float(i), seller_id=1) for i in range(1, 5)]
    assert assemble(pool, config=config, seen=set(), count=4, seed=0) == [4, 3, 2, 1]


# Pages


def test_seen_goods_never_come_back_and_duplicates_count_once() -> None:
    pool = mixed_pool()
    seen = set(range(30, 61))
    ids = assemble(pool + pool[:5], config=MIXED, seen=seen, count=40, seed=11)
    assert sorted(ids) == list(range(1, 30))  # the pool runs out: a short last page


def test_same_seed_same_feed_and_another_seed_another_layout() -> None:
    pool = mixed_pool()
    first = assemble(pool, config=MIXED, seen=set(), count=30, seed=11)
    assert assemble(list(reversed(pool)), config=MIXED, seen=set(), count=30, seed=11) == first
    assert assemble(pool, config=MIXED, seen=set(), count=30, seed=12) != first


def test_paging_with_a_growing_seen_set_never_repeats() -> None:
    pool = mixed_pool()
    seen: set[int] = set()
    pages = []
    while page := assemble(pool, config=MIXED, seen=seen, count=7, seed=11):
        pages.append(page)
        seen.update(page)
    shown = [goods_id for page in pages for goods_id in page]
    assert len(shown) == len(set(shown)) == 60
    assert [len(page) for page in pages] == [7] * 8 + [4]


def test_pages_with_offset_and_recent_equal_one_long_feed() -> None:
    pool = mixed_pool()
    by_id = {item.goods_id: item.candidate for item in pool}
    shown: list[int] = []
    for _ in range(5):
        recent = [by_id[goods_id] for goods_id in shown[-5:]]
        shown += assemble(
            pool,
            config=MIXED,
            seen=set(shown),
            count=7,
            seed=11,
            offset=len(shown),
            recent=recent,
        )
    assert shown == assemble(pool, config=MIXED, seen=set(), count=35, seed=11)
    assert cap_breaches(shown, pool, MIXED) == []


def test_a_few_recent_goods_count_toward_the_caps_of_the_next_page() -> None:
    config = make_config(
        diversity_window=5, max_per_category=2, max_per_seller=5, exploration_share=0
    )
    shown_before = [
        make_scored(n, score=0.0, top_category_id=top).candidate
        for n, top in ((90, 1), (91, 1), (92, 3))
    ]
    pool = [make_scored(n, score=10.0 - n, top_category_id=1) for n in (1, 2)]
    pool.append(make_scored(3, score=1.0, top_category_id=2))

    page = assemble(pool, config=config, seen=set(), count=3, seed=0, recent=shown_before)

    # Two of category 1 were just shown: the window has no room for a third until they age out.
    assert page == [3, 1, 2]


def test_count_zero_and_negative() -> None:
    assert assemble(mixed_pool(), config=MIXED, seen=set(), count=0, seed=1) == []
    with pytest.raises(ValueError, match="negative"):
        assemble(mixed_pool(), config=MIXED, seen=set(), count=-1, seed=1)


# Scored once, merged per shopper


def random_candidates(rng: random.Random, ids: range) -> list[Candidate]:
    return [
        make_candidate(
            goods_id,
            top_category_id=rng.randrange(6),
            seller_id=rng.randrange(40),
            age_hours=rng.uniform(-1, 120),
            hot_log=rng.choice([None, EMPTY, rng.uniform(0, 8)]),
        )
        for goods_id in ids
    ]


@pytest.mark.parametrize("trial", range(20))
def test_merging_pre_scored_sources_gives_the_feed_of_scoring_everything_per_page(
    trial: int,
) -> None:
    """The per-page shortcut is exact: a shopper's affinity only adds a constant to each
    liked category, so merging lists scored without it orders as scoring with it."""
    rng = random.Random(trial)
    config = make_config(
        diversity_window=rng.choice([4, 10]),
        max_per_category=rng.choice([1, 3]),
        max_per_seller=rng.choice([1, 2]),
        exploration_share=rng.choice([0.0, 0.2, 0.5]),
        affinity_weight=rng.choice([0.0, 0.5, 2.0]),
        new_window_hours=72,
    )
    shared = random_candidates(rng, range(1, 200))
    # Sections overlap the shared candidates and each other, as real sections do.
    sections = [
        shared[150:] + random_candidates(rng, range(200, 260)),
        [c for c in shared if c.top_category_id == 2][:30]
        + random_candidates(rng, range(300, 330)),
    ]
    affinity = {top: rng.choice([0.0, 0.25, 1.0, 3.0]) for top in rng.sample(range(6), 3)}
    seen = set(rng.sample(range(1, 330), 40))

    everything = {c.goods_id: c for c in shared}
    for section in sections:
        everything.update({c.goods_id: c for c in section if c.goods_id not in everything})
    # The shared pool holds the hottest goods, so its hottest is everyone's.
    blend = Blend.over(everything.values(), config=config, now=NOW)
    merged = for_shopper(
        [Ranked.of(shared, blend)] + [Ranked.of(s, blend) for s in sections],
        affinity=affinity,
        config=config,
    )
    scored = score_candidates(everything.values(), config=config, now=NOW, affinity=affinity)

    placed = lay_out(merged, config=config, seen=seen, count=60, seed=trial, offset=40)
    page = [goods.goods_id for goods in placed]
    assert page == assemble(scored, config=config, seen=seen, count=60, seed=trial, offset=40)
    assert len(page) == 60
    assert not seen & set(page)


def test_a_page_reads_the_ranked_streams_only_as_far_as_it_needs() -> None:
    pool = sorted(mixed_pool(), key=lambda s: -s.score)
    read: list[int] = []

    def stream(items: list[ScoredCandidate]) -> Iterator[ScoredCandidate]:
        for item in items:
            read.append(item.goods_id)
            yield item

    tops = {item.candidate.top_category_id for item in pool}
    order = ShopperOrder(
        {top: stream([i for i in pool if i.candidate.top_category_id == top]) for top in tops},
        {
            top: stream([i for i in pool if i.candidate.top_category_id == top and i.is_new])
            for top in tops
        },
    )
    page = [goods.goods_id for goods in lay_out(order, config=MIXED, seen=set(), count=6, seed=11)]
    assert page == assemble(pool, config=MIXED, seen=set(), count=6, seed=11)
    assert len(read) < 30  # of 60 + 12: caps and exploration look a little further


def reference_layout(
    pool: Sequence[ScoredCandidate], config: RankingConfig, count: int, seed: int
) -> list[int]:
    """The feed rules spelled out the slow way: scan the whole ranked list per position."""
    ranked = sorted(pool, key=lambda s: (-s.score, -s.goods_id))
    window, slots = config.diversity_window, exploration_slots(config)
    shown: list[ScoredCandidate] = []
    for position in range(count):
        if not ranked:
            break
        block, inside = divmod(position, window)
        exploring = inside in exploration_positions(
            seed=seed, block=block, window=window, slots=slots
        )
        tail = [s.candidate for s in shown[-(window - 1) :]] if window > 1 else []
        tops = Counter(c.top_category_id for c in tail)
        sellers = Counter(c.seller_id for c in tail)
        levels = [(True, True), (False, True), (False, False)]
        choice = next(
            item
            for category_cap, seller_cap in levels
            for new_only in ((True, False) if exploring else (False,))
            for item in ranked
            if (item.is_new or not new_only)
            and not (
                category_cap and tops[item.candidate.top_category_id] >= config.max_per_category
            )
            and not (seller_cap and sellers[item.candidate.seller_id] >= config.max_per_seller)
        )
        ranked.remove(choice)
        shown.append(choice)
    return [s.goods_id for s in shown]


@pytest.mark.parametrize("trial", range(30))
def test_the_lazy_layout_places_what_a_full_scan_per_position_would(trial: int) -> None:
    rng = random.Random(1000 + trial)
    config = make_config(
        diversity_window=rng.choice([1, 3, 6, 10]),
        max_per_category=rng.choice([1, 2, 3]),
        max_per_seller=rng.choice([1, 2]),
        exploration_share=rng.choice([0.0, 0.2, 0.5, 1.0]),
    )
    pool = [
        make_scored(
            goods_id,
            score=rng.choice([0.1, 0.2, 0.3, rng.random()]),  # ties too
            top_category_id=rng.randrange(rng.choice([1, 3, 8])),
            seller_id=rng.randrange(rng.choice([2, 5, 30])),
            is_new=rng.random() < rng.choice([0.0, 0.1, 0.5]),
        )
        for goods_id in range(1, rng.randrange(2, 120))
    ]
    count = rng.randrange(1, 140)
    expected = reference_layout(pool, config, count, seed=trial)
    assert assemble(pool, config=config, seen=set(), count=count, seed=trial) == expected


def test_a_section_hotter_than_the_pool_it_joins_counts_as_the_hottest_not_hotter() -> None:
    config = make_config(hot_weight=1.0, new_weight=0.0, affinity_weight=0.0)
    blend = Blend.over([make_candidate(1, hot_log=4.0)], config=config, now=NOW)
    ranked = Ranked.of([make_candidate(2, hot_log=6.0), make_candidate(3, hot_log=3.0)], blend)
    assert [(s.goods_id, s.hot) for s in ranked.items] == [(2, 1.0), (3, 0.5)]


# Cursors

URL_SAFE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def test_cursor_round_trip_in_url_safe_text() -> None:
    cursor = FeedCursor(request_id="请求-42/x+y", offset=140, config_version=3)
    text = encode_cursor(cursor, key=KEY)
    assert URL_SAFE.fullmatch(text)
    assert decode_cursor(text, key=KEY) == cursor


def test_a_cursor_with_an_edited_payload_is_rejected() -> None:
    text = encode_cursor(FeedCursor(request_id="r1", offset=20, config_version=3), key=KEY)
    body, mac = text.split(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data["offset"] = 2000
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    with pytest.raises(ValueError, match="signature"):
        decode_cursor(f"{forged}.{mac}", key=KEY)


def test_a_cursor_signed_with_another_key_is_rejected() -> None:
    text = encode_cursor(FeedCursor(request_id="r1", offset=20, config_version=3), key=b"other")
    with pytest.raises(ValueError, match="signature"):
        decode_cursor(text, key=KEY)


@pytest.mark.parametrize(
    "text",
    ["", "abc", "a.b.c", "!!!.???", "x" * 2000, "e30.", ".e30"],
)
def test_malformed_cursors_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="cursor"):
        decode_cursor(text, key=KEY)


def test_a_valid_cursor_with_stray_characters_is_rejected() -> None:
    text = encode_cursor(FeedCursor(request_id="r1", offset=20, config_version=3), key=KEY)
    body, mac = text.split(".")
    with pytest.raises(ValueError, match="malformed"):
        decode_cursor(f"{body}=.{mac}", key=KEY)
    with pytest.raises(ValueError, match="malformed"):
        decode_cursor(f"{body}.{mac}!", key=KEY)


def test_cursor_needs_a_key_and_a_non_negative_offset() -> None:
    with pytest.raises(ValueError, match="key"):
        encode_cursor(FeedCursor(request_id="r1", offset=0, config_version=1), key=b"")
    with pytest.raises(ValueError, match="negative"):
        FeedCursor(request_id="r1", offset=-1, config_version=1)
