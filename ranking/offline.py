"""Offline evaluation of the hot ranking on a click log, against simple baselines.

The protocol (a day-by-day replay): for every UTC day d of the log that has a next day,
rank items from the clicks up to the end of d, then score that ranking against day d+1,
where an item's relevance is its number of clicks on d+1 (graded). Report NDCG@k and
recall@k averaged over the days. Rankers see only the past: a ranker is a function of the
clicks up to `now` and of `now`.

The hot ranker is the production score (`ranking.hot`): every counted click adds
w · 2^(t/h) in the log domain, with the production rule that one session's repeated clicks
on one item within the de-duplication window count once. On a click-only log the click
weight is a common factor of every score, so it cannot change the order: the half-life
and the window are what this data can tune; the weights of the other event types need
the platform's own exported events.
"""

from __future__ import annotations

import math
import os
import random
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ranking.config import DEFAULT_CONFIG
from ranking.hot import EMPTY, accumulate
from ranking.metrics import ndcg_at_k, recall_at_k

SECONDS_PER_DAY = 86_400
DEDUPE_WINDOW_SECONDS = DEFAULT_CONFIG.dedupe_window_seconds


@dataclass(frozen=True, slots=True)
class Click:
    """One click of a session on an item at a unix time (seconds)."""

    session: int
    item: int
    ts: float


# Clicks up to `now` (sorted by time) and `now` -> item ids, best first.
Ranker = Callable[[Sequence[Click], float], list[int]]


@dataclass(frozen=True, slots=True)
class DayScore:
    """How one day's ranking did on the next day's clicks."""

    day: str  # the UTC day ranked from (ISO date); it is scored on the day after
    ndcg: float
    recall: float
    next_day_clicks: int
    next_day_items: int


@dataclass(frozen=True, slots=True)
class Evaluation:
    k: int
    recall_k: int
    ndcg: float  # mean NDCG@k over the days
    recall: float  # mean recall@recall_k over the days
    days: tuple[DayScore, ...]


@dataclass(frozen=True, slots=True)
class TuningRow:
    half_life_hours: float
    ndcg: float
    recall: float


def load_clicks(path: str | os.PathLike[str]) -> list[Click]:
    """Read a YOOCHOOSE-style TSV (`SessionId<TAB>ItemId<TAB>Time`, unix seconds), sorted
    by time. A header line is skipped when present."""
    clicks: list[Click] = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            fields = line.rstrip("\r\n").split("\t")
            if not line.strip():
                continue
            if number == 1 and not fields[0].strip().lstrip("-").isdigit():
                continue  # the header
            if len(fields) != 3:
                raise ValueError(f"{path}:{number}: expected 3 tab-separated fields")
            try:
                clicks.append(Click(int(fields[0]), int(fields[1]), float(fields[2])))
            except ValueError as error:
                raise ValueError(f"{path}:{number}: {error}") from None
    clicks.sort(key=lambda click: click.ts)
    return clicks


def utc_day(ts: float) -> int:
    """Days since 1970-01-01 UTC of a unix time."""
    return math.floor(ts / SECONDS_PER_DAY)


def day_label(day: int) -> str:
    return datetime.fromtimestamp(day * SECONDS_PER_DAY, tz=UTC).date().isoformat()


def split_days(clicks: Iterable[Click]) -> dict[int, list[Click]]:
    """Clicks grouped by UTC day, days in order."""
    days: dict[int, list[Click]] = defaultdict(list)
    for click in clicks:
        days[utc_day(click.ts)].append(click)
    return dict(sorted(days.items()))


def dedupe_clicks(clicks: Iterable[Click], window_seconds: float) -> list[Click]:
    """The clicks that count: as in production (catalog.events.service.record_events), a
    click of a session on an item less than `window_seconds` after that session's last
    counted click on it counts for nothing."""
    ordered = sorted(clicks, key=lambda click: click.ts)
    if window_seconds <= 0:
        return ordered
    last_counted: dict[tuple[int, int], float] = {}
    counted: list[Click] = []
    for click in ordered:
        key = (click.session, click.item)
        earlier = last_counted.get(key)
        if earlier is not None and click.ts - earlier < window_seconds:
            continue
        last_counted[key] = click.ts
        counted.append(click)
    return counted


def hot_scores(
    clicks_until: Iterable[Click],
    half_life_hours: float,
    weights: Mapping[str, float] | None = None,
    *,
    dedupe_window_seconds: float = DEDUPE_WINDOW_SECONDS,
) -> dict[int, float]:
    """Per item, the log-domain hot score log2(Σ w · 2^(t/h)) of its counted clicks."""
    weight = (DEFAULT_CONFIG.event_weights if weights is None else weights).get("click", 0.0)
    events: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for click in dedupe_clicks(clicks_until, dedupe_window_seconds):
        events[click.item].append((weight, click.ts))
    scores = {item: accumulate(EMPTY, terms, half_life_hours) for item, terms in events.items()}
    return {item: score for item, score in scores.items() if score != EMPTY}


