"""The Meilisearch engine: our settings, filters, sorts and requests in Meilisearch's
documented syntax (pure functions, unit-tested without a server), and `MeiliEngine`, the
adapter on the official client.

Chinese text is segmented here, not by Meilisearch (its jieba `cut` misses sub-words;
meilisearch issues #2499, #4935): each document carries a space-separated `tokens`
attribute (words, character grams, pinyin) and the query is analysed the same way.

Every write waits for its task and checks its status: a 202 only means "queued".
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import fields
from typing import Any

import meilisearch
from meilisearch.errors import (
    MeilisearchApiError,
    MeilisearchCommunicationError,
    MeilisearchError,
    MeilisearchTimeoutError,
)
from meilisearch.index import Index
from meilisearch.models.task import Task, TaskInfo

from indexer.analysis import (
    QueryWord,
    analyze,
    analyze_query,
    pinyin_of,
    query_tokens,
    tokens_for_engine,
)
from indexer.documents import INDEXED_DESCRIPTION_CHARS, GoodsDocument
from indexer.engine import (
    FACETABLE,
    FILTERABLE,
    SORTABLE,
    And,
    AnyOf,
    EngineUnavailable,
    Eq,
    Filter,
    Hit,
    Not,
    Or,
    Range,
    SearchRequest,
    SearchResult,
    Sort,
    check_filter,
)
from indexer.highlight import highlight

# Fields of a document as stored and returned; the long description is only searched.
STORED_FIELDS = tuple(f.name for f in fields(GoodsDocument) if f.name != "description")
# Our pre-segmented tokens first: the attribute rule ranks earlier attributes higher.
SEARCHABLE_ATTRIBUTES = ("tokens", "title", "description_tokens")
# Facets and numeric stats are computed only on filterable attributes; `id` and `version`
# serve the versioned writes (indexed versions are read, removals are conditional).
FILTERABLE_ATTRIBUTES = tuple(dict.fromkeys((*FILTERABLE, *FACETABLE, "id", "version")))
# Meilisearch ranks by bucket sort: each rule only breaks the previous rule's ties, so
# popularity cannot be blended into the text score as the embedded engine does; hot_score
# can only be the last tie-breaker. `sort` comes right after `words` so that an explicit
# sort (price, newest) orders every document matching all the words, as the embedded
# engine does, instead of only reordering documents already tied on typo, proximity and
# attribute (https://www.meilisearch.com/docs/guides/relevancy/ordering_ranking_rules).
RANKING_RULES = (
    "words",
    "sort",
    "typo",
    "proximity",
    "attribute",
    "exactness",
    "hot_score:desc",
)
MAX_TOTAL_HITS = 10_000
MAX_VALUES_PER_FACET = 1_000
REBUILD_BATCH = 5_000
# As the embedded engine: only the start of a description is worth searching.
# How many top hits `suggest` reads words from.
SUGGEST_SAMPLE = 20
# `typoTolerance.disableOnNumbers` exists from Meilisearch 1.15; older servers reject it.
TYPOS_ON_NUMBERS_SETTING_SINCE = (1, 15)

# Expressions for the empty cases; every document has an `id`, and `IN []` is valid
# (crates/filter-parser: `value_list = (value ("," value)* ","?)?`).
MATCH_ALL = "id EXISTS"
MATCH_NOTHING = "id IN []"

_IDS_PER_LOOKUP = 1_000
_VERSIONS_PAGE = 10_000
_LONG_TASK_MS = 30 * 60_000  # settings on a full index, rebuild batches, swaps
# Meilisearch error types that say the engine, not the request, is at fault.
_ENGINE_FAULTS = {"internal", "system", "auth"}


class MeiliError(Exception):
    """Meilisearch rejected a request or a task failed; carries its error code and message."""

    def __init__(self, code: str, message: str, error_type: str = "", link: str = "") -> None:
        self.code = code
        self.message = message
        self.error_type = error_type
        self.link = link
        super().__init__(f"{code}: {message}" if code else message)


class MeiliUnavailable(MeiliError, EngineUnavailable):
    """A failure of the engine itself (internal, system or auth error): retry later."""


def _error(code: str, message: str, error_type: str, link: str = "") -> MeiliError:
    kind = MeiliUnavailable if error_type in _ENGINE_FAULTS else MeiliError
    return kind(code, message, error_type, link)


# -- settings -------------------------------------------------------------------------


def index_settings(*, disable_typos_on_numbers: bool = True) -> dict[str, Any]:
    """The index settings (PATCH /indexes/{uid}/settings body)."""
    typo_tolerance: dict[str, Any] = {
        "enabled": True,
        # Meilisearch's defaults, pinned: `indexer.highlight` marks typos the same way.
        "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
    }
    if disable_typos_on_numbers:
        # 128 must not find 256 (model numbers, storage sizes).
        typo_tolerance["disableOnNumbers"] = True
    return {
        "searchableAttributes": list(SEARCHABLE_ATTRIBUTES),
        "displayedAttributes": list(STORED_FIELDS),
        "filterableAttributes": list(FILTERABLE_ATTRIBUTES),
        "sortableAttributes": list(SORTABLE),
        "rankingRules": list(RANKING_RULES),
        "typoTolerance": typo_tolerance,
        "pagination": {"maxTotalHits": MAX_TOTAL_HITS},
        "faceting": {"maxValuesPerFacet": MAX_VALUES_PER_FACET},
    }


_UNORDERED_SETTINGS = {"filterableAttributes", "sortableAttributes"}


def settings_match(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Whether the index already has `wanted` (keys it does not mention are not compared;
    Meilisearch returns filterable and sortable attributes in its own order)."""
    for key, value in wanted.items():
        have = current.get(key)
        if isinstance(value, Mapping):
            if not isinstance(have, Mapping) or not settings_match(have, value):
                return False
        elif key in _UNORDERED_SETTINGS:
            if not isinstance(have, list) or set(map(str, have)) != set(value):
                return False
        elif have != value:
            return False
    return True


