"""Offline ranking metrics: hand-computed cases, and NDCG against scikit-learn."""

from __future__ import annotations

import math
import random

import pytest
from sklearn.metrics import ndcg_score

from ranking.metrics import (
    coverage,
    dcg_at_k,
    ipw_value,
    mrr,
    ndcg_at_k,
    novelty,
    recall_at_k,
)

LOG2_3 = math.log2(3)


def test_dcg_discounts_each_position_by_log2_of_rank_plus_one() -> None:
    gains = [3.0, 2.0, 3.0, 0.0, 1.0, 2.0]
    expected = 3 + 2 / LOG2_3 + 3 / 2 + 0 / math.log2(5) + 1 / math.log2(6) + 2 / math.log2(7)
    assert dcg_at_k(gains, 6) == pytest.approx(expected)
    assert dcg_at_k(gains, 2) == pytest.approx(3 + 2 / LOG2_3)
    assert dcg_at_k(gains, 100) == pytest.approx(expected)
    assert dcg_at_k([], 5) == 0.0


def test_ndcg_of_a_reversed_ranking() -> None:
    relevance = {"a": 0.0, "b": 1.0, "c": 2.0}
    assert ndcg_at_k(["a", "b", "c"], relevance, 3) == pytest.approx(
        (1 / LOG2_3 + 2 / 2) / (2 + 1 / LOG2_3)
    )
    assert ndcg_at_k(["c", "b", "a"], relevance, 3) == 1.0


def test_ndcg_cuts_both_the_ranking_and_the_ideal_at_k() -> None:
    relevance = {"a": 3.0, "b": 2.0, "c": 1.0}
    assert ndcg_at_k(["b", "a", "c"], relevance, 1) == pytest.approx(2 / 3)
    assert ndcg_at_k(["b", "a", "c"], relevance, 2) == pytest.approx(
        (2 + 3 / LOG2_3) / (3 + 2 / LOG2_3)
    )


def test_ndcg_charges_relevant_items_the_ranking_left_out() -> None:
    # The ideal ordering holds every relevant item, ranked or not.
    assert ndcg_at_k(["a"], {"a": 1.0, "b": 1.0}, 2) == pytest.approx(1 / (1 + 1 / LOG2_3))
    assert ndcg_at_k(["x", "y"], {"z": 5.0}, 2) == 0.0
    assert ndcg_at_k([], {"z": 5.0}, 2) == 0.0


def test_ndcg_is_zero_when_nothing_is_relevant() -> None:
    # 0/0 is defined as 0.0, as scikit-learn does.
    assert ndcg_at_k(["a", "b"], {}, 2) == 0.0
    assert ndcg_at_k(["a", "b"], {"a": 0.0, "b": 0.0}, 2) == 0.0


def test_ndcg_gives_a_repeated_item_its_gain_once() -> None:
    relevance = {"a": 1.0, "b": 1.0}
    assert ndcg_at_k(["a", "a", "b"], relevance, 2) == pytest.approx(1 / (1 + 1 / LOG2_3))


def test_ndcg_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="k must be"):
        ndcg_at_k(["a"], {"a": 1.0}, 0)
    with pytest.raises(ValueError, match="negative"):
        ndcg_at_k(["a"], {"a": -1.0}, 1)


def test_ndcg_matches_scikit_learn_on_random_rankings() -> None:
    rng = random.Random(20240601)
    for case in range(400):
        universe = list(range(rng.randint(2, 40)))
        relevant = rng.sample(universe, rng.randint(0, len(universe)))
        if case % 2:
            relevance = {item: float(rng.randint(0, 5)) for item in relevant}
        else:
            relevance = {item: rng.uniform(0.0, 10.0) for item in relevant}
        # Some relevant items may be left out of the ranking altogether.
        ranked = rng.sample(universe, rng.randint(1, len(universe)))
        k = rng.randint(1, len(ranked))
        # scikit-learn scores every item: the ranked ones above all the others.
        unranked = [item for item in universe if item not in set(ranked)]
        score = {item: float(len(universe) - position) for position, item in enumerate(ranked)}
        score.update({item: -1.0 - position for position, item in enumerate(unranked)})
        expected = ndcg_score(
            [[relevance.get(item, 0.0) for item in universe]],
            [[score[item] for item in universe]],
            k=k,
            ignore_ties=True,
        )
        assert ndcg_at_k(ranked, relevance, k) == pytest.approx(expected, abs=1e-12), case


