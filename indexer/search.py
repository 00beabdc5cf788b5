"""Shopper search over the engine: filters from the page's controls, disjunctive facets,
price statistics, sort and paging. Engine-neutral: runs the same on every adapter."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

from indexer.engine import (
    And,
    AnyOf,
    Eq,
    Filter,
    Hit,
    Range,
    SearchEngine,
    SearchRequest,
    Sort,
)

MAX_RESULTS_WINDOW = 10_000  # page × page size; deeper than this nobody scrolls


class SortOrder(enum.StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    HOT = "hot"


_SORTS = {
    SortOrder.RELEVANCE: None,
    SortOrder.NEWEST: Sort("published_at", descending=True),
    SortOrder.PRICE_ASC: Sort("price", descending=False),
    SortOrder.PRICE_DESC: Sort("price", descending=True),
    SortOrder.HOT: Sort("hot_score", descending=True),
}


@dataclass(frozen=True)
class GoodsQuery:
    q: str = ""
    category_id: int | None = None
    price_min: int | None = None
    price_max: int | None = None
    conditions: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    sort: SortOrder = SortOrder.RELEVANCE
    page: int = 1
    page_size: int = 20


@dataclass(frozen=True)
class GoodsPage:
    hits: list[Hit]
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    price_stats: tuple[int, int] | None = None


# Facet name in the API → the engine field it counts, and the filter clause it undoes.
_FACETS = {"category": "category_id", "condition": "condition", "city": "city"}


def _clauses(query: GoodsQuery) -> dict[str, Filter]:
    clauses: dict[str, Filter] = {}
    if query.category_id is not None:
        clauses["category"] = Eq("category_ids", query.category_id)
    if query.conditions:
        clauses["condition"] = AnyOf("condition", query.conditions)
    if query.cities:
        clauses["city"] = AnyOf("city", query.cities)
    if query.price_min is not None or query.price_max is not None:
        clauses["price"] = Range("price", query.price_min, query.price_max)
    return clauses


def _combined(clauses: dict[str, Filter], without: str | None = None) -> Filter | None:
    parts = tuple(clause for name, clause in clauses.items() if name != without)
    return And(parts) if parts else None


def search_goods(engine: SearchEngine, query: GoodsQuery) -> GoodsPage:
    """One page of results with facet counts in which a facet's own choice is ignored
    (choosing 95新 still shows how many 99新 there are) and price stats ignoring the price
    range (so a slider shows the whole span)."""
    offset = (query.page - 1) * query.page_size
    limit = max(0, min(query.page_size, MAX_RESULTS_WINDOW - offset))
    clauses = _clauses(query)
    # Facets whose own filter is not set count under the full filter: the main search.
    shared = tuple(engine_field for name, engine_field in _FACETS.items() if name not in clauses)
    main = engine.search(
        SearchRequest(
            query=query.q,
            filter=_combined(clauses),
            facets=shared,
            stats=() if "price" in clauses else ("price",),
            sort=_SORTS[query.sort],
            offset=offset,
            limit=limit,
        )
    )
    facets = {
        name: main.facets.get(field, {}) for name, field in _FACETS.items() if field in shared
    }
    stats = main.stats.get("price")
    side = SearchRequest(query=query.q, limit=0)
    for name, engine_field in _FACETS.items():
        if name in clauses:
            counted = engine.search(
                replace(side, filter=_combined(clauses, without=name), facets=(engine_field,))
            )
            facets[name] = counted.facets.get(engine_field, {})
    if "price" in clauses:
        stats = engine.search(
            replace(side, filter=_combined(clauses, without="price"), stats=("price",))
        ).stats.get("price")
    price_stats = (int(stats[0]), int(stats[1])) if stats else None
    return GoodsPage(hits=main.hits, total=main.total, facets=facets, price_stats=price_stats)
