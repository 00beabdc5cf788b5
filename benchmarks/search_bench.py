"""Search relevance, latency and rebuild time of the embedded engine, side by side in one run
with a PostgreSQL full-text baseline (`search_baseline.py`) on the same catalog and queries.

    .venv/bin/python benchmarks/search_bench.py \\
        --postgres postgresql+psycopg2://postgres@127.0.0.1:5432/search_bench \\
        [--data ../shared/data] [--sizes 100000,1000000] [--queries 2000] [--skip-api]

- relevance: the real Taobao titles of `taobao-titles/` indexed as goods; queries are
  product-type and brand entities, sub-words of product types, and pinyin of both; NDCG@10
  and recall@50 of the engine and of the baseline.
- latency_<size>: generated goods (the demo generator); a fixed sample of real shopper
  queries (`multicpr-queries/`); p50/p99 of the engine alone, of the engine with the API's
  facets, of the HTTP API under 16 concurrent clients, and of the baseline.
- rebuild: a full rebuild of the largest size against the baseline's load and indexing.

The JSON document goes to stdout, a short table and progress to stderr. The PostgreSQL
database given is wiped of the baseline's table (and created if missing). Everything runs
on this machine: the API's clients, its server and PostgreSQL share the same cores.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx2
import rjieba
import search_baseline
from measure import PROJECT_ROOT, api_server, percentile, say
from pypinyin import lazy_pinyin
from search_baseline import BaselineGoods, PostgresBaseline
from sqlalchemy import select
from wrk_load import wrk_available, wrk_load

from catalog.categories.models import Category
from catalog.db import make_engine, make_session_factory
from catalog.seed.listings import generate_listings
from indexer import analysis
from indexer.analysis import is_cjk, normalize
from indexer.documents import CategoryPaths, GoodsDocument
from indexer.embedded import EmbeddedEngine
from indexer.engine import SearchRequest
from indexer.search import GoodsQuery, search_goods

DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "data"
SEED = 20240601
RELEVANCE_QUERIES = 600
API_CLIENTS = 16
API_PROCESSES = 2  # `serve --workers`: one per core of the build machine
API_SECONDS = 10.0
RATE = "searches_per_second"  # the rate's key in every latency row of the report
WARMUP_QUERIES = 200
# The API refuses longer queries (q max_length=100); the engine cuts at 200 anyway.
MAX_QUERY_CHARS = 100
# A fixed clock for generated goods, so reruns index identical documents.
GENERATED_AT = 1_717_200_000
TARGETS = {
    "goods": 1_000_000,
    "engine_p99_ms": 5.0,
    "api_p99_ms_16_clients": 25.0,
    "p99_times_lower_than_baseline": 20.0,
    "rebuild_seconds": 90.0,
}
# Settings that would point the server at another store or engine than the benchmark's.
_FOREIGN_ENV = (
    "DATABASE_URL",
    "MEDIA_ROOT",
    "SEARCH_ROOT",
    "MEILI_URL",
    "MEILI_MASTER_KEY",
    "MEILI_INDEX",
    "REDIS_URL",
)


# -- figures -------------------------------------------------------------------------------


def latency_figures(latencies_ms: Sequence[float], seconds: float) -> dict[str, float]:
    return {
        "requests": len(latencies_ms),
        "p50_ms": round(percentile(latencies_ms, 0.50), 3),
        "p99_ms": round(percentile(latencies_ms, 0.99), 3),
        "mean_ms": round(statistics.fmean(latencies_ms), 3),
        "max_ms": round(max(latencies_ms), 3),
        "searches_per_second": round(len(latencies_ms) / seconds, 1),
    }


def ndcg_at_10(ranked: Sequence[int], relevant: set[int]) -> float:
    """Binary-relevance NDCG@10: DCG with log2(rank + 1), ideal DCG from min(|relevant|, 10)."""
    dcg = sum(
        1.0 / math.log2(rank + 1)
        for rank, item in enumerate(ranked[:10], start=1)
        if item in relevant
    )
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(relevant), 10) + 1))
    return dcg / ideal if ideal else 0.0


def recall_at_50(ranked: Sequence[int], relevant: set[int]) -> float:
    return len(set(ranked[:50]) & relevant) / len(relevant) if relevant else 0.0


# -- relevance -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RelevanceQuery:
    text: str
    relevant: frozenset[int]
    kind: str  # HCCX or HPPX: the type most of its annotations have


def _is_chinese(text: str) -> bool:
    return bool(text) and all(is_cjk(char) for char in text)


def load_titles(folder: Path) -> list[tuple[str, list[tuple[str, str]]]]:
    """(title, [(entity type, normalized entity text)]) of train.jsonl then dev.jsonl."""
    titles = []
    for name in ("train.jsonl", "dev.jsonl"):
        with (folder / name).open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    row = json.loads(line)
                    entities = [
                        (entity["type"], normalize(entity["text"]).strip())
                        for entity in row["entities"]
                    ]
                    titles.append((row["title"], [(t, x) for t, x in entities if x]))
    return titles


def relevance_query_sets(
    titles: list[tuple[str, list[tuple[str, str]]]], rng_seed: int, size: int
) -> tuple[dict[str, list[RelevanceQuery]], dict[str, Any]]:
    """The query sets and the definitions that produced them (ids are 1-based title lines)."""
    annotated: dict[str, set[int]] = defaultdict(set)
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    product_types: dict[str, set[int]] = defaultdict(set)
    for goods_id, (_, entities) in enumerate(titles, start=1):
        for kind, text in entities:
            if kind in ("HCCX", "HPPX"):
                annotated[text].add(goods_id)
                kinds[text][kind] += 1
            if kind == "HCCX":
                product_types[text].add(goods_id)
    entity_pool = {text: ids for text, ids in annotated.items() if len(ids) >= 2}

    def sample(pool: dict[str, set[int]], label: Callable[[str], str]) -> list[RelevanceQuery]:
        chosen = random.Random(rng_seed).sample(sorted(pool), min(size, len(pool)))
        return [RelevanceQuery(text, frozenset(pool[text]), label(text)) for text in chosen]

    def majority(text: str) -> str:
        return kinds[text].most_common(1)[0][0] if text in kinds else "HCCX"

    # Sub-words: a 2-character prefix (else suffix) of a 3+ character Chinese product type
    # that jieba's search mode itself cuts out of it (双肩包 → 双肩), so it is a word.
    subwords: dict[str, set[int]] = {}
    for text in sorted(product_types):
        if len(text) < 3 or not _is_chinese(text):
            continue
        cut = set(rjieba.cut_for_search(text))
        part = text[:2] if text[:2] in cut else text[-2:] if text[-2:] in cut else None
        if part is None or part in subwords:
            continue
        subwords[part] = {i for other, ids in product_types.items() if part in other for i in ids}
    subword_pool = {part: ids for part, ids in subwords.items() if len(ids) >= 2}

    # Pinyin: the full pinyin of Chinese entities; homophones pool their titles.
    spelled: dict[str, set[int]] = defaultdict(set)
    spelled_kinds: dict[str, str] = {}
    for text, ids in entity_pool.items():
        if _is_chinese(text):
            pinyin = "".join(lazy_pinyin(text))
            spelled[pinyin] |= ids
            spelled_kinds.setdefault(pinyin, majority(text))

    entity = sample(entity_pool, majority)
    sets = {
        "entity": entity,
        "entity_hccx": [q for q in entity if q.kind == "HCCX"],
        "entity_hppx": [q for q in entity if q.kind == "HPPX"],
        "subword": sample(subword_pool, lambda _: "HCCX"),
        "pinyin": sample(dict(spelled), lambda text: spelled_kinds[text]),
    }
    definitions = {
        "catalog": f"{len(titles)} titles of train.jsonl + dev.jsonl, ids 1..{len(titles)} "
        "in file order; no description, no category, hot_score 0",
        "entity": "distinct HCCX/HPPX entity texts (NFKC, lowercased) annotating >= 2 titles; "
        "relevant = titles annotated with that text as HCCX or HPPX; "
        f"pool {len(entity_pool)}, sample {len(entity)} (seed {rng_seed})",
        "entity_hccx / entity_hppx": "the entity sample split by the type most of the "
        "text's annotations have",
        "subword": "for each Chinese HCCX text of 3+ chars, its first 2 chars if jieba "
        "search mode cuts them out of the text, else its last 2 chars if it does, else none; "
        "relevant = titles annotated with any HCCX text containing those 2 chars; "
        f">= 2 relevant; pool {len(subword_pool)}, sample {len(sets['subword'])}",
        "pinyin": "pypinyin lazy_pinyin joined, of the pure-Chinese texts of the entity pool; "
        "relevant = titles annotated with any entity spelled that way; "
        f"pool {len(spelled)}, sample {len(sets['pinyin'])}",
        "metrics": "binary relevance; NDCG@10 with DCG = sum rel_i / log2(i + 1), ideal DCG "
        "over min(|relevant|, 10); recall@50 = |top 50 ∩ relevant| / |relevant| "
        "(recall_ceiling = mean of min(|relevant|, 50) / |relevant|)",
    }
    return sets, definitions


def _relevance_documents(titles: list[tuple[str, list[tuple[str, str]]]]) -> list[GoodsDocument]:
    return [
        GoodsDocument(
            id=goods_id,
            version=1,
            title=title,
            description="",
            category_id=0,
            category_ids=(),
            category_names=(),
            price=100,
            condition="99新",
            city="上海",
            seller_id=1,
            photo=None,
            published_at=GENERATED_AT,
            hot_score=0.0,
        )
        for goods_id, (title, _) in enumerate(titles, start=1)
    ]


def _score(
    queries: list[RelevanceQuery], run: Callable[[str], list[int]]
) -> tuple[dict[str, float], list[float]]:
    ndcgs, recalls, ceilings, empty = [], [], [], 0
    for query in queries:
        ranked = run(query.text)
        empty += not ranked
        ndcgs.append(ndcg_at_10(ranked, set(query.relevant)))
        recalls.append(recall_at_50(ranked, set(query.relevant)))
        ceilings.append(min(len(query.relevant), 50) / len(query.relevant))
    figures = {
        "ndcg@10": round(statistics.fmean(ndcgs), 4) if ndcgs else float("nan"),
        "recall@50": round(statistics.fmean(recalls), 4) if recalls else float("nan"),
        "recall_ceiling": round(statistics.fmean(ceilings), 4) if ceilings else float("nan"),
        "no_results": empty,
    }
    return figures, ndcgs


def _annotation_coverage(
    titles: list[tuple[str, list[tuple[str, str]]]], queries: list[RelevanceQuery]
) -> dict[str, float]:
    """How many titles literally containing an entity text are annotated with it: the rest
    count as irrelevant for both systems."""
    lowered = [normalize(title) for title, _ in titles]
    shares = []
    for query in queries:
        containing = sum(query.text in title for title in lowered)
        if containing:
            shares.append(len(query.relevant) / containing)
    return {
        "mean_annotated_share_of_titles_containing_text": round(statistics.fmean(shares), 4),
        "queries_measured": len(shares),
    }


def run_relevance(
    data: Path, baseline: PostgresBaseline, folder: Path, rng_seed: int
) -> dict[str, Any]:
    titles = load_titles(data / "taobao-titles")
    sets, definitions = relevance_query_sets(titles, rng_seed, RELEVANCE_QUERIES)
    say(f"relevance: {len(titles)} titles, query sets " + str({k: len(v) for k, v in sets.items()}))
    engine = EmbeddedEngine(folder / "relevance-search")
    documents = _relevance_documents(titles)
    for _ in engine.rebuild(iter(documents)):
        pass
    baseline.load(
        BaselineGoods(d.id, d.title, d.category_id, d.price, d.condition, d.city, 0, 0.0)
        for d in documents
    )
    stage_counts: dict[str, Counter[str]] = defaultdict(Counter)

    def engine_ids(text: str) -> list[int]:
        return [hit.document.id for hit in engine.search(SearchRequest(query=text, limit=50)).hits]

    results: dict[str, Any] = {}
    for name, queries in sets.items():

        def baseline_ids(text: str, name: str = name) -> list[int]:
            page = baseline.search(text, limit=50)
            stage_counts[name][page.stage] += 1
            return page.ids

        engine_figures, engine_ndcg = _score(queries, engine_ids)
        baseline_figures, baseline_ndcg = _score(queries, baseline_ids)
        pairs = list(zip(engine_ndcg, baseline_ndcg, strict=True))
        results[name] = {
            "queries": len(queries),
            "engine": engine_figures,
            "baseline": {**baseline_figures, "steps_used": dict(stage_counts[name])},
            "ndcg@10_per_query": {
                "engine_better": sum(e > b + 1e-9 for e, b in pairs),
                "baseline_better": sum(b > e + 1e-9 for e, b in pairs),
                "tied": sum(abs(e - b) <= 1e-9 for e, b in pairs),
            },
            "engine_beats_baseline": engine_figures["ndcg@10"] > baseline_figures["ndcg@10"]
            and engine_figures["recall@50"] > baseline_figures["recall@50"],
            "examples": [q.text for q in queries[:8]],
        }
        say(
            f"relevance {name}: engine ndcg {engine_figures['ndcg@10']:.3f} "
            f"recall {engine_figures['recall@50']:.3f} | baseline ndcg "
            f"{baseline_figures['ndcg@10']:.3f} recall {baseline_figures['recall@50']:.3f}"
        )
    return {
        "definitions": definitions,
        "annotation_coverage": _annotation_coverage(titles, sets["entity"]),
        "query_sets": results,
    }


# -- the generated catalog -----------------------------------------------------------------


def _server_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key.upper() not in _FOREIGN_ENV}
    env["IDLEMARKET_HOME"] = str(home)
    return env


def prepare_home(home: Path) -> dict[str, tuple[tuple[int, ...], tuple[str, ...]]]:
    """A migrated SQLite store with the category tree, as the server needs it; returns
    category slug → (ids up to the root, names up to the root)."""
    home.mkdir(parents=True, exist_ok=True)
    env = _server_env(home)
    subprocess.run(
        [sys.executable, "-m", "api", "db", "upgrade"],
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    script = (
        "from catalog.db import make_engine, make_session_factory, unit_of_work\n"
        "from catalog.seed.taxonomy import ensure_categories\n"
        "from catalog.settings import get_settings\n"
        "factory = make_session_factory(make_engine(get_settings().resolved_database_url()))\n"
        "with unit_of_work(factory) as session:\n"
        "    ensure_categories(session)\n"
    )
    subprocess.run([sys.executable, "-c", script], env=env, cwd=PROJECT_ROOT, check=True)
    engine = make_engine(f"sqlite:///{home / 'idlemarket.db'}")
    try:
        with make_session_factory(engine)() as session:
            paths = CategoryPaths(session)
            slugs = session.execute(select(Category.slug, Category.id)).all()
            return {slug: paths.of(category_id) for slug, category_id in slugs}
    finally:
        engine.dispose()


def generate_documents(
    count: int, categories: dict[str, tuple[tuple[int, ...], tuple[str, ...]]], rng_seed: int
) -> list[GoodsDocument]:
    """`count` goods of the demo generator as documents, ids 1..count."""
    extra = random.Random(rng_seed + 1)
    documents = []
    for goods_id, draft in enumerate(generate_listings(random.Random(rng_seed), count), start=1):
        ids, names = categories[draft.category_slug]
        documents.append(
            GoodsDocument(
                id=goods_id,
                version=1,
                title=draft.title,
                description=draft.description,
                category_id=ids[0],
                category_ids=ids,
                category_names=names,
                price=draft.price,
                condition=draft.condition.value,
                city=draft.city,
                # A few sellers list a lot; most list a handful (as the demo seed does).
                seller_id=1 + int(5_000 * extra.random() ** 1.3),
                photo=None,
                published_at=GENERATED_AT - int(extra.uniform(0, 30 * 86_400)),
                # Most goods are cold; some are watched and a few are hot.
                hot_score=round(extra.expovariate(1.0) ** 2, 3) if extra.random() < 0.3 else 0.0,
            )
        )
    return documents


def _clear_analysis_caches() -> None:
    # Both builds segment the same titles; neither may start with the other's warm caches.
    analysis._search_words.cache_clear()
    analysis._pinyin_forms.cache_clear()
    analysis.pinyin_of.cache_clear()


def load_queries(data: Path, count: int, rng_seed: int) -> list[str]:
    path = data / "multicpr-queries" / "train.query.tsv"
    queries = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            _, _, query = line.rstrip("\n").partition("\t")
            query = query.strip()
            if query and len(query) <= MAX_QUERY_CHARS:
                queries.append(query)
    return random.Random(rng_seed).sample(queries, min(count, len(queries)))


def _timed(
    run: Callable[[str], object],
    queries: Sequence[str],
    *,
    after_warmup: Callable[[], None] | None = None,
) -> dict[str, float]:
    for query in queries[:WARMUP_QUERIES]:
        run(query)
    if after_warmup is not None:
        after_warmup()
    latencies = []
    started = time.perf_counter()
    for query in queries:
        begun = time.perf_counter()
        run(query)
        latencies.append((time.perf_counter() - begun) * 1000)
    return latency_figures(latencies, time.perf_counter() - started)


# -- the HTTP API --------------------------------------------------------------------------


def api_load(base: str, queries: Sequence[str], clients: int) -> dict[str, Any]:
    """Every query once, taken in turn by `clients` threads with keep-alive connections."""
    position = [0]
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    def next_query() -> str | None:
        with lock:
            if position[0] >= len(queries):
                return None
            position[0] += 1
            return queries[position[0] - 1]

    def worker() -> None:
        local: list[float] = []
        seen: Counter[int] = Counter()
        with httpx2.Client(base_url=base, timeout=60) as http:
            while (query := next_query()) is not None:
                begun = time.perf_counter()
                response = http.get("/api/v1/search", params={"q": query})
                local.append((time.perf_counter() - begun) * 1000)
                seen[response.status_code] += 1
        with lock:
            latencies.extend(local)
            statuses.update(seen)

    # Warm-up: the server's first searches load jieba's dictionary and the category cache.
    with httpx2.Client(base_url=base, timeout=60) as http:
        for query in queries[:WARMUP_QUERIES]:
            http.get("/api/v1/search", params={"q": query})
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    figures: dict[str, Any] = latency_figures(latencies, time.perf_counter() - started)
    figures["clients"] = clients
    figures["statuses"] = {str(code): n for code, n in sorted(statuses.items())}
    return figures


def measure_api(home: Path, queries: Sequence[str]) -> dict[str, Any]:
    """The API under `API_CLIENTS` concurrent clients against one server process and against
    `API_PROCESSES` (`serve --workers`, one per core), and with one client (what a request
    costs without queueing).

    The clients are `wrk`'s connections when it is installed: a C load generator takes
    about 5% of a core at these rates, where 16 Python threads took about half the machine
    from the server. Without it, Python threads against one process, as before.
    """
    targets = ["/api/v1/search?" + urlencode({"q": query}) for query in queries]
    if not wrk_available():
        say("wrk is not installed (apt-get install wrk): Python client threads instead")
        with api_server(_server_env(home)) as (_, base):
            concurrent = api_load(base, queries, API_CLIENTS)
            alone = api_load(base, queries, 1)
        concurrent["load"] = f"{API_CLIENTS} Python threads, one server process"
        return {"api": concurrent, "api_1_client": alone}
    section: dict[str, Any] = {}
    for processes in (1, API_PROCESSES):
        with api_server(_server_env(home), workers=processes) as (_, base):
            # Every process answers some warm-up searches: a connection stays on one.
            wrk_load(base, targets[:WARMUP_QUERIES], connections=API_CLIENTS, seconds=3)
            figures = wrk_load(base, targets, connections=API_CLIENTS, seconds=API_SECONDS).as_dict(
                rate_key=RATE
            )
            figures["load"] = f"wrk, {API_CLIENTS} connections, {processes} server process(es)"
            section["api" if processes == API_PROCESSES else "api_1_process"] = figures
            if processes == 1:
                section["api_1_client"] = wrk_load(
                    base, targets, connections=1, seconds=API_SECONDS
                ).as_dict(rate_key=RATE)
    return section


# -- one catalog size ----------------------------------------------------------------------


def _directory_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def run_size(
    size: int,
    *,
    home: Path,
    categories: dict[str, tuple[tuple[int, ...], tuple[str, ...]]],
    baseline: PostgresBaseline,
    queries: list[str],
    skip_api: bool,
    rng_seed: int,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The latency section of one size and its build figures."""
    say(f"{size:,} goods: generating")
    started = time.perf_counter()
    documents = generate_documents(size, categories, rng_seed)
    generated = time.perf_counter() - started

    say(f"{size:,} goods: engine rebuild")
    engine = EmbeddedEngine(home / "search")
    _clear_analysis_caches()
    started = time.perf_counter()
    for _ in engine.rebuild(iter(documents)):
        pass
    engine_seconds = time.perf_counter() - started
    indexed = engine.count()
    say(f"{size:,} goods: engine rebuilt in {engine_seconds:.1f} s ({indexed:,} documents)")

    say(f"{size:,} goods: baseline load")
    _clear_analysis_caches()
    load = baseline.load(
        BaselineGoods(
            d.id, d.title, d.category_id, d.price, d.condition, d.city, d.published_at, d.hot_score
        )
        for d in documents
    )
    say(f"{size:,} goods: baseline loaded in {load.total_seconds:.1f} s")
    del documents

    build = {
        "goods": size,
        "generate_documents_seconds": round(generated, 1),
        "engine_rebuild_seconds": round(engine_seconds, 1),
        "engine_documents": indexed,
        "engine_index_bytes": _directory_bytes(home / "search"),
        "baseline_load": {
            "segment_and_copy_seconds": round(load.segment_and_copy_seconds, 1),
            "index_and_analyze_seconds": round(load.index_seconds, 1),
            "total_seconds": round(load.total_seconds, 1),
            "rows": load.rows,
            "table_bytes": load.table_bytes,
            "index_bytes": load.index_bytes,
        },
    }

    section: dict[str, Any] = {"goods": size, "queries": len(queries)}
    say(f"{size:,} goods: engine search")
    section["engine_search"] = _timed(
        lambda q: engine.search(SearchRequest(query=q, limit=20)), queries
    )
    say(f"{size:,} goods: engine search with facets")
    section["engine_search_facets"] = _timed(
        lambda q: search_goods(engine, GoodsQuery(q=q)), queries
    )
    say(f"{size:,} goods: baseline search")
    steps: Counter[str] = Counter()

    def baseline_search(query: str) -> None:
        steps[baseline.search(query, limit=20).stage] += 1

    section["baseline_search"] = _timed(baseline_search, queries, after_warmup=steps.clear)
    section["baseline_search"]["steps_used"] = dict(steps)
    say(f"{size:,} goods: baseline search with facets")
    section["baseline_search_facets"] = _timed(
        lambda q: baseline.search_with_facets(q, limit=20), queries
    )
    if skip_api:
        section["api"] = section["api_1_client"] = None
    else:
        say(f"{size:,} goods: HTTP API, {API_CLIENTS} clients")
        section.update(measure_api(home, queries))
    section["results_agree"] = _overlap(engine, baseline, queries[:200])
    section["ratios"] = _ratios(section)
    return section, build