def hot_ranking(
    clicks_until: Sequence[Click],
    now: float,
    half_life_hours: float,
    weights: Mapping[str, float] | None = None,
    *,
    dedupe_window_seconds: float = DEDUPE_WINDOW_SECONDS,
) -> list[int]:
    """Items by hot score at `now`, hottest first (ties by item id).

    `weights` are event weights as in RankingConfig.event_weights (default: the default
    configuration's, a click weighs 1). Clicks after `now` are ignored; otherwise `now`
    does not matter: decay scales every score alike, which is why the log-domain score
    orders items without rescoring.
    """
    scores = hot_scores(
        (click for click in clicks_until if click.ts <= now),
        half_life_hours,
        weights,
        dedupe_window_seconds=dedupe_window_seconds,
    )
    return sorted(scores, key=lambda item: (-scores[item], item))


def hot_ranker(
    half_life_hours: float,
    weights: Mapping[str, float] | None = None,
    *,
    dedupe_window_seconds: float = DEDUPE_WINDOW_SECONDS,
) -> Ranker:
    """`hot_ranking` with its parameters fixed, to hand to `evaluate_next_day`."""

    def rank(clicks_until: Sequence[Click], now: float) -> list[int]:
        return hot_ranking(
            clicks_until,
            now,
            half_life_hours,
            weights,
            dedupe_window_seconds=dedupe_window_seconds,
        )

    return rank


def all_time_count(
    clicks_until: Sequence[Click],
    now: float,
    *,
    dedupe_window_seconds: float = DEDUPE_WINDOW_SECONDS,
) -> list[int]:
    """Baseline: items by their number of counted clicks ever (ties by item id).

    It counts the clicks hot counts (same de-duplication), so hot against it measures the
    decay alone; it is hot with an infinite half-life.
    """
    counts = Counter(
        click.item
        for click in dedupe_clicks(clicks_until, dedupe_window_seconds)
        if click.ts <= now
    )
    return sorted(counts, key=lambda item: (-counts[item], item))


def newest(clicks_until: Sequence[Click], now: float) -> list[int]:
    """Baseline: items by the time of their first click, latest first (ties by item id)."""
    first_seen: dict[int, float] = {}
    for click in clicks_until:
        if click.ts <= now and click.ts < first_seen.get(click.item, math.inf):
            first_seen[click.item] = click.ts
    return sorted(first_seen, key=lambda item: (-first_seen[item], item))


def random_ranking(seed: int) -> Ranker:
    """Baseline: the items seen so far in a random order, reproducible for a seed and `now`."""

    def rank(clicks_until: Sequence[Click], now: float) -> list[int]:
        items = sorted({click.item for click in clicks_until if click.ts <= now})
        # Not security: a reproducible shuffle for a baseline.
        random.Random(f"{seed}:{now!r}").shuffle(items)  # noqa: S311
        return items

    return rank


def evaluate_next_day(
    clicks: Sequence[Click],
    ranker: Ranker,
    k: int = 20,
    *,
    recall_k: int = 50,
    min_next_day_clicks: int = 1,
) -> Evaluation:
    """Rank from the clicks up to the end of each UTC day d and score against day d+1.

    Relevance of an item is its number of clicks on d+1 (all of them, repeats included:
    that is the traffic the ranking should have anticipated). Days whose next day has
    fewer than `min_next_day_clicks` clicks are not scored (a log's last day is often a
    sliver of sessions running past midnight). Means are 0.0 when no day is scored.
    """
    ordered = sorted(clicks, key=lambda click: click.ts)
    times = [click.ts for click in ordered]
    days = split_days(ordered)
    scores: list[DayScore] = []
    for day in days:
        next_day = days.get(day + 1)
        if next_day is None or len(next_day) < max(min_next_day_clicks, 1):
            continue
        end = (day + 1) * SECONDS_PER_DAY
        history = ordered[: bisect_left(times, end)]
        ranked = ranker(history, float(end))
        relevance: Counter[int] = Counter(click.item for click in next_day)
        grades = {item: float(count) for item, count in relevance.items()}
        scores.append(
            DayScore(
                day=day_label(day),
                ndcg=ndcg_at_k(ranked, grades, k),
                recall=recall_at_k(ranked, set(relevance), recall_k),
                next_day_clicks=len(next_day),
                next_day_items=len(relevance),
            )
        )
    count = len(scores)
    return Evaluation(
        k=k,
        recall_k=recall_k,
        ndcg=sum(score.ndcg for score in scores) / count if count else 0.0,
        recall=sum(score.recall for score in scores) / count if count else 0.0,
        days=tuple(scores),
    )


def tune_half_life(
    clicks: Sequence[Click],
    candidates: Iterable[float],
    *,
    k: int = 20,
    recall_k: int = 50,
    weights: Mapping[str, float] | None = None,
    dedupe_window_seconds: float = DEDUPE_WINDOW_SECONDS,
    min_next_day_clicks: int = 1,
) -> list[TuningRow]:
    """Next-day NDCG@k and recall@recall_k of the hot ranking for each half-life (hours)."""
    table: list[TuningRow] = []
    for half_life in candidates:
        result = evaluate_next_day(
            clicks,
            hot_ranker(half_life, weights, dedupe_window_seconds=dedupe_window_seconds),
            k,
            recall_k=recall_k,
            min_next_day_clicks=min_next_day_clicks,
        )
        table.append(TuningRow(half_life, result.ndcg, result.recall))
    return table


def best_half_life(table: Sequence[TuningRow]) -> TuningRow:
    """The row with the highest NDCG (the first of equals, so list candidates by preference)."""
    if not table:
        raise ValueError("no half-life was evaluated")
    return max(table, key=lambda row: row.ndcg)
