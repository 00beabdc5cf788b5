"""The search port, modelled on Meilisearch: settings, versioned upserts and deletes, search
with a typed filter expression, facets with counts, numeric stats, sort, pagination,
highlight, and an atomic swap for full rebuilds. Adapters: `embedded` (tantivy) and
`meili` (Meilisearch)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from indexer.documents import GoodsDocument

# Index settings shared by every adapter.
FILTERABLE = ("category_ids", "condition", "city", "price", "seller_id", "published_at")
FACETABLE = ("category_id", "condition", "city")
SORTABLE = ("published_at", "price", "hot_score")


@dataclass(frozen=True)
class Eq:
    field: str
    value: str | int


@dataclass(frozen=True)
class AnyOf:
    field: str
    values: tuple[str | int, ...]


@dataclass(frozen=True)
class Range:
    field: str
    low: int | None = None
    high: int | None = None


@dataclass(frozen=True)
class And:
    parts: tuple[Filter, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Filter, ...]


@dataclass(frozen=True)
class Not:
    part: Filter


Filter = Eq | AnyOf | Range | And | Or | Not


def filter_fields(expression: Filter) -> set[str]:
    """Every field an expression refers to."""
    match expression:
        case Eq(name, _) | AnyOf(name, _) | Range(name, _, _):
            return {name}
        case And(parts) | Or(parts):
            return set().union(*(filter_fields(part) for part in parts)) if parts else set()
        case Not(part):
            return filter_fields(part)
    raise TypeError(f"not a filter: {expression!r}")


def check_filter(expression: Filter) -> None:
    unknown = filter_fields(expression) - set(FILTERABLE)
    if unknown:
        raise ValueError(f"not filterable: {', '.join(sorted(unknown))}")


@dataclass(frozen=True)
class Sort:
    field: str
    descending: bool = True


@dataclass(frozen=True)
class SearchRequest:
    """`query` empty means browse: every document passing the filter."""

    query: str = ""
    filter: Filter | None = None
    facets: tuple[str, ...] = ()
    stats: tuple[str, ...] = ()
    sort: Sort | None = None  # None: relevance (text match blended with hot_score)
    offset: int = 0
    limit: int = 20


@dataclass(frozen=True)
class Hit:
    document: GoodsDocument
    score: float
    highlighted_title: str


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    stats: dict[str, tuple[float, float]] = field(default_factory=dict)


class EngineUnavailable(Exception):
    """The engine could not be reached or refused the operation; the caller retries."""


class SearchEngine(Protocol):
    name: str

    def upsert(self, documents: list[GoodsDocument]) -> None:
        """Add or replace documents; a document older than the indexed one is ignored."""
        ...

    def delete(self, removals: list[tuple[int, int]]) -> None:
        """Remove (id, version) documents unless the index holds a newer version; version 0
        (the goods no longer exist) removes whatever is indexed."""
        ...

    def apply(self, documents: list[GoodsDocument], removals: list[tuple[int, int]]) -> None:
        """Upserts and removals together, confirmed when it returns (the relay's batch)."""
        ...

    def search(self, request: SearchRequest) -> SearchResult: ...

    def suggest(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        """Indexed words starting with `prefix` (or whose pinyin does), most frequent first."""
        ...

    def versions(self) -> dict[int, int]:
        """id → version of every indexed document (for reconciling)."""
        ...

    def count(self) -> int: ...

    def rebuild(self, documents: Iterable[GoodsDocument]) -> Iterator[int]:
        """Build a fresh index from `documents`, yielding progress (documents so far), then
        swap it in atomically; searches see the old index until the swap."""
        ...

    def health(self) -> bool: ...

    def outdated_fields(self) -> list[str]:
        """What the live index lacks that this version would index (a rebuild adds it)."""
        ...