def _overlap(
    engine: EmbeddedEngine, baseline: PostgresBaseline, queries: Sequence[str]
) -> dict[str, int]:
    """How often the two find anything, and their totals, on a few queries (a sanity check
    that both search the same catalog, not a quality measure)."""
    both = engine_only = baseline_only = 0
    for query in queries:
        found_engine = bool(engine.search(SearchRequest(query=query, limit=1)).hits)
        found_baseline = bool(baseline.search(query, limit=1).ids)
        both += found_engine and found_baseline
        engine_only += found_engine and not found_baseline
        baseline_only += found_baseline and not found_engine
    return {
        "queries": len(queries),
        "both_find_something": both,
        "only_engine_finds_something": engine_only,
        "only_baseline_finds_something": baseline_only,
    }


def _ratios(section: dict[str, Any]) -> dict[str, float]:
    def ratio(a: str, b: str) -> float:
        return round(float(section[a]["p99_ms"]) / float(section[b]["p99_ms"]), 4)

    return {
        "engine_p99_over_baseline_p99": ratio("engine_search", "baseline_search"),
        "engine_facets_p99_over_baseline_facets_p99": ratio(
            "engine_search_facets", "baseline_search_facets"
        ),
    }


def _targets(section: dict[str, Any], build: dict[str, Any] | None) -> dict[str, Any]:
    api = section.get("api")
    lower = TARGETS["p99_times_lower_than_baseline"]
    checks: dict[str, Any] = {
        "engine_p99_ms <= 5": section["engine_search"]["p99_ms"] <= TARGETS["engine_p99_ms"],
        "engine_with_facets_p99_ms <= 5": section["engine_search_facets"]["p99_ms"]
        <= TARGETS["engine_p99_ms"],
        "api_p99_ms <= 25 at 16 clients": None
        if api is None
        else api["p99_ms"] <= TARGETS["api_p99_ms_16_clients"],
        "engine p99 >= 20x lower than baseline (search only)": section["ratios"][
            "engine_p99_over_baseline_p99"
        ]
        <= 1 / lower,
        "engine p99 >= 20x lower than baseline (with facets)": section["ratios"][
            "engine_facets_p99_over_baseline_facets_p99"
        ]
        <= 1 / lower,
    }
    if build is not None:
        checks["rebuild <= 90 s"] = build["engine_rebuild_seconds"] <= TARGETS["rebuild_seconds"]
    return checks


