"""Hot ranking against its baselines on a real click log, next-day protocol.

    .venv/bin/python benchmarks/ranking_bench.py [--data ../shared/data] [--seed 0]

From the clicks up to the end of each UTC day of `yoochoose-100k/clicks_train_full.tsv`,
rank the items; score against the next day's clicks (relevance = an item's number of
next-day clicks): NDCG@20 and recall@50, averaged over the days (`ranking.offline`).

- half_life_sweep: the hot ranking (production de-duplication window) per half-life;
- rankers: the tuned hot (the sweep's best half-life, named) and the three baselines
  (all-time count, newest first-seen, random), all on the same days;
- held_out: the same comparison with the half-life chosen on the first days only and
  scored on the remaining ones, so the tuned figure is not only a fit to its own days.

The JSON document goes to stdout, a short table to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ranking.offline import (
    DEDUPE_WINDOW_SECONDS,
    Click,
    Evaluation,
    Ranker,
    all_time_count,
    best_half_life,
    day_label,
    evaluate_next_day,
    hot_ranker,
    load_clicks,
    newest,
    random_ranking,
    tune_half_life,
    utc_day,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "data"
CLICKS = Path("yoochoose-100k") / "clicks_train_full.tsv"
K = 20
RECALL_K = 50
HALF_LIVES = (0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 12.0, 16.0, 24.0, 48.0, 96.0, 168.0)
# The sample's last "day" is 22 clicks of sessions running past midnight of 2014-04-06.
MIN_NEXT_DAY_CLICKS = 1000
HELD_OUT_DAYS = 2


def rankers(half_life: float, seed: int) -> dict[str, Ranker]:
    return {
        "hot": hot_ranker(half_life),
        "all_time_count": all_time_count,
        "newest": newest,
        "random": random_ranking(seed),
    }


def scores(result: Evaluation) -> dict[str, Any]:
    return {
        f"ndcg_at_{result.k}": round(result.ndcg, 4),
        f"recall_at_{result.recall_k}": round(result.recall, 4),
        "days": [
            {
                "day": day.day,
                f"ndcg_at_{result.k}": round(day.ndcg, 4),
                "recall": round(day.recall, 4),
            }
            for day in result.days
        ],
    }


def held_out(clicks: Sequence[Click], seed: int) -> dict[str, Any]:
    """Choose the half-life on the first scored days, compare on the last HELD_OUT_DAYS."""
    everything = evaluate_next_day(clicks, all_time_count, min_next_day_clicks=MIN_NEXT_DAY_CLICKS)
    scored = [day.day for day in everything.days]
    tuning_days, test_days = scored[:-HELD_OUT_DAYS], scored[-HELD_OUT_DAYS:]
    # Up to the end of the first test day: the tuning scores its days and never sees a next
    # day of the test (ISO dates order as strings).
    tuning_clicks = [click for click in clicks if day_label(utc_day(click.ts)) <= test_days[0]]
    table = tune_half_life(tuning_clicks, HALF_LIVES, min_next_day_clicks=MIN_NEXT_DAY_CLICKS)
    chosen = best_half_life(table).half_life_hours
    result: dict[str, Any] = {
        "tuned_on_days": tuning_days,
        "scored_on_days": test_days,
        "chosen_half_life_hours": chosen,
        f"ndcg_at_{K}": {},
    }
    for name, ranker in rankers(chosen, seed).items():
        evaluation = evaluate_next_day(clicks, ranker, min_next_day_clicks=MIN_NEXT_DAY_CLICKS)
        test = [day.ndcg for day in evaluation.days if day.day in test_days]
        result[f"ndcg_at_{K}"][name] = round(sum(test) / len(test), 4)
    return result


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random baseline")
    args = parser.parse_args(list(argv) if argv is not None else None)

    path: Path = args.data.resolve() / CLICKS
    if not path.is_file():
        print(
            f"ranking_bench: the click log is not here: {path}\n"
            "(pass --data PATH to the folder holding yoochoose-100k/)",
            file=sys.stderr,
        )
        return 2

    started = time.perf_counter()
    clicks = load_clicks(path)
    sweep = tune_half_life(clicks, HALF_LIVES, min_next_day_clicks=MIN_NEXT_DAY_CLICKS)
    chosen = best_half_life(sweep).half_life_hours
    results = {
        name: evaluate_next_day(clicks, ranker, min_next_day_clicks=MIN_NEXT_DAY_CLICKS)
        for name, ranker in rankers(chosen, args.seed).items()
    }
    # The best recall@50 any ranking could reach: 50 items of the next day's many.
    ceiling = [
        min(RECALL_K, day.next_day_items) / day.next_day_items for day in results["hot"].days
    ]
    report: dict[str, Any] = {
        "data": str(CLICKS),
        "clicks": len(clicks),
        "items": len({click.item for click in clicks}),
        "protocol": (
            "rank from clicks up to the end of each UTC day, score against the next day's "
            f"clicks (graded by count); days whose next day has < {MIN_NEXT_DAY_CLICKS} "
            "clicks are not scored"
        ),
        "days_scored": [day.day for day in results["hot"].days],
        "dedupe_window_seconds": DEDUPE_WINDOW_SECONDS,
        "chosen_half_life_hours": chosen,
        "rankers": {name: scores(result) for name, result in results.items()},
        f"recall_at_{RECALL_K}_ceiling": round(sum(ceiling) / len(ceiling), 4),
        "half_life_sweep": [
            {
                "half_life_hours": row.half_life_hours,
                f"ndcg_at_{K}": round(row.ndcg, 4),
                f"recall_at_{RECALL_K}": round(row.recall, 4),
            }
            for row in sweep
        ],
        "held_out": held_out(clicks, args.seed),
        "random_seed": args.seed,
    }
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2, ensure_ascii=False))

    print(f"hot half-life chosen: {chosen:g} h", file=sys.stderr)
    print(f"{'ranker':<16} NDCG@{K}  recall@{RECALL_K}", file=sys.stderr)
    for name, result in report["rankers"].items():
        ndcg, recall = result[f"ndcg_at_{K}"], result[f"recall_at_{RECALL_K}"]
        print(f"{name:<16} {ndcg:.4f}   {recall:.4f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
