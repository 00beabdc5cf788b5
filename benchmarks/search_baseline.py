"""The PostgreSQL full-text baseline that `search_bench.py` measures the engine against: the
best a team without a search engine would build on the database it already runs.

- Titles are segmented in Python exactly as the engine segments them (`indexer.analysis`:
  jieba search-mode words, Latin/number runs) and stored space-joined; a generated column
  holds `to_tsvector('simple', words)`, with a GIN index.
- A query's words (jieba `cut`, as the engine's query analysis) must all match
  (`plainto_tsquery`); when none does, any of them may (`|`); results are ranked by
  `ts_rank_cd`, times the same log2(2 + hot_score) the engine multiplies by.
- When no word matches at all, `pg_trgm` (GIN on `lower(title)`) catches sub-strings
  (`LIKE '%q%'`) and Latin typos (`q <% lower(title)`, word similarity ≥ 0.4), ordered by
  word similarity.
- Facets are one `GROUPING SETS` scan of the same WHERE: counts per condition, city and
  category, the total, and min/max price.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg2
import psycopg2.extensions

from indexer.analysis import analyze, analyze_query, normalize

TABLE = "search_baseline_goods"
# pg_trgm's default (0.6) misses one-letter typos in short words (iphnoe ~ iphone is 0.43).
WORD_SIMILARITY_THRESHOLD = 0.4
_COPY_CHUNK = 50_000


@dataclass(frozen=True)
class BaselineGoods:
    id: int
    title: str
    category_id: int
    price: int
    condition: str
    city: str
    published_at: int
    hot_score: float


@dataclass(frozen=True)
class BaselineLoad:
    rows: int
    segment_and_copy_seconds: float
    index_seconds: float
    table_bytes: int
    index_bytes: int

    @property
    def total_seconds(self) -> float:
        return self.segment_and_copy_seconds + self.index_seconds


@dataclass(frozen=True)
class BaselinePage:
    ids: list[int]
    # Which step found the results: "and", "or", "trigram", or "none".
    stage: str
    total: int | None = None
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    price_stats: tuple[int, int] | None = None


def libpq_dsn(url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg2://...) as libpq understands it."""
    scheme, _, rest = url.partition("://")
    if not scheme.startswith("postgresql") or not rest:
        raise ValueError(f"not a PostgreSQL URL: {url}")
    return f"postgresql://{rest}"


def ensure_database(url: str) -> None:
    """Create the database named in `url` if the server lacks it."""
    dsn = libpq_dsn(url)
    try:
        psycopg2.connect(dsn).close()
        return
    except psycopg2.OperationalError as error:
        if "does not exist" not in str(error):
            raise
    params = psycopg2.extensions.parse_dsn(dsn)
    name = params.pop("dbname")
    maintenance = psycopg2.connect(**{**params, "dbname": "postgres"})
    try:
        maintenance.autocommit = True
        with maintenance.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        maintenance.close()


def title_words(title: str) -> str:
    """The words of a title as the engine indexes them (title_words), space-joined."""
    return " ".join(analyze(title).words)


