"""Offline ranking metrics: NDCG, recall, reciprocal rank, catalog coverage, novelty, and
inverse-propensity estimates of a policy's click-through rate from logged impressions.

Conventions, shared by every function here:
- a ranking is a sequence of item ids, best first; `k` cuts it to its first k;
- a quantity whose denominator is zero (no relevant item, an empty list) is 0.0 rather
  than an error or NaN, so that averaging over days or queries never breaks on an empty one;
- gains are linear in relevance and discounted by log2(position + 1), positions from 1:
  the form of `sklearn.metrics.ndcg_score`, which the tests compare against.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

Item = TypeVar("Item", bound=Hashable)


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")


def dcg_at_k(gains: Sequence[float], k: int) -> float:
    """Discounted cumulative gain of the first k gains: Σ gain_i / log2(i + 1), i from 1."""
    _check_k(k)
    return sum(gain / math.log2(position + 2) for position, gain in enumerate(gains[:k]))


def ndcg_at_k(ranked_ids: Sequence[Item], relevance: Mapping[Item, float], k: int) -> float:
    """DCG@k of the ranking over the DCG@k of the ideal ordering of all relevant items.

    Items missing from `relevance` have gain 0; a ranking shorter than k is not padded.
    The ideal ordering sorts every item of `relevance` by its grade, so a relevant item the
    ranking left out still counts against it. With no positive grade at all the ratio is
    0/0, defined here as 0.0 (as sklearn does). A repeated id earns its gain once, at its
    first position; its later copies take up slots and earn nothing.
    """
    _check_k(k)
    if any(grade < 0 for grade in relevance.values()):
        raise ValueError("relevance grades cannot be negative")
    ideal = dcg_at_k(sorted(relevance.values(), reverse=True), k)
    if ideal == 0.0:
        return 0.0
    return dcg_at_k(_gains(ranked_ids[:k], relevance), k) / ideal


def recall_at_k(ranked: Sequence[Item], relevant: set[Item], k: int) -> float:
    """Share of the relevant items found among the first k; 0.0 when nothing is relevant."""
    _check_k(k)
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr(ranked: Sequence[Item], relevant: set[Item]) -> float:
    """Reciprocal rank of the first relevant item in one ranking (0.0 if none is there).

    The mean reciprocal rank of a set of queries or days is the mean of these values.
    """
    for position, item in enumerate(ranked, start=1):
        if item in relevant:
            return 1.0 / position
    return 0.0


def coverage(recommended_lists: Iterable[Iterable[Item]], catalog_size: int) -> float:
    """Share of the catalog that appears in at least one of the lists."""
    if catalog_size < 1:
        raise ValueError(f"catalog_size must be at least 1, not {catalog_size}")
    shown: set[Item] = set()
    for items in recommended_lists:
        shown.update(items)
    if len(shown) > catalog_size:
        raise ValueError(
            f"{len(shown)} distinct items recommended from a catalog of {catalog_size}"
        )
    return len(shown) / catalog_size


def novelty(
    recommended_lists: Iterable[Sequence[Item]],
    popularity: Mapping[Item, int],
    total_interactions: int,
) -> float:
    """Mean self-information −log2(p(i)), p(i) = popularity[i] / total_interactions.

    Averaged within each list, then over the non-empty lists (Zhou et al., PNAS 2010).
    An item with no recorded interaction is taken as seen once: the most novel an
    observed item can be, instead of an infinite surprise. 0.0 when every list is empty.
    """
    if total_interactions < 1:
        raise ValueError(f"total_interactions must be at least 1, not {total_interactions}")
    per_list: list[float] = []
    for items in recommended_lists:
        if not items:
            continue
        information = [
            -math.log2(max(popularity.get(item, 0), 1) / total_interactions) for item in items
        ]
        per_list.append(sum(information) / len(information))
    return sum(per_list) / len(per_list) if per_list else 0.0


def ipw_value(
    rewards: Iterable[float],
    target_probabilities: Iterable[float],
    logging_propensities: Iterable[float],
    *,
    self_normalized: bool = False,
) -> float:
    """Off-policy estimate of a target policy's mean reward (e.g. its CTR) from a log.

    Each logged action weighs w = π(a|x) / μ(a|x), the probability that the target policy
    takes it over the logged propensity of the policy that did: the inverse-propensity
    estimate is mean(w · r). Self-normalized (SNIPS), it is Σ w · r / Σ w: a little
    biased, much less variable when some propensities are tiny. 0.0 on an empty log (and,
    self-normalized, when every weight is 0).
    """
    weighted = 0.0
    total_weight = 0.0
    count = 0
    for reward, target, logged in zip(
        rewards, target_probabilities, logging_propensities, strict=True
    ):
        if not 0.0 < logged <= 1.0:
            raise ValueError(f"logging propensities must be in (0, 1], not {logged}")
        if not 0.0 <= target <= 1.0:
            raise ValueError(f"target probabilities must be in [0, 1], not {target}")
        weight = target / logged
        weighted += weight * reward
        total_weight += weight
        count += 1
    denominator = total_weight if self_normalized else float(count)
    return weighted / denominator if denominator else 0.0


def _gains(ranked: Sequence[Item], relevance: Mapping[Item, float]) -> list[float]:
    seen: set[Item] = set()
    gains: list[float] = []
    for item in ranked:
        gains.append(0.0 if item in seen else relevance.get(item, 0.0))
        seen.add(item)
    return gains