def _server_version(version: str) -> tuple[int, int]:
    found = re.match(r"(\d+)\.(\d+)", version)
    return (int(found[1]), int(found[2])) if found else (0, 0)


# -- filters and sorts ----------------------------------------------------------------


def quote(value: str) -> str:
    """A string as a double-quoted filter value: backslashes and double quotes escaped
    (crates/filter-parser/src/value.rs unescapes `\\"` and `\\\\`)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _value(value: str | int) -> str:
    # bool is an int; neither it nor any other type belongs in a filter.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return quote(value)
    raise TypeError(f"not a filter value: {value!r}")


def _compound(expression: Filter) -> bool:
    return isinstance(expression, And | Or) and len(expression.parts) > 1


def _grouped(expression: Filter) -> str:
    # NOT binds tighter than AND, and AND tighter than OR; parentheses around every
    # nested AND/OR keep the meaning without relying on precedence.
    text = _translate(expression)
    return f"({text})" if _compound(expression) else text


def _translate(expression: Filter) -> str:
    match expression:
        case Eq(name, value):
            return f"{name} = {_value(value)}"
        case AnyOf(name, values):
            if not values:
                return MATCH_NOTHING
            return f"{name} IN [{', '.join(_value(v) for v in values)}]"
        case Range(name, low, high):
            if low is not None and high is not None:
                return f"{name} {low} TO {high}"
            if low is not None:
                return f"{name} >= {low}"
            if high is not None:
                return f"{name} <= {high}"
            return MATCH_ALL
        case And(parts):
            if not parts:
                return MATCH_ALL
            return " AND ".join(_grouped(part) for part in parts)
        case Or(parts):
            if not parts:
                return MATCH_NOTHING
            return " OR ".join(_grouped(part) for part in parts)
        case Not(part):
            inner = _translate(part)
            return f"NOT ({inner})" if _compound(part) or isinstance(part, Not) else f"NOT {inner}"
    raise TypeError(f"not a filter: {expression!r}")


def filter_expression(expression: Filter) -> str:
    """Our filter as a Meilisearch filter expression; ValueError for fields that are not
    filterable."""
    check_filter(expression)
    return _translate(expression)


def removal_filter(removals: list[tuple[int, int]]) -> str:
    """Documents to delete for (id, version) removals: each id unless the index holds a
    newer version; version 0 (the goods no longer exist) deletes whatever is indexed.
    Evaluated by Meilisearch when the task runs, so a newer upsert queued before it wins."""
    unconditional = tuple(dict.fromkeys(goods_id for goods_id, version in removals if not version))
    parts: list[Filter] = [AnyOf("id", unconditional)] if unconditional else []
    parts += [
        And((Eq("id", goods_id), Range("version", high=version)))
        for goods_id, version in removals
        if version
    ]
    return _translate(Or(tuple(parts)))


def sort_expression(sort: Sort | None, has_query: bool) -> list[str]:
    """The `sort` search parameter: the requested order, newest first when browsing, and
    none (relevance, then hot_score) for a text query."""
    if sort is None:
        return [] if has_query else ["published_at:desc"]
    if sort.field not in SORTABLE:
        raise ValueError(f"not sortable: {sort.field}")
    return [f"{sort.field}:{'desc' if sort.descending else 'asc'}"]


# -- requests, documents and results --------------------------------------------------


def search_params(request: SearchRequest) -> dict[str, Any]:
    """The search body (POST /indexes/{uid}/search) for `request`."""
    q = query_tokens(request.query)
    params: dict[str, Any] = {"q": q}
    if request.filter is not None:
        params["filter"] = filter_expression(request.filter)
    # facetStats come with the `facets` parameter, for the numeric ones among them.
    facets = list(dict.fromkeys((*request.facets, *request.stats)))
    unknown = set(facets) - set(FILTERABLE_ATTRIBUTES)
    if unknown:
        raise ValueError(f"not facetable: {', '.join(sorted(unknown))}")
    if facets:
        params["facets"] = facets
    sort = sort_expression(request.sort, bool(q))
    if sort:
        params["sort"] = sort
    params["offset"] = max(request.offset, 0)
    params["limit"] = max(request.limit, 0)
    params["attributesToRetrieve"] = list(STORED_FIELDS)
    params["showRankingScore"] = True
    return params


def to_meili_document(document: GoodsDocument) -> dict[str, Any]:
    """A goods document as Meilisearch stores it (primary key `id`)."""
    text = analyze(document.title)
    text.extend(analyze(" ".join(document.category_names)))
    description = analyze(document.description[:INDEXED_DESCRIPTION_CHARS])
    stored: dict[str, Any] = {name: getattr(document, name) for name in STORED_FIELDS}
    stored["category_ids"] = list(document.category_ids)
    stored["category_names"] = list(document.category_names)
    stored["tokens"] = tokens_for_engine(text)
    stored["description_tokens"] = " ".join(dict.fromkeys(description.words))
    return stored


def from_meili_hit(hit: Mapping[str, Any]) -> GoodsDocument:
    return GoodsDocument(
        id=int(hit["id"]),
        version=int(hit["version"]),
        title=str(hit["title"]),
        description="",
        category_id=int(hit["category_id"]),
        category_ids=tuple(int(i) for i in hit["category_ids"]),
        category_names=tuple(str(n) for n in hit["category_names"]),
        price=int(hit["price"]),
        condition=str(hit["condition"]),
        city=str(hit["city"]),
        seller_id=int(hit["seller_id"]),
        photo=hit.get("photo"),
        published_at=int(hit["published_at"]),
        hot_score=float(hit["hot_score"]),
    )


def parse_result(response: Mapping[str, Any], request: SearchRequest) -> SearchResult:
    """A search response (hits, totalHits or estimatedTotalHits, facetDistribution,
    facetStats) as our result, titles highlighted like every engine's."""
    words = analyze_query(request.query)
    hits = []
    for raw in response.get("hits", []):
        document = from_meili_hit(raw)
        hits.append(
            Hit(
                document=document,
                score=float(raw.get("_rankingScore", 0.0)),
                highlighted_title=highlight(document.title, words),
            )
        )
    total = response.get("totalHits", response.get("estimatedTotalHits", len(hits)))
    distribution = response.get("facetDistribution") or {}
    facets = {
        name: {str(value): int(count) for value, count in (distribution.get(name) or {}).items()}
        for name in request.facets
    }
    facet_stats = response.get("facetStats") or {}
    stats = {
        name: (float(facet_stats[name]["min"]), float(facet_stats[name]["max"]))
        for name in request.stats
        if name in facet_stats
    }
    return SearchResult(hits=hits, total=int(total), facets=facets, stats=stats)


