"""The embedded engine: tantivy in a local folder, no other process needed.

Text is analysed by `indexer.analysis` and indexed pre-tokenized; queries are built in
code (never `parse_query`). Layout: `<root>/<index name>/` folders and a `CURRENT` file
naming the live one, replaced atomically to swap in a rebuilt index; every process
notices the swap on its next call.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import tantivy

from indexer.analysis import (
    Analyzed,
    QueryWord,
    analyze,
    analyze_query,
    is_cjk,
    pinyin_of,
    split_pinyin,
)
from indexer.documents import INDEXED_DESCRIPTION_CHARS, GoodsDocument
from indexer.engine import (
    And,
    AnyOf,
    Eq,
    Filter,
    Hit,
    Not,
    Or,
    Range,
    SearchRequest,
    SearchResult,
    check_filter,
)
from indexer.highlight import highlight

TOKENIZER = "idlemarket_ws"
_TEXT_FIELDS = ("title_words", "title_grams", "title_pinyin", "category_words", "desc_words")
_SYLLABLE_FIELD = "title_syllables"
# The title's Latin words and numbers again, in a dictionary of their own: typo and prefix
# expansions walk a field's whole term dictionary, and title_words' Chinese words made
# each walk cost 0.4–0.6 ms at a million goods (title_pinyin's: 0.05 ms).
_LATIN_FIELD = "title_latin"
_U64_FIELDS = ("id", "version", "category_id", "category_ids", "price", "seller_id", "published_at")
_STRING_FIELDS = ("condition", "city")
# How much a match in each field counts; the title's own words weigh most.
_BOOST = {
    "title_words": 3.0,
    "title_grams": 1.0,
    "title_pinyin": 1.5,
    "category_words": 2.0,
    "desc_words": 0.4,
}
_WRITER_HEAP = 64_000_000
# A word held by this many documents, and at least this share of all, is common: in the
# relaxed pass it raises scores but does not qualify a document (see `_some_of`).
_COMMON_MIN_DOCUMENTS = 2_000
_COMMON_SHARE = 0.02
# How stale another process's commit may look to this one (see `_searcher`).
_LOOK_EVERY_SECONDS = 0.02
_REBUILD_HEAP = 512_000_000


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("id", stored=True, indexed=True, fast=True)
    builder.add_unsigned_field("version", indexed=False, fast=True)
    for name in _TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name=TOKENIZER, index_option="freq")
    builder.add_text_field(_SYLLABLE_FIELD, tokenizer_name=TOKENIZER, index_option="position")
    builder.add_text_field(_LATIN_FIELD, tokenizer_name=TOKENIZER, index_option="basic")
    builder.add_unsigned_field("category_id", indexed=True, fast=True)
    builder.add_unsigned_field("category_ids", indexed=True, fast=True)
    builder.add_unsigned_field("price", indexed=True, fast=True)
    builder.add_unsigned_field("seller_id", indexed=True, fast=True)
    builder.add_unsigned_field("published_at", indexed=True, fast=True)
    builder.add_float_field("hot_score", fast=True)
    for name in _STRING_FIELDS:
        builder.add_text_field(name, tokenizer_name="raw", fast=True)
    builder.add_bytes_field("doc", stored=True)
    return builder.build()


SCHEMA = build_schema()
_ALL_FIELDS = (
    *_U64_FIELDS[:2],
    *_TEXT_FIELDS,
    _SYLLABLE_FIELD,
    _LATIN_FIELD,
    *_U64_FIELDS[2:],
    "hot_score",
    *_STRING_FIELDS,
    "doc",
)


def _register_tokenizers(index: tantivy.Index) -> None:
    # Text arrives pre-tokenized; the analyzer is what tantivy would use for anything
    # else written to these fields, and must be registered in every process that opens it.
    analyzer = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace())
        .filter(tantivy.Filter.lowercase())
        .build()
    )
    index.register_tokenizer(TOKENIZER, analyzer)


@lru_cache(maxsize=4096)
def _category_analysis(names: tuple[str, ...]) -> Analyzed:
    # A few hundred categories, a million goods: analyse each path once.
    return analyze(" ".join(names))


def to_tantivy(document: GoodsDocument) -> tantivy.Document:
    title = analyze(document.title)
    categories = _category_analysis(document.category_names)
    description = analyze(document.description[:INDEXED_DESCRIPTION_CHARS])
    doc = tantivy.Document()
    doc.add_unsigned("id", document.id)
    doc.add_unsigned("version", document.version)
    for name, tokens in (
        ("title_words", title.words),
        ("title_grams", title.grams),
        ("title_pinyin", title.pinyin),
        ("category_words", categories.words),
        ("desc_words", description.words),
        (_SYLLABLE_FIELD, title.syllables),
        (_LATIN_FIELD, [word for word in title.words if not is_cjk(word)]),
    ):
        if tokens:
            # Our tokens joined by spaces; the registered whitespace analyzer splits them
            # back in Rust, much faster than building tantivy Token objects in Python.
            doc.add_text(name, " ".join(tokens))
    doc.add_unsigned("category_id", document.category_id)
    for category_id in document.category_ids:
        doc.add_unsigned("category_ids", category_id)
    doc.add_unsigned("price", document.price)
    doc.add_unsigned("seller_id", document.seller_id)
    doc.add_unsigned("published_at", max(document.published_at, 0))
    doc.add_float("hot_score", document.hot_score)
    doc.add_text("condition", document.condition)
    doc.add_text("city", document.city)
    doc.add_bytes("doc", _stored(document))
    return doc


def _stored(document: GoodsDocument) -> bytes:
    # What hits show; the description stays out to keep the stored column small.
    return json.dumps(
        [
            document.id,
            document.version,
            document.title,
            document.category_id,
            document.category_ids,
            document.category_names,
            document.price,
            document.condition,
            document.city,
            document.seller_id,
            document.photo,
            document.published_at,
            document.hot_score,
        ],
        ensure_ascii=False,
    ).encode()


def from_stored(raw: bytes) -> GoodsDocument:
    (
        goods_id,
        version,
        title,
        category_id,
        category_ids,
        category_names,
        price,
        condition,
        city,
        seller_id,
        photo,
        published_at,
        hot_score,
    ) = json.loads(raw)
    return GoodsDocument(
        id=goods_id,
        version=version,
        title=title,
        description="",
        category_id=category_id,
        category_ids=tuple(category_ids),
        category_names=tuple(category_names),
        price=price,
        condition=condition,
        city=city,
        seller_id=seller_id,
        photo=photo,
        published_at=published_at,
        hot_score=hot_score,
    )


def _term(field: str, value: str | int) -> tantivy.Query:
    return tantivy.Query.term_query(SCHEMA, field, value)


def filter_query(expression: Filter) -> tantivy.Query:
    """Our filter expression as a tantivy query (scoring nothing)."""
    match expression:
        case Eq(name, value):
            return _term(name, value)
        case AnyOf(name, values):
            if not values:
                return tantivy.Query.empty_query()
            return tantivy.Query.term_set_query(SCHEMA, name, list(values))
        case Range(name, low, high):
            if low is None and high is None:
                return tantivy.Query.all_query()
            return tantivy.Query.range_query(
                SCHEMA, name, tantivy.FieldType.Unsigned, max(low or 0, 0), high
            )
        case And(parts):
            return tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, filter_query(p)) for p in parts]
            )
        case Or(parts):
            return tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, filter_query(p)) for p in parts]
            )
        case Not(part):
            return tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, tantivy.Query.all_query()),
                    (tantivy.Occur.MustNot, filter_query(part)),
                ]
            )
    raise TypeError(f"not a filter: {expression!r}")


def _boosted(field: str, query: tantivy.Query) -> tuple[tantivy.Occur, tantivy.Query]:
    return tantivy.Occur.Should, tantivy.Query.boost_query(query, _BOOST[field])


@dataclass(frozen=True)
class WordMatch:
    """The query for one typed word, and how many documents hold it as typed in its most
    common field (0 when only its typo or prefix expansions can match)."""

    query: tantivy.Query
    documents: int


def word_query(
    word: QueryWord,
    searcher: tantivy.Searcher,
    *,
    titles_only: bool = False,
    latin_field: str = _LATIN_FIELD,
) -> WordMatch | None:
    """Any of the ways one typed word can match a document.

    Terms no document holds are left out, and typo and prefix expansions (the costly part:
    they walk the term dictionary) are tried only for words that match nothing as typed.
    None: no document can match the word.
    """
    clauses = []
    fields = ["title_words"] if titles_only else ["title_words", "category_words", "desc_words"]
    if word.kind == "latin" and len(word.text) >= 2:
        fields.append("title_pinyin")
    freq = {field: searcher.doc_freq(field, word.text) for field in fields}
    for field in fields:
        if freq[field]:
            clauses.append(_boosted(field, _term(field, word.text)))
    documents = max(freq.values())
    if word.kind == "cjk":
        gram_documents = [searcher.doc_freq("title_grams", g) for g in word.grams]
        if all(gram_documents):
            grams = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, _term("title_grams", gram)) for gram in word.grams]
            )
            clauses.append(_boosted("title_grams", grams))
            # (all the grams: at most as many documents as the rarest holds)
            documents = max(documents, min(gram_documents))
    syllables = split_pinyin(word.text) if word.kind == "latin" and len(word.text) >= 4 else None
    if syllables and len(syllables) >= 2:
        phrase = tantivy.Query.phrase_query(SCHEMA, _SYLLABLE_FIELD, list(syllables))
        clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(phrase, 1.5)))
    # (title_pinyin is among the fields exactly for Latin words of two letters or more)
    exact_in_title = freq["title_words"] or freq.get("title_pinyin", 0)
    if word.kind == "latin" and len(word.text) >= 2 and not exact_in_title:
        for field in (latin_field, "title_pinyin"):
            if word.typo_distance:
                fuzzy = tantivy.Query.fuzzy_term_query(
                    SCHEMA, field, word.text, word.typo_distance, True
                )
                clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(fuzzy, 0.5)))
            # As-you-type: the last word may be the start of a word or of its pinyin; two
            # letters of pinyin (pe…) would expand to hundreds of syllables, so three at least.
            if word.is_last and (field == latin_field or len(word.text) >= 3):
                prefix = tantivy.Query.fuzzy_term_query(SCHEMA, field, word.text, 0, True, True)
                clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(prefix, 0.5)))
    if not clauses:
        return None
    return WordMatch(tantivy.Query.boolean_query(clauses), documents)


_FUNCTION_WORDS = frozenset("的了和与或在是我你他她它们吗呢吧啊个把被给这那有没不也都就还很")


def relax(words: list[QueryWord]) -> list[QueryWord]:
    relaxed: list[QueryWord] = []
    for word in words:
        if word.text in _FUNCTION_WORDS:
            continue
        if word.kind == "cjk" and len(word.text) >= 3:
            relaxed += [QueryWord(gram, "cjk") for gram in word.grams]
        else:
            relaxed.append(word)
    return list(dict.fromkeys(relaxed))


def text_query(
    words: list[QueryWord],
    searcher: tantivy.Searcher,
    *,
    required: int | None = None,
    latin_field: str = _LATIN_FIELD,
) -> tantivy.Query | None:
    """All words must match, or at least `required` of them; None if no document can.

    With `required` (the relaxed pass) words count only where they match titles: a near
    miss must at least be about the thing, and category or description matches of common
    words (手机) would pull in a large part of the catalog.
    """
    relaxed = required is not None and required < len(words)
    matches = [word_query(w, searcher, titles_only=relaxed, latin_field=latin_field) for w in words]
    possible = [m for m in matches if m is not None]
    if required is None or required >= len(words):
        if len(possible) < len(matches):
            return None  # a word nothing holds: skip the search, it would find nothing
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, m.query) for m in possible])
    if len(possible) < required:
        return None
    return _some_of(possible, required, common_from=_common_from(searcher.num_docs))


def _common_from(total_documents: int) -> int:
    return max(_COMMON_MIN_DOCUMENTS, int(total_documents * _COMMON_SHARE))


def _some_of(matches: list[WordMatch], required: int, *, common_from: int) -> tantivy.Query | None:
    """Documents holding at least `required` of the words, counted from the rarest; every
    word raises the score of the documents that qualify.

    A word held by very many documents (新, 可, a two-letter syllable) does not qualify a
    document while rarer words can: "any two of 新, 床布" walked most of the catalog (6 ms
    at a million goods) to admit goods sharing nothing with the query but 新. So any
    `required` of the rare words qualify; with fewer rare words than that, all of them and
    then the least common of the rest must be held (an intersection, led by its rarest
    word). Elasticsearch's common-terms query reasons alike. With common words only, no
    document is near enough: None.
    """
    ordered = sorted(matches, key=lambda m: m.documents)
    rare = [m for m in ordered if m.documents < common_from]
    if not rare:
        return None  # goods sharing only 新 or 可 with the query are not about the thing
    if len(rare) >= required:
        qualifying = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, m.query) for m in rare], minimum_number_should_match=required
        )
        qualified = set(map(id, rare))
    else:
        held = ordered[:required]
        qualifying = tantivy.Query.boolean_query([(tantivy.Occur.Must, m.query) for m in held])
        qualified = set(map(id, held))
    scoring = [(tantivy.Occur.Should, m.query) for m in ordered if id(m) not in qualified]
    if not scoring:
        return qualifying
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, qualifying), *scoring])


def _id_versions(searcher: tantivy.Searcher, addresses: list[tantivy.DocAddress]) -> dict[int, int]:
    ids = searcher.fast_field_values("id", addresses)
    versions = searcher.fast_field_values("version", addresses)
    return {int(i or 0): int(v or 0) for i, v in zip(ids, versions, strict=True)}


def _delete_id(writer: tantivy.IndexWriter, goods_id: int) -> None:
    # By query: tantivy-py's delete-by-term takes a Python int as i64 and misses u64 ids.
    writer.delete_documents_by_query(_term("id", goods_id))


class EmbeddedEngine:
    """A `SearchEngine` on tantivy. Thread-safe within a process; one process writes."""

    name = "embedded"

    def __init__(self, root: Path) -> None:
        self._root = root
        self._lock = threading.RLock()
        self._index: tantivy.Index | None = None
        self._writer: tantivy.IndexWriter | None = None
        self._opened: tuple[str, int] | None = None
        self._meta_seen = -1
        # The searcher reads answer from, and when the files were last looked at.
        self._current_searcher: tantivy.Searcher | None = None
        self._looked_at = 0.0
        # Where typo and prefix expansions of Latin words look (older indexes lack the field).
        self._latin_field = _LATIN_FIELD
        root.mkdir(parents=True, exist_ok=True)

    # -- the live index and the swap --------------------------------------------------

    @property
    def _current_file(self) -> Path:
        return self._root / "CURRENT"

    def _live_name(self) -> str:
        if not self._current_file.exists():
            name = f"goods-{time.time_ns()}"
            self._open_new(name)
            self._point_at(name)
        return self._current_file.read_text().strip()

    def _point_at(self, name: str) -> None:
        temporary = self._root / f"CURRENT.{os.getpid()}.tmp"
        temporary.write_text(name)
        os.replace(temporary, self._current_file)

    def _open_new(self, name: str) -> tantivy.Index:
        path = self._root / name
        path.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(SCHEMA, str(path), reuse=False)
        _register_tokenizers(index)
        return index

    def _live(self) -> tantivy.Index:
        """The live index, reopened if another process swapped in a new one."""
        with self._lock:
            name = self._live_name()
            stamp = (name, self._current_file.stat().st_mtime_ns)
            if self._index is None or self._opened != stamp:
                self._writer = None  # its lock belongs to the old folder
                index = tantivy.Index.open(str(self._root / name))
                _register_tokenizers(index)
                self._index, self._opened = index, stamp
                self._latin_field = (
                    _LATIN_FIELD if _LATIN_FIELD in self._field_names(name) else "title_words"
                )
            return self._index

    def _field_names(self, name: str) -> set[str]:
        """The fields the index in folder `name` was built with (its meta.json says)."""
        try:
            meta = json.loads((self._root / name / "meta.json").read_text())
        except FileNotFoundError:
            return set(_ALL_FIELDS)  # not written yet: a folder this version just created
        return {field["name"] for field in meta.get("schema", [])}

    def outdated_fields(self) -> list[str]:
        """Fields this version indexes that the live index lacks: an index built by an older
        version still answers (typo matching falls back to slower ways) until a rebuild."""
        self._live()
        assert self._opened is not None
        present = self._field_names(self._opened[0])
        return [field for field in _ALL_FIELDS if field not in present]

    def _searcher(self) -> tantivy.Searcher:
        """A searcher over the latest commit, by this process or another.

        Another process (the one running the relay, or a rebuild's swap) commits by rewriting
        files; looking at them costs system calls that release the GIL, and under a busy
        server each release can wait a whole switch interval to get it back. So the files
        are looked at no more than every `_LOOK_EVERY_SECONDS`, far inside the 1 s freshness
        bound; this process's own commits take effect at once.
        """
        searcher = self._current_searcher
        if searcher is not None and time.monotonic() - self._looked_at < _LOOK_EVERY_SECONDS:
            return searcher
        with self._lock:
            index = self._live()
            assert self._opened is not None
            meta = self._root / self._opened[0] / "meta.json"
            try:
                stamp = meta.stat().st_mtime_ns
            except FileNotFoundError:
                stamp = 0
            if stamp != self._meta_seen:
                index.reload()
                self._meta_seen = stamp
            searcher = index.searcher()
            self._current_searcher, self._looked_at = searcher, time.monotonic()
            return searcher

    def _forget_searcher(self) -> None:
        """The next read looks at the files again (after a commit or swap here)."""
        self._current_searcher = None

    def _writer_of(self, index: tantivy.Index) -> tantivy.IndexWriter:
        if self._writer is None:
            self._writer = index.writer(_WRITER_HEAP, 1)
        return self._writer

    # -- writes --------------------------------------------------------------------------

    def _indexed_versions(self, searcher: tantivy.Searcher, ids: list[int]) -> dict[int, int]:
        if not ids:
            return {}
        result = searcher.search(
            tantivy.Query.term_set_query(SCHEMA, "id", ids), len(ids) * 2, count=False
        )
        addresses = [address for _, address in result.hits]
        return _id_versions(searcher, addresses)

    def upsert(self, documents: list[GoodsDocument]) -> None:
        self._write(documents, [])

    def delete(self, removals: list[tuple[int, int]]) -> None:
        self._write([], removals)

    def apply(self, documents: list[GoodsDocument], removals: list[tuple[int, int]]) -> None:
        """Upserts and deletes in one commit (the relay's batch)."""
        self._write(documents, removals)

    def _write(self, documents: list[GoodsDocument], removals: list[tuple[int, int]]) -> None:
        if not documents and not removals:
            return
        with self._lock:
            index = self._live()
            writer = self._writer_of(index)
            indexed = self._indexed_versions(
                index.searcher(), [d.id for d in documents] + [i for i, _ in removals]
            )
            changed = False
            for goods_id, version in removals:
                if indexed.get(goods_id, -1) <= version or version == 0:
                    _delete_id(writer, goods_id)
                    changed = True
            for document in documents:
                # An older snapshot than the one indexed arrives late: keep the newer one.
                if indexed.get(document.id, -1) > document.version:
                    continue
                _delete_id(writer, document.id)
                writer.add_document(to_tantivy(document))
                changed = True
            if changed:
                writer.commit()
                index.reload()
                self._forget_searcher()

    # -- reads ---------------------------------------------------------------------------

    def count(self) -> int:
        return int(self._searcher().num_docs)

    def health(self) -> bool:
        try:
            self._searcher()
        except (OSError, ValueError):
            return False
        return True

    def versions(self) -> dict[int, int]:
        searcher = self._searcher()
        total = searcher.num_docs
        if not total:
            return {}
        hits = searcher.search(tantivy.Query.all_query(), total, count=False).hits
        addresses = [address for _, address in hits]
        return _id_versions(searcher, addresses)

    def search(self, request: SearchRequest) -> SearchResult:
        if request.filter is not None:
            check_filter(request.filter)
        searcher = self._searcher()
        words = analyze_query(request.query)
        restriction = filter_query(request.filter) if request.filter is not None else None
        query = self._query(searcher, words, restriction)
        result = self._run(searcher, query, request, bool(words))
        if words and not (result and result.count):
            # Nothing has every word: settle for a third of them (function words like 的 left
            # out, long Chinese words taken by their character pairs: 登山包 → 登山, 山包);
            # documents matching more words rank higher. "Any word" matched most of the
            # catalog for long questions: slow, and no use to the shopper.
            relaxed = relax(words)
            required = max(1, (len(relaxed) + 2) // 3)
            if relaxed != words or required < len(words):  # else the same search again
                query = self._query(searcher, relaxed, restriction, required=required)
                result = self._run(searcher, query, request, True)
        if query is None or result is None or not result.count:
            return SearchResult(hits=[], total=0, facets={f: {} for f in request.facets})
        hits = []
        for score, address in result.hits[: request.limit]:
            document = from_stored(searcher.doc(address).to_dict()["doc"][0])
            hits.append(
                Hit(
                    document=document,
                    score=float(score) if isinstance(score, float) else 0.0,
                    highlighted_title=highlight(document.title, words),
                )
            )
        facets, stats = self._aggregate(searcher, query, request)
        return SearchResult(hits=hits, total=int(result.count or 0), facets=facets, stats=stats)

    def _query(
        self,
        searcher: tantivy.Searcher,
        words: list[QueryWord],
        restriction: tantivy.Query | None,
        *,
        required: int | None = None,
    ) -> tantivy.Query | None:
        if words:
            text = text_query(words, searcher, required=required, latin_field=self._latin_field)
        else:
            text = tantivy.Query.all_query()
        if restriction is None or text is None:
            return text
        # The filter decides membership only; it must not move scores.
        return tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, text),
                (tantivy.Occur.Must, tantivy.Query.const_score_query(restriction, 0.0)),
            ]
        )

    def _run(
        self,
        searcher: tantivy.Searcher,
        query: tantivy.Query | None,
        request: SearchRequest,
        has_text: bool,
    ) -> Any:
        if query is None:
            return None
        # tantivy needs a limit of at least one; a count-only request drops the hit after.
        limit = max(request.limit, 1)
        if request.sort is not None:
            order = tantivy.Order.Desc if request.sort.descending else tantivy.Order.Asc
            return searcher.search(
                query,
                limit,
                count=True,
                order_by_field=request.sort.field,
                offset=request.offset,
                order=order,
            )
        if not has_text:
            # Browsing a category: newest first.
            return searcher.search(
                query, limit, count=True, order_by_field="published_at", offset=request.offset
            )
        # Relevance: text score × log2(2 + hot_score).
        return searcher.search(
            query, limit, count=True, offset=request.offset, weight_by_field="hot_score"
        )

    def _aggregate(
        self, searcher: tantivy.Searcher, query: tantivy.Query, request: SearchRequest
    ) -> tuple[dict[str, dict[str, int]], dict[str, tuple[float, float]]]:
        spec: dict[str, Any] = {}
        for name in request.facets:
            spec[f"facet:{name}"] = {"terms": {"field": name, "size": 1000}}
        for name in request.stats:
            spec[f"stats:{name}"] = {"stats": {"field": name}}
        if not spec:
            return {}, {}
        raw = searcher.aggregate(query, spec)
        facets = {
            name: {
                str(bucket["key"]): int(bucket["doc_count"])
                for bucket in raw[f"facet:{name}"]["buckets"]
            }
            for name in request.facets
        }
        stats = {}
        for name in request.stats:
            values = raw[f"stats:{name}"]
            if values.get("count"):
                stats[name] = (float(values["min"]), float(values["max"]))
        return facets, stats

    def suggest(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        words = analyze_query(prefix)
        if not words:
            return []
        searcher = self._searcher()
        last = words[-1]
        found = dict(searcher.terms_with_prefix("title_words", last.text, limit=limit * 2))
        if last.kind == "latin":
            # Typed pinyin (shouj) suggests the Chinese words it spells (手机), read from the
            # titles of the goods it matches.
            for word, count in self._words_spelled(searcher, last.text).most_common(limit):
                found[word] = found.get(word, 0) + count
        found = {word: count for word, count in found.items() if len(word) > 1}
        ranked = sorted(found.items(), key=lambda item: (-item[1], len(item[0]), item[0]))
        return ranked[:limit]

    def _words_spelled(self, searcher: tantivy.Searcher, typed: str) -> Counter[str]:
        query = tantivy.Query.fuzzy_term_query(SCHEMA, "title_pinyin", typed, 0, True, True)
        spelled: Counter[str] = Counter()
        for _, address in searcher.search(query, 50, count=False).hits:
            title = from_stored(searcher.doc(address).to_dict()["doc"][0]).title
            for word in analyze(title).words:
                forms = pinyin_of(word) if is_cjk(word) else None
                if forms and (forms[0].startswith(typed) or forms[1] == typed):
                    spelled[word] += 1
        return spelled

    # -- rebuild and swap ----------------------------------------------------------------

    def rebuild(self, documents: Iterable[GoodsDocument]) -> Iterator[int]:
        name = f"goods-{time.time_ns()}"
        index = self._open_new(name)
        writer = index.writer(_REBUILD_HEAP, 2)
        count = 0
        try:
            for document in documents:
                writer.add_document(to_tantivy(document))
                count += 1
                if count % 5_000 == 0:
                    yield count
            writer.commit()
            writer.wait_merging_threads()
        except BaseException:
            shutil.rmtree(self._root / name, ignore_errors=True)
            raise
        with self._lock:
            previous = (
                self._current_file.read_text().strip() if self._current_file.exists() else None
            )
            self._point_at(name)
            self._index = None
            self._writer = None
            self._forget_searcher()
        if previous and previous != name:
            # Readers of the old folder in other processes keep their open files (POSIX).
            shutil.rmtree(self._root / previous, ignore_errors=True)
        yield count
