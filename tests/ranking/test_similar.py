"""看了又看: sessions from click streams, co-occurrence counts and the ranked lists."""

from __future__ import annotations

from collections import Counter

import pytest

from ranking.similar import co_occurrence, item_popularity, sessionize, similar_items


def test_co_occurrence_counts_each_pair_once_per_session_both_ways() -> None:
    sessions = [[1, 2, 3], [1, 2], [2, 2, 4, 2], [5]]
    assert co_occurrence(iter(sessions)) == {
        1: Counter({2: 2, 3: 1}),
        2: Counter({1: 2, 3: 1, 4: 1}),
        3: Counter({1: 1, 2: 1}),
        4: Counter({2: 1}),
    }


def test_long_sessions_keep_only_their_last_distinct_items() -> None:
    counts = co_occurrence([[1, 2, 3, 4, 5]], max_session_items=3)
    assert counts == {3: Counter({4: 1, 5: 1}), 4: Counter({3: 1, 5: 1}), 5: Counter({3: 1, 4: 1})}


def test_reloads_do_not_push_real_views_out_of_the_limit() -> None:
    # Distinct goods by last view: 2, 1, 3; the limit of 2 keeps 1 and 3.
    counts = co_occurrence([[1, 2, 1, 3, 3, 3, 3]], max_session_items=2)
    assert counts == {1: Counter({3: 1}), 3: Counter({1: 1})}


def test_a_limit_below_a_pair_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        co_occurrence([[1, 2]], max_session_items=1)


def test_item_popularity_counts_sessions_as_co_occurrence_does() -> None:
    sessions = [[1, 2, 1], [1, 3, 4, 5], [2]]
    assert item_popularity(sessions, max_session_items=3) == Counter({1: 1, 2: 2, 3: 1, 4: 1, 5: 1})


COUNTS = {
    1: Counter({2: 3, 3: 3, 4: 1, 5: 2, 1: 9}),
    2: Counter({1: 3}),
}


def test_similar_items_by_co_count_ties_by_id() -> None:
    assert similar_items(COUNTS, 1, limit=10) == [2, 3, 5, 4]  # never the goods itself
    assert similar_items(COUNTS, 1, limit=2) == [2, 3]
    assert similar_items(COUNTS, 1, limit=10, min_count=2) == [2, 3, 5]


def test_similar_items_of_unknown_goods_or_zero_limit_is_empty() -> None:
    assert similar_items(COUNTS, 99, limit=5) == []
    assert similar_items(COUNTS, 1, limit=0) == []


def test_popularity_turns_counts_into_cosine_scores() -> None:
    counts = {1: Counter({2: 2, 3: 1, 4: 1})}
    popularity = {1: 4, 2: 16, 3: 1}
    # 2: 2/sqrt(4·16) = 0.25; 3: 1/sqrt(4·1) = 0.5;
    # 4 has no popularity, raised to its co-count 1: 1/sqrt(4·1) = 0.5, tied with 3
    assert similar_items(counts, 1, limit=5, popularity=popularity) == [3, 4, 2]
    assert similar_items(counts, 1, limit=5) == [2, 3, 4]


def test_sessions_split_at_gaps_longer_than_the_limit() -> None:
    events = [
        ("a", 1, 0.0),
        ("a", 2, 1800.0),  # exactly the gap: same session
        ("a", 3, 3601.0),  # 1801 s later: a new session
        ("a", 4, 3700.0),
        ("b", 9, 100.0),
        ("b", 8, 50.0),  # out of order: sorted by time
    ]
    assert sessionize(events, gap_seconds=1800) == [[1, 2], [8, 9], [3, 4]]


def test_sessions_are_ordered_by_start_then_actor() -> None:
    events = [("z", 1, 10.0), ("a", 2, 10.0), ("m", 3, 5.0), ("a", 4, 10.0)]
    assert sessionize(events) == [[3], [2, 4], [1]]
    assert sessionize([]) == []


def test_sessions_feed_co_occurrence() -> None:
    events = [("u1", 1, 0.0), ("u1", 2, 60.0), ("u2", 2, 0.0), ("u2", 3, 60.0)]
    counts = co_occurrence(sessionize(events))
    assert similar_items(counts, 2, limit=5) == [1, 3]