def _completes(word: str, typed: QueryWord) -> bool:
    if word.startswith(typed.text):
        return True
    forms = pinyin_of(word) if typed.kind == "latin" else None
    return forms is not None and any(form.startswith(typed.text) for form in forms)


# -- the adapter ----------------------------------------------------------------------


@contextmanager
def _engine_errors() -> Iterator[None]:
    """Client exceptions as ours: unreachable or timed out → EngineUnavailable."""
    try:
        yield
    except (MeilisearchCommunicationError, MeilisearchTimeoutError) as error:
        raise EngineUnavailable(f"meilisearch unavailable: {error.message}") from error
    except MeilisearchApiError as error:
        error_type = error.type or ("internal" if error.status_code >= 500 else "")
        raise _error(error.code or "", error.message, error_type, error.link or "") from error


class MeiliEngine:
    """A `SearchEngine` on Meilisearch through the official client."""

    name = "meilisearch"

    def __init__(
        self,
        url: str,
        api_key: str | None,
        index_uid: str = "goods",
        timeout_ms: int = 10_000,
        *,
        client: meilisearch.Client | None = None,
    ) -> None:
        self._client = client or meilisearch.Client(
            url, api_key, timeout=max(1, math.ceil(timeout_ms / 1000))
        )
        self._uid = index_uid
        self._timeout_ms = timeout_ms
        self._lock = threading.Lock()
        self._ready = False

    # -- tasks and the index ------------------------------------------------------------

    def _wait(self, info: TaskInfo, timeout_ms: int | None = None) -> Task:
        task = self._client.wait_for_task(
            info.task_uid, timeout_in_ms=timeout_ms or self._timeout_ms
        )
        if task.status != "succeeded":
            error = task.error or {}
            raise _error(
                str(error.get("code") or f"task_{task.status}"),
                str(error.get("message") or f"task {task.uid} ({task.type}) {task.status}"),
                str(error.get("type") or ""),
                str(error.get("link") or ""),
            )
        return task

    def _settings(self) -> dict[str, Any]:
        version = _server_version(self._client.get_version().get("pkgVersion", ""))
        return index_settings(disable_typos_on_numbers=version >= TYPOS_ON_NUMBERS_SETTING_SINCE)

    def _create_index(self, uid: str, settings: dict[str, Any]) -> None:
        """Create `uid` unless it exists, and give it `settings` unless it has them."""
        try:
            self._client.get_index(uid)
        except MeilisearchApiError as error:
            if error.code != "index_not_found":
                raise
            try:
                self._wait(self._client.create_index(uid, {"primaryKey": "id"}))
            except MeiliError as failed:
                if failed.code != "index_already_exists":  # another process was first
                    raise
        index = self._client.index(uid)
        if not settings_match(index.get_settings(), settings):
            self._wait(index.update_settings(settings), _LONG_TASK_MS)

    def _ensure_index(self) -> Index:
        """The live index, created with its settings on first use (idempotent)."""
        if not self._ready:
            with self._lock, _engine_errors():
                if not self._ready:
                    self._create_index(self._uid, self._settings())
                    self._ready = True
        return self._client.index(self._uid)

    # -- writes ---------------------------------------------------------------------------

    def _indexed_versions(self, index: Index, ids: list[int]) -> dict[int, int]:
        versions: dict[int, int] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), _IDS_PER_LOOKUP):
            chunk = tuple(unique[start : start + _IDS_PER_LOOKUP])
            page = index.get_documents(
                {
                    "filter": _translate(AnyOf("id", chunk)),
                    "fields": ["id", "version"],
                    "limit": len(chunk),
                }
            )
            for document in page.results:
                row = vars(document)
                versions[int(row["id"])] = int(row["version"])
        return versions

    def upsert(self, documents: list[GoodsDocument]) -> None:
        self.apply(documents, [])

    def delete(self, removals: list[tuple[int, int]]) -> None:
        self.apply([], removals)

    def apply(self, documents: list[GoodsDocument], removals: list[tuple[int, int]]) -> None:
        """Removals, then upserts, each confirmed by its task. An upsert older than the
        indexed version is dropped (read before writing: one relay writes at a time);
        removals are conditional in the delete filter itself."""
        if not documents and not removals:
            return
        index = self._ensure_index()
        with _engine_errors():
            tasks: list[TaskInfo] = []
            if removals:
                tasks.append(index.delete_documents(filter=removal_filter(removals)))
            newest: dict[int, GoodsDocument] = {}
            for document in documents:
                if document.id not in newest or newest[document.id].version <= document.version:
                    newest[document.id] = document
            if newest:
                indexed = self._indexed_versions(index, list(newest))
                fresh = [d for d in newest.values() if indexed.get(d.id, -1) <= d.version]
                if fresh:
                    payload = [to_meili_document(d) for d in fresh]
                    tasks.append(index.add_documents(payload, primary_key="id"))
            for task in tasks:
                self._wait(task)

    # -- reads ----------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResult:
        params = search_params(request)  # a bad field fails here, before any request
        index = self._ensure_index()
        with _engine_errors():
            response = index.search(params["q"], params)
        return parse_result(response, request)

    def suggest(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        """An approximation of a term dictionary, which Meilisearch does not expose: the
        title words of the top hits for `prefix` that start with its last word (or, for a
        Latin last word, whose pinyin or initials do), counted over those hits only."""
        words = analyze_query(prefix)
        if not words or limit <= 0:
            return []
        last = words[-1]
        index = self._ensure_index()
        with _engine_errors():
            response = index.search(
                query_tokens(prefix), {"limit": SUGGEST_SAMPLE, "attributesToRetrieve": ["title"]}
            )
        counts: Counter[str] = Counter()
        for hit in response.get("hits", []):
            title_words = set(analyze(str(hit.get("title", ""))).words)
            counts.update(word for word in title_words if _completes(word, last))
        ranked = sorted(counts.items(), key=lambda item: (-item[1], len(item[0]), item[0]))
        return ranked[:limit]

    def versions(self) -> dict[int, int]:
        index = self._ensure_index()
        versions: dict[int, int] = {}
        offset = 0
        with _engine_errors():
            while True:
                page = index.get_documents(
                    {"fields": ["id", "version"], "offset": offset, "limit": _VERSIONS_PAGE}
                )
                for document in page.results:
                    row = vars(document)
                    versions[int(row["id"])] = int(row["version"])
                offset += len(page.results)
                if not page.results or offset >= page.total:
                    return versions

    def count(self) -> int:
        index = self._ensure_index()
        with _engine_errors():
            return index.get_stats().number_of_documents

    def health(self) -> bool:
        return self._client.is_healthy()

    def outdated_fields(self) -> list[str]:
        # Settings, not a schema: they are applied whenever the index is opened.
        return []

    def drop(self) -> None:
        """Delete the index (tests, decommissioning); the next use recreates it."""
        with self._lock, _engine_errors():
            try:
                self._wait(self._client.delete_index(self._uid), _LONG_TASK_MS)
            except MeiliError as error:
                if error.code != "index_not_found":
                    raise
            self._ready = False

    # -- rebuild and swap -----------------------------------------------------------------

    def rebuild(self, documents: Iterable[GoodsDocument]) -> Iterator[int]:
        """Fill `<uid>_rebuild_<ns>` with the same settings, swap it with the live index
        (searches see the old one until then), then delete the old one."""
        self._ensure_index()  # the swap needs both indexes
        temporary = f"{self._uid}_rebuild_{time.time_ns()}"
        count = 0
        try:
            with _engine_errors():
                self._create_index(temporary, self._settings())
            index = self._client.index(temporary)
            batch: list[dict[str, Any]] = []
            for document in documents:
                batch.append(to_meili_document(document))
                if len(batch) == REBUILD_BATCH:
                    with _engine_errors():
                        self._wait(index.add_documents(batch, primary_key="id"), _LONG_TASK_MS)
                    count += len(batch)
                    batch = []
                    yield count
            with _engine_errors():
                if batch:
                    self._wait(index.add_documents(batch, primary_key="id"), _LONG_TASK_MS)
                    count += len(batch)
                self._wait(
                    self._client.swap_indexes([{"indexes": [self._uid, temporary]}]),
                    _LONG_TASK_MS,
                )
        except BaseException:
            with suppress(MeilisearchError):
                self._client.delete_index(temporary)
            raise
        # After the swap the temporary uid holds the old documents.
        with _engine_errors():
            self._wait(self._client.delete_index(temporary), _LONG_TASK_MS)
        yield count
