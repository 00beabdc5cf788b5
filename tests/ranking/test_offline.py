"""The offline next-day evaluation of hot ranking, on click logs small enough to check by
hand, and once on the real YOOCHOOSE sample when it is there."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from ranking.hot import hot_at
from ranking.offline import (
    SECONDS_PER_DAY,
    Click,
    all_time_count,
    best_half_life,
    dedupe_clicks,
    evaluate_next_day,
    hot_ranker,
    hot_ranking,
    hot_scores,
    load_clicks,
    newest,
    random_ranking,
    split_days,
    tune_half_life,
)

HOUR = 3600.0
DAY0 = 19_000 * SECONDS_PER_DAY  # 2022-01-08 00:00 UTC
LOG2_3 = math.log2(3)
DATA = Path(
    os.environ.get(
        "IDLEMARKET_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"
    )
)
YOOCHOOSE = DATA / "yoochoose-100k" / "clicks_train_full.tsv"


def clicks(*rows: tuple[int, int, float]) -> list[Click]:
    """Clicks from (session, item, seconds after DAY0)."""
    return [Click(session, item, DAY0 + at) for session, item, at in rows]


def test_load_clicks_reads_the_tsv_in_time_order(tmp_path: Path) -> None:
    path = tmp_path / "clicks.tsv"
    path.write_text(
        "SessionId\tItemId\tTime\n3\t214716935\t1396437466.94\n1\t7\t1396437000\n\n",
        encoding="utf-8",
    )
    assert load_clicks(path) == [
        Click(1, 7, 1396437000.0),
        Click(3, 214716935, 1396437466.94),
    ]
    headless = tmp_path / "headless.tsv"
    headless.write_text("1\t7\t10\n", encoding="utf-8")
    assert load_clicks(headless) == [Click(1, 7, 10.0)]


def test_load_clicks_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "clicks.tsv"
    path.write_text("SessionId\tItemId\tTime\n1\t7\t10\n1\tseven\t11\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"clicks.tsv:3"):
        load_clicks(path)
    path.write_text("1\t7\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"clicks.tsv:1: expected 3"):
        load_clicks(path)


def test_days_are_utc_days() -> None:
    log = clicks((1, 1, 0), (1, 2, SECONDS_PER_DAY - 0.5), (2, 1, SECONDS_PER_DAY))
    days = split_days(log)
    assert list(days) == [19_000, 19_001]
    assert [len(day) for day in days.values()] == [2, 1]


def test_repeated_clicks_of_a_session_within_the_window_count_once() -> None:
    log = clicks((1, 10, 0), (1, 10, 100), (1, 10, 1799), (1, 10, 1800), (2, 10, 100), (1, 11, 50))
    counted = dedupe_clicks(log, 1800)
    assert [(c.session, c.item, c.ts - DAY0) for c in counted] == [
        (1, 10, 0),
        (1, 11, 50),
        (2, 10, 100),
        (1, 10, 1800),  # a full window after the last counted click
    ]
    assert len(dedupe_clicks(log, 0)) == len(log)


def test_hot_score_is_the_decayed_sum_of_clicks() -> None:
    now = DAY0 + 10 * HOUR
    log = clicks((1, 1, 6 * HOUR), (2, 1, 6 * HOUR), (3, 2, 10 * HOUR))
    scores = hot_scores(log, half_life_hours=2)
    # Two clicks two half-lives ago weigh 2 · 1/4; one click now weighs 1.
    assert hot_at(scores[1], now, 2) == pytest.approx(0.5)
    assert hot_at(scores[2], now, 2) == pytest.approx(1.0)
    assert hot_ranking(log, now, half_life_hours=2) == [2, 1]
    # With a long half-life the two older clicks win.
    assert hot_ranking(log, now, half_life_hours=100) == [1, 2]


def test_hot_ranking_does_not_see_the_future_nor_repeated_clicks() -> None:
    log = clicks(
        *[(1, 1, minute * 60.0) for minute in range(10)],  # one session clicking on and on
        (2, 2, 0),
        (3, 2, 0),
        (4, 3, 5 * HOUR),  # after `now`
        (5, 3, 5 * HOUR),
        (6, 3, 5 * HOUR),
    )
    assert hot_ranking(log, DAY0 + HOUR, half_life_hours=24) == [2, 1]
    assert hot_ranking(log, DAY0 + HOUR, 24, dedupe_window_seconds=0) == [1, 2]


def test_click_weight_scales_every_score_alike() -> None:
    log = clicks((1, 1, 0), (2, 1, 0), (3, 2, HOUR), (4, 3, 2 * HOUR))
    now = DAY0 + 3 * HOUR
    order = hot_ranking(log, now, 1)
    assert hot_ranking(log, now, 1, {"click": 7.5}) == order
    assert hot_ranking(log, now, 1, {"click": 0.0}) == []


def test_baselines() -> None:
    log = clicks((1, 5, 0), (2, 5, 10), (1, 5, 20), (3, 4, 30), (4, 6, 40), (5, 4, 50))
    now = DAY0 + HOUR
    # Counts after de-duplication (session 1's second click on 5 is a repeat); ties by id.
    assert all_time_count(log, now) == [4, 5, 6]
    assert newest(log, now) == [6, 4, 5]
    assert newest(log, DAY0 + 35) == [4, 5]
    shuffled = random_ranking(seed=1)(log, now)
    assert sorted(shuffled) == [4, 5, 6]
    assert random_ranking(seed=1)(log, now) == shuffled


def test_random_ranking_depends_on_the_seed() -> None:
    log = clicks(*[(item, item, float(item)) for item in range(30)])
    now = DAY0 + HOUR
    assert random_ranking(1)(log, now) != random_ranking(2)(log, now)


def test_next_day_evaluation_by_hand() -> None:
    log = clicks(
        # day 0: item 1 thrice, item 2 once
        (1, 1, HOUR),
        (2, 1, 2 * HOUR),
        (3, 1, 3 * HOUR),
        (4, 2, 4 * HOUR),
        # day 1: item 2 twice, item 3 once
        (5, 2, SECONDS_PER_DAY + HOUR),
        (6, 2, SECONDS_PER_DAY + 2 * HOUR),
        (7, 3, SECONDS_PER_DAY + 3 * HOUR),
        # day 2: item 1 once
        (8, 1, 2 * SECONDS_PER_DAY + HOUR),
    )
    result = evaluate_next_day(log, all_time_count, k=2, recall_k=2)
    assert [day.day for day in result.days] == ["2022-01-08", "2022-01-09"]
    # Day 0 ranks [1, 2]; day 1 brings 2 (twice) and 3 (once).
    first = (2 / LOG2_3) / (2 + 1 / LOG2_3)
    assert result.days[0].ndcg == pytest.approx(first)
    assert result.days[0].recall == 0.5
    assert (result.days[0].next_day_clicks, result.days[0].next_day_items) == (3, 2)
    # Day 1 ranks [1, 2, 3] (1 and 2 tie at 3 clicks); day 2 brings item 1.
    assert result.days[1].ndcg == 1.0
    assert result.days[1].recall == 1.0
    assert result.ndcg == pytest.approx((first + 1) / 2)
    assert result.recall == 0.75
    # A thin next day is not scored.
    thin = evaluate_next_day(log, all_time_count, k=2, recall_k=2, min_next_day_clicks=2)
    assert [day.day for day in thin.days] == ["2022-01-08"]


def test_rankers_see_exactly_the_clicks_before_the_end_of_the_day() -> None:
    log = clicks((1, 1, 0), (2, 1, SECONDS_PER_DAY - 1), (3, 2, SECONDS_PER_DAY), (4, 3, 3e5))
    calls: list[tuple[int, float]] = []

    def recording(history: Sequence[Click], now: float) -> list[int]:
        calls.append((len(history), now))
        return []

    result = evaluate_next_day(log, recording)
    # Only day 0 is scored: day 1's next day has no clicks and day 3 has no next day.
    assert calls == [(2, DAY0 + SECONDS_PER_DAY)]
    assert [day.ndcg for day in result.days] == [0.0]
    assert evaluate_next_day([], recording).ndcg == 0.0


def test_tuning_prefers_the_half_life_that_anticipates_the_next_day() -> None:
    log = clicks(
        # Early on day 0, item 1 is clicked by five sessions; late that day, 2 by two.
        *[(session, 1, HOUR) for session in range(5)],
        (10, 2, 23 * HOUR),
        (11, 2, 23 * HOUR),
        # Day 1 belongs to item 2.
        *[(20 + session, 2, SECONDS_PER_DAY + HOUR) for session in range(3)],
    )
    table = tune_half_life(log, [1.0, 1000.0], k=1, recall_k=1)
    assert [(row.half_life_hours, row.ndcg, row.recall) for row in table] == [
        (1.0, 1.0, 1.0),
        (1000.0, 0.0, 0.0),
    ]
    assert best_half_life(table).half_life_hours == 1.0
    with pytest.raises(ValueError, match="no half-life"):
        best_half_life([])


def test_tuned_hot_beats_every_baseline_on_the_real_click_log() -> None:
    if not YOOCHOOSE.is_file():
        pytest.skip(f"real data absent: {YOOCHOOSE} (set IDLEMARKET_DATA)")
    log = load_clicks(YOOCHOOSE)
    # The log's last "day" is a few sessions running past midnight: leave it out.
    thin = 1000
    table = tune_half_life(log, [2.0, 4.0, 8.0, 16.0, 48.0], min_next_day_clicks=thin)
    best = best_half_life(table)
    hot = evaluate_next_day(log, hot_ranker(best.half_life_hours), min_next_day_clicks=thin)
    assert hot.ndcg == pytest.approx(best.ndcg)
    assert len(hot.days) == 5
    for baseline in (all_time_count, newest, random_ranking(seed=0)):
        other = evaluate_next_day(log, baseline, min_next_day_clicks=thin)
        assert hot.ndcg > other.ndcg