# -- output --------------------------------------------------------------------------------


def human_table(report: dict[str, Any]) -> str:
    lines = []
    relevance = report.get("relevance")
    if relevance:
        lines.append(
            f"{'relevance':<14} {'n':>4} {'engine ndcg@10':>15} {'base ndcg@10':>13} "
            f"{'engine r@50':>12} {'base r@50':>10}"
        )
        for name, row in relevance["query_sets"].items():
            lines.append(
                f"{name:<14} {row['queries']:>4} {row['engine']['ndcg@10']:>15.3f} "
                f"{row['baseline']['ndcg@10']:>13.3f} {row['engine']['recall@50']:>12.3f} "
                f"{row['baseline']['recall@50']:>10.3f}"
            )
    for key, section in report.items():
        if not key.startswith("latency_"):
            continue
        lines.append("")
        lines.append(f"{key} ({section['goods']:,} goods, {section['queries']} queries)")
        lines.append(f"{'':<26} {'p50 ms':>8} {'p99 ms':>8} {'per s':>8}")
        for name in (
            "engine_search",
            "engine_search_facets",
            "api",
            "api_1_process",
            "api_1_client",
            "baseline_search",
            "baseline_search_facets",
        ):
            row = section.get(name)
            if row:
                lines.append(
                    f"{name:<26} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} "
                    f"{row['searches_per_second']:>8.0f}"
                )
    rebuild = report.get("rebuild")
    if rebuild:
        lines.append("")
        lines.append(
            f"rebuild {rebuild['goods']:,} goods: engine {rebuild['engine_rebuild_seconds']} s, "
            f"baseline load+index {rebuild['baseline_load']['total_seconds']} s"
        )
    return "\n".join(lines)