def _copy_field(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _chunks(rows: Iterable[BaselineGoods]) -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    count = 0
    for row in rows:
        buffer.write(
            f"{row.id}\t{_copy_field(row.title)}\t{_copy_field(title_words(row.title))}\t"
            f"{row.category_id}\t{row.price}\t{_copy_field(row.condition)}\t"
            f"{_copy_field(row.city)}\t{row.published_at}\t{row.hot_score!r}\n"
        )
        count += 1
        if count == _COPY_CHUNK:
            buffer.seek(0)
            yield buffer
            buffer, count = io.StringIO(), 0
    if count:
        buffer.seek(0)
        yield buffer


def _ts_order(tsquery: str) -> str:
    return f"ts_rank_cd(tsv, {tsquery}) * ln(2 + hot_score) DESC, id"


class PostgresBaseline:
    """One connection (autocommit), the table it owns, and the searches."""

    def __init__(self, url: str) -> None:
        ensure_database(url)
        self._connection = psycopg2.connect(libpq_dsn(url))
        self._connection.autocommit = True
        with self._connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
            self.has_trigram = cursor.fetchone() is not None
            if self.has_trigram:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                cursor.execute(
                    f"SET pg_trgm.word_similarity_threshold = {WORD_SIMILARITY_THRESHOLD}"
                )
            # JIT compiles expensive plans for tens of milliseconds; an OLTP team turns it off.
            cursor.execute("SET jit = off")
            cursor.execute("SET maintenance_work_mem = '1GB'")

    def close(self) -> None:
        self._connection.close()

    def settings(self) -> dict[str, Any]:
        names = ("server_version", "shared_buffers", "work_mem", "jit", "lc_ctype")
        with self._connection.cursor() as cursor:
            values = {}
            for name in names:
                cursor.execute(f"SHOW {name}")
                row = cursor.fetchone()
                values[name] = row[0] if row else None
        values["pg_trgm"] = self.has_trigram
        values["word_similarity_threshold"] = WORD_SIMILARITY_THRESHOLD
        return values

    def load(self, rows: Iterable[BaselineGoods]) -> BaselineLoad:
        """Drop and refill the table, then index it: what a full reload costs."""
        with self._connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
            cursor.execute(
                f"""
                CREATE TABLE {TABLE} (
                    id bigint NOT NULL,
                    title text NOT NULL,
                    title_words text NOT NULL,
                    category_id integer NOT NULL,
                    price bigint NOT NULL,
                    condition text NOT NULL,
                    city text NOT NULL,
                    published_at bigint NOT NULL,
                    hot_score double precision NOT NULL,
                    tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', title_words)) STORED
                )
                """
            )
            started = time.perf_counter()
            count = 0
            columns = (
                "id, title, title_words, category_id, price, condition, city, published_at,"
                " hot_score"
            )
            for chunk in _chunks(rows):
                cursor.copy_expert(f"COPY {TABLE} ({columns}) FROM STDIN", chunk)
                count += chunk.getvalue().count("\n")
            copied = time.perf_counter()
            cursor.execute(f"ALTER TABLE {TABLE} ADD PRIMARY KEY (id)")
            cursor.execute(f"CREATE INDEX {TABLE}_tsv ON {TABLE} USING gin (tsv)")
            if self.has_trigram:
                cursor.execute(
                    f"CREATE INDEX {TABLE}_trgm ON {TABLE} USING gin (lower(title) gin_trgm_ops)"
                )
            cursor.execute(f"VACUUM ANALYZE {TABLE}")
            indexed = time.perf_counter()
            cursor.execute(f"SELECT pg_table_size('{TABLE}'), pg_indexes_size('{TABLE}')")
            sizes = cursor.fetchone() or (0, 0)
        return BaselineLoad(
            rows=count,
            segment_and_copy_seconds=copied - started,
            index_seconds=indexed - copied,
            table_bytes=int(sizes[0]),
            index_bytes=int(sizes[1]),
        )

    # -- searching -------------------------------------------------------------------------

    def _stages(self, query: str) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
        """(name, WHERE, ORDER BY, parameters) of each step, in the order they are tried."""
        words = [word.text for word in analyze_query(query)]
        if words:
            tsquery = "plainto_tsquery('simple', %(words)s)"
            params: dict[str, Any] = {"words": " ".join(words)}
            yield "and", f"tsv @@ {tsquery}", _ts_order(tsquery), params
            if len(words) > 1:
                # Analysed words hold no quotes or operators; quoting keeps each one a lexeme.
                tsquery = "to_tsquery('simple', %(either)s)"
                params = {"either": " | ".join(f"'{word}'" for word in words)}
                yield "or", f"tsv @@ {tsquery}", _ts_order(tsquery), params
        text = normalize(query).strip()
        if self.has_trigram and text:
            like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            yield (
                "trigram",
                "(lower(title) LIKE %(like)s OR %(text)s <%% lower(title))",
                "word_similarity(%(text)s, lower(title)) DESC, id",
                {"like": like, "text": text},
            )

    def _search(self, query: str, limit: int) -> tuple[BaselinePage, tuple[str, dict[str, Any]]]:
        with self._connection.cursor() as cursor:
            for stage, where, order, params in self._stages(query):
                cursor.execute(
                    f"SELECT id FROM {TABLE} WHERE {where} ORDER BY {order} LIMIT %(limit)s",  # noqa: S608
                    {**params, "limit": limit},
                )
                ids = [row[0] for row in cursor.fetchall()]
                if ids:
                    return BaselinePage(ids=ids, stage=stage), (where, params)
        return BaselinePage(ids=[], stage="none"), ("false", {})

    def search(self, query: str, limit: int = 20) -> BaselinePage:
        """The best `limit` ids, from the first step that finds anything."""
        page, _ = self._search(query, limit)
        return page

    def search_with_facets(self, query: str, limit: int = 20) -> BaselinePage:
        """A page as the API gives it: hits, total, facet counts and price span."""
        page, (where, params) = self._search(query, limit)
        if page.stage == "none":
            return BaselinePage(ids=[], stage="none", total=0)
        facets: dict[str, dict[str, int]] = {"condition": {}, "city": {}, "category": {}}
        total = 0
        price_stats = None
        with self._connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT grouping(condition), grouping(city), grouping(category_id),
                       condition, city, category_id, count(*), min(price), max(price)
                FROM {TABLE} WHERE {where}
                GROUP BY GROUPING SETS ((condition), (city), (category_id), ())
                """,  # noqa: S608
                params,
            )
            for row in cursor.fetchall():
                g_condition, g_city, g_category, condition, city, category, n, low, high = row
                if not g_condition:
                    facets["condition"][condition] = n
                elif not g_city:
                    facets["city"][city] = n
                elif not g_category:
                    facets["category"][str(category)] = n
                else:
                    total = n
                    price_stats = (int(low), int(high)) if n else None
        return BaselinePage(
            ids=page.ids, stage=page.stage, total=total, facets=facets, price_stats=price_stats
        )
