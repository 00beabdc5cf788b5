"""One contract for every search engine adapter: the embedded engine always, Meilisearch
when MEILI_URL is set. Documents are given directly; no database is involved."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from indexer.embedded import EmbeddedEngine
from indexer.engine import And, AnyOf, Eq, Not, Or, Range, SearchEngine, SearchRequest, Sort
from tests.factories import goods_document

PHONES, BAGS, PHONE_TOP = 11, 21, 1


CATALOG = [
    goods_document(1, "自用iPhone 13 256G 国行 电池88%", price=2650_00, condition="95新"),
    goods_document(2, "iPhone 12 64G 蓝色", price=1780_00, condition="9成新", city="北京"),
    goods_document(3, "小米手机12 Pro 8+256", price=1500_00, condition="99新", city="北京"),
    goods_document(4, "华为Mate60 Pro 512G", price=4500_00, condition="全新", city="深圳"),
    goods_document(
        5,
        "安装简单的双肩包",
        price=50_00,
        category_id=BAGS,
        category_ids=(BAGS, 2),
        category_names=("双肩包", "服饰鞋包"),
    ),
    goods_document(
        6,
        "户外登山背包 大容量",
        price=120_00,
        category_id=BAGS,
        category_ids=(BAGS, 2),
        category_names=("双肩包", "服饰鞋包"),
        condition="8成新",
    ),
]


def _engines() -> list[object]:
    engines: list[object] = ["embedded"]
    if os.environ.get("MEILI_URL"):
        engines.append("meilisearch")
    elif os.environ.get("REQUIRE_MEILI") == "1":
        engines.append(pytest.param("meilisearch", marks=pytest.mark.skip("MEILI_URL unset")))
    return engines


@pytest.fixture(params=_engines())
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchEngine]:
    if request.param == "embedded":
        yield EmbeddedEngine(tmp_path / "index")
        return
    from indexer.meili import MeiliEngine

    uid = f"contract_{uuid.uuid4().hex[:12]}"
    engine = MeiliEngine(os.environ["MEILI_URL"], os.environ.get("MEILI_MASTER_KEY"), index_uid=uid)
    yield engine
    engine.drop()  # type: ignore[attr-defined]


@pytest.fixture
def filled(engine: SearchEngine) -> SearchEngine:
    engine.apply(CATALOG, [])
    return engine


def _ids(engine: SearchEngine, request: SearchRequest) -> list[int]:
    return [hit.document.id for hit in engine.search(request).hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("iphone", {1, 2}),
        ("iphnoe", {1, 2}),  # a Latin typo
        ("huawie", {4}),  # a typo in pinyin
        ("iphone13 256g", {1}),  # brand+model glued, unit written differently
        ("简单", {5}),  # a sub-word Meilisearch's own segmentation misses
        ("双肩", {5, 6}),  # the title word, or the category 双肩包
        ("shouji", {3}),  # pinyin of 手机 in a title (category names count too)
        ("登山包", {6}),  # most words match: settle for most rather than nothing
    ],
)
def test_finds_what_shoppers_type(filled: SearchEngine, query: str, expected: set[int]) -> None:
    found = set(_ids(filled, SearchRequest(query=query, limit=20)))
    assert expected <= found, (query, found)


def test_initials_find_words(filled: SearchEngine) -> None:
    assert 3 in _ids(filled, SearchRequest(query="xm", limit=20))


def test_filters_combine(filled: SearchEngine) -> None:
    request = SearchRequest(
        filter=And(
            (
                Eq("category_ids", PHONE_TOP),
                AnyOf("condition", ("95新", "9成新", "99新")),
                Range("price", 1000_00, 3000_00),
                Not(Eq("city", "深圳")),
            )
        ),
        limit=20,
    )
    assert set(_ids(filled, request)) == {1, 2, 3}
    either = SearchRequest(filter=Or((Eq("city", "深圳"), Eq("category_ids", BAGS))), limit=20)
    assert set(_ids(filled, either)) == {4, 5, 6}
    assert _ids(filled, SearchRequest(filter=AnyOf("city", ()), limit=20)) == []


def test_sorts_and_pages(filled: SearchEngine) -> None:
    cheapest = _ids(filled, SearchRequest(sort=Sort("price", descending=False), limit=20))
    assert cheapest == [5, 6, 3, 2, 1, 4]
    newest = _ids(filled, SearchRequest(limit=20))
    assert newest == [6, 5, 4, 3, 2, 1]
    pages = [
        _ids(filled, SearchRequest(sort=Sort("price"), offset=offset, limit=2))
        for offset in (0, 2, 4)
    ]
    assert [i for page in pages for i in page] == _ids(
        filled, SearchRequest(sort=Sort("price"), limit=20)
    )


def test_facets_and_stats_follow_the_filter(filled: SearchEngine) -> None:
    result = filled.search(
        SearchRequest(
            filter=Eq("category_ids", PHONE_TOP),
            facets=("condition", "city", "category_id"),
            stats=("price",),
            limit=0,
        )
    )
    assert result.total == 4
    assert result.hits == []
    assert result.facets["city"] == {"上海": 1, "北京": 2, "深圳": 1}
    assert result.facets["category_id"] == {str(PHONES): 4}
    assert result.stats["price"] == (1500_00, 4500_00)


def test_hits_carry_the_document_and_a_highlighted_title(filled: SearchEngine) -> None:
    hit = filled.search(SearchRequest(query="iphnoe 13")).hits[0]
    assert hit.document.id == 1
    assert hit.document.photo == "/media/thumbs/1.jpg"
    assert hit.highlighted_title.startswith("自用<em>iPhone</em> <em>13</em>")


def test_popularity_lifts_equally_relevant_goods(filled: SearchEngine) -> None:
    filled.apply([replace(CATALOG[1], version=2, hot_score=500.0)], [])
    assert _ids(filled, SearchRequest(query="iphone", limit=2))[0] == 2


def test_versions_decide_between_late_and_fresh_snapshots(filled: SearchEngine) -> None:
    filled.apply([replace(CATALOG[0], version=3, title="自用iPhone 13 改价")], [])
    filled.apply([replace(CATALOG[0], version=2, title="过期的旧快照")], [])
    assert _ids(filled, SearchRequest(query="过期")) == []
    assert filled.versions()[1] == 3
    filled.delete([(1, 2)])  # an older delisting must not remove a newer listing
    assert 1 in filled.versions()
    filled.delete([(1, 3)])
    filled.delete([(2, 0)])  # version 0: the goods are gone; remove whatever is indexed
    assert set(filled.versions()) == {3, 4, 5, 6}
    assert filled.count() == 4


def test_rebuild_swaps_in_a_new_index(filled: SearchEngine) -> None:
    fresh = [replace(doc, version=doc.version + 1) for doc in CATALOG[:3]]
    progress = list(filled.rebuild(iter(fresh)))
    assert progress[-1] == 3
    assert filled.versions() == {1: 2, 2: 2, 3: 2}
    assert filled.health()


def test_suggest_completes_words_and_pinyin(filled: SearchEngine) -> None:
    assert any(word.startswith("双") for word, _ in filled.suggest("双", 5))
    assert "手机" in [word for word, _ in filled.suggest("shouj", 5)]