def parse_sizes(text: str) -> list[int]:
    sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError("sizes are positive integers")
    return sizes


def size_label(size: int) -> str:
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    if size % 1_000 == 0:
        return f"{size // 1_000}k"
    return str(size)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sizes", type=parse_sizes, default=[100_000, 1_000_000])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", ""),
        help="PostgreSQL URL for the baseline (its baseline table is wiped)",
    )
    parser.add_argument("--queries", type=int, default=2_000, help="latency queries")
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--skip-relevance", action="store_true")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(list(argv) if argv is not None else None)

    data: Path = args.data.resolve()
    missing = [
        data / name
        for name in (
            "taobao-titles/train.jsonl",
            "taobao-titles/dev.jsonl",
            "multicpr-queries/train.query.tsv",
        )
        if not (data / name).is_file()
    ]
    if missing:
        print(
            "search_bench: the real data is not here: "
            + ", ".join(str(path) for path in missing)
            + "\n(pass --data PATH to the folder holding taobao-titles/ and multicpr-queries/)",
            file=sys.stderr,
        )
        return 2
    if not args.postgres:
        print(
            "search_bench: --postgres URL is required for the baseline, e.g. "
            "postgresql+psycopg2://postgres@127.0.0.1:5432/search_bench",
            file=sys.stderr,
        )
        return 2

    baseline = PostgresBaseline(args.postgres)
    report: dict[str, Any] = {
        "machine": {"cpu_count": os.cpu_count(), "python": sys.version.split()[0]},
        "baseline": {
            "description": (search_baseline.__doc__ or "").strip(),
            "postgres": baseline.settings(),
        },
        "seed": args.seed,
    }
    if not baseline.has_trigram:
        say("pg_trgm is not available: the baseline runs without its trigram step")
    try:
        with tempfile.TemporaryDirectory(prefix="search-bench-") as folder:
            root = Path(folder)
            if not args.skip_relevance:
                report["relevance"] = run_relevance(data, baseline, root, args.seed)
            queries = load_queries(data, args.queries, args.seed)
            home = root / "home"
            categories = prepare_home(home) if args.sizes else {}
            builds = []
            for size in args.sizes:
                section, build = run_size(
                    size,
                    home=home,
                    categories=categories,
                    baseline=baseline,
                    queries=queries,
                    skip_api=args.skip_api,
                    rng_seed=args.seed,
                )
                section["build"] = build
                if size >= TARGETS["goods"]:
                    section["targets_met"] = _targets(section, build)
                report[f"latency_{size_label(size)}"] = section
                builds.append(build)
            if builds:
                largest = max(builds, key=lambda build: build["goods"])
                report["rebuild"] = {
                    **largest,
                    "target_seconds": TARGETS["rebuild_seconds"],
                    "target_goods": TARGETS["goods"],
                    "engine_meets_target": largest["goods"] >= TARGETS["goods"]
                    and largest["engine_rebuild_seconds"] <= TARGETS["rebuild_seconds"],
                    "note": "documents generated in memory beforehand (not timed); the engine "
                    "time is analysis + indexing + commit + merge; the baseline time is "
                    "segmentation + COPY (tsvector generated column) + primary key, GIN "
                    "tsvector and GIN trigram indexes + VACUUM ANALYZE",
                }
    finally:
        baseline.close()
    print(json.dumps(report, ensure_ascii=False, indent=2))
    print(human_table(report), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