def test_recall_counts_relevant_items_in_the_first_k() -> None:
    assert recall_at_k([1, 2, 3, 4], {2, 4, 9}, 2) == pytest.approx(1 / 3)
    assert recall_at_k([1, 2, 3, 4], {2, 4, 9}, 4) == pytest.approx(2 / 3)
    assert recall_at_k([1, 2], {1, 2}, 10) == 1.0
    assert recall_at_k([1, 2], set(), 2) == 0.0
    with pytest.raises(ValueError, match="k must be"):
        recall_at_k([1], {1}, 0)


def test_reciprocal_rank_of_the_first_relevant_item() -> None:
    assert mrr([5, 6, 7, 8], {7, 8}) == pytest.approx(1 / 3)
    assert mrr([5, 6], {5}) == 1.0
    assert mrr([5, 6], {9}) == 0.0
    assert mrr([], {9}) == 0.0


def test_coverage_is_the_share_of_the_catalog_recommended_anywhere() -> None:
    assert coverage([[1, 2], [2, 3]], 10) == pytest.approx(0.3)
    assert coverage([[], []], 10) == 0.0
    assert coverage([], 4) == 0.0
    with pytest.raises(ValueError, match="catalog_size"):
        coverage([[1]], 0)
    with pytest.raises(ValueError, match="catalog of 1"):
        coverage([[1, 2]], 1)


def test_novelty_is_the_mean_self_information_of_the_recommended_items() -> None:
    popularity = {"a": 50, "b": 25, "c": 1}
    assert novelty([["a", "b"]], popularity, 100) == pytest.approx((1 + 2) / 2)
    assert novelty([["a", "b"], ["c"]], popularity, 100) == pytest.approx(
        (1.5 + math.log2(100)) / 2
    )
    # Never seen counts as seen once; empty lists are left out of the mean.
    assert novelty([["zzz"], []], popularity, 100) == pytest.approx(math.log2(100))
    assert novelty([[], []], popularity, 100) == 0.0
    with pytest.raises(ValueError, match="total_interactions"):
        novelty([["a"]], popularity, 0)


def test_ipw_reweights_logged_rewards_to_the_target_policy() -> None:
    rewards = [1.0, 0.0, 1.0, 0.0]
    logged = [0.5, 0.5, 0.25, 0.25]
    # The target always takes the first two logged actions, never the last two.
    target = [1.0, 1.0, 0.0, 0.0]
    assert ipw_value(rewards, target, logged) == pytest.approx((2 * 1 + 2 * 0) / 4)
    assert ipw_value(rewards, target, logged, self_normalized=True) == pytest.approx(2 / 4)
    # Evaluating the logging policy itself gives back the plain mean.
    assert ipw_value(rewards, logged, logged) == pytest.approx(0.5)
    assert ipw_value([], [], []) == 0.0
    assert ipw_value([1.0], [0.0], [0.5], self_normalized=True) == 0.0


def test_ipw_refuses_impossible_propensities() -> None:
    with pytest.raises(ValueError, match="logging propensities"):
        ipw_value([1.0], [1.0], [0.0])
    with pytest.raises(ValueError, match="target probabilities"):
        ipw_value([1.0], [1.5], [0.5])
    with pytest.raises(ValueError, match=r"shorter|longer"):
        ipw_value([1.0, 0.0], [1.0], [0.5])
