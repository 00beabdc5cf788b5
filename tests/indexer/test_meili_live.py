"""The Meilisearch adapter against a real server. Runs when MEILI_URL is set (with
MEILI_MASTER_KEY or MEILI_API_KEY if the server needs one); with REQUIRE_MEILI=1 a missing or
unreachable server fails the run instead of skipping. Each test uses its own index and
deletes it afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace

import meilisearch
import pytest

from indexer.engine import And, AnyOf, Eq, Not, Range, SearchRequest, Sort
from indexer.meili import MeiliEngine
from tests.factories import goods_document

MEILI_URL = os.environ.get("MEILI_URL", "")
MEILI_KEY = os.environ.get("MEILI_MASTER_KEY") or os.environ.get("MEILI_API_KEY") or None


def _required() -> bool:
    return os.environ.get("REQUIRE_MEILI", "") not in ("", "0", "false")


def _unavailable(reason: str) -> None:
    if _required():
        pytest.fail(f"REQUIRE_MEILI is set but {reason}")
    pytest.skip(reason)


GOODS = [
    goods_document(1, "自用iPhone 13 256G 国行", price=2650_00),
    goods_document(2, "iPhone 12 64G 蓝色", price=1780_00, condition="9成新", city="北京"),
    goods_document(3, "小米手机12 Pro", price=1500_00, condition="99新", city="北京", seller_id=8),
    goods_document(
        4,
        "安装简单的双肩包",
        price=50_00,
        category_id=21,
        category_ids=(21, 2),
        category_names=("双肩包", "服饰鞋包"),
        city='上"海\\',  # quotes and backslashes survive the filter syntax
    ),
]


@pytest.fixture
def meili() -> Iterator[MeiliEngine]:
    if not MEILI_URL:
        _unavailable("MEILI_URL is not set")
    uid = f"idlemarket_test_{uuid.uuid4().hex[:12]}"
    engine = MeiliEngine(MEILI_URL, MEILI_KEY, index_uid=uid, timeout_ms=30_000)
    if not engine.health():
        _unavailable(f"Meilisearch at {MEILI_URL} is unreachable")
    yield engine
    client = meilisearch.Client(MEILI_URL, MEILI_KEY)
    for index in client.get_indexes({"limit": 1000})["results"]:
        if index.uid == uid or index.uid.startswith(f"{uid}_rebuild_"):
            client.wait_for_task(client.delete_index(index.uid).task_uid, timeout_in_ms=30_000)


@pytest.fixture
def filled(meili: MeiliEngine) -> MeiliEngine:
    meili.apply(GOODS, [])
    return meili


def _ids(engine: MeiliEngine, request: SearchRequest) -> list[int]:
    return [hit.document.id for hit in engine.search(request).hits]


def test_health(meili: MeiliEngine) -> None:
    assert meili.health()
    assert meili.count() == 0  # first use creates the index


def test_filters_facets_stats_and_sorts(filled: MeiliEngine) -> None:
    assert filled.count() == 4
    phones = SearchRequest(
        filter=And(
            (
                Eq("category_ids", 1),
                AnyOf("condition", ("95新", "9成新", "99新")),
                Range("price", 1000_00, 3000_00),
                Not(Eq("seller_id", 8)),
            )
        ),
        facets=("city", "condition", "category_id"),
        stats=("price",),
        sort=Sort("price", descending=False),
    )
    result = filled.search(phones)
    assert [hit.document.id for hit in result.hits] == [2, 1]
    assert result.total == 2
    assert result.facets["city"] == {"上海": 1, "北京": 1}
    assert result.facets["category_id"] == {"11": 2}
    assert result.stats["price"] == (1780_00, 2650_00)
    assert _ids(filled, SearchRequest(filter=Eq("city", '上"海\\'))) == [4]
    assert _ids(filled, SearchRequest(filter=AnyOf("city", ()))) == []
    assert _ids(filled, SearchRequest()) == [4, 3, 2, 1]  # browsing: newest first
    assert _ids(filled, SearchRequest(sort=Sort("price"), offset=1, limit=2)) == [2, 3]


def test_finds_sub_words_pinyin_typos_and_highlights(filled: MeiliEngine) -> None:
    assert 4 in _ids(filled, SearchRequest(query="简单"))
    assert 3 in _ids(filled, SearchRequest(query="shouji"))
    assert 3 in _ids(filled, SearchRequest(query="xm"))
    typo = filled.search(SearchRequest(query="iphnoe 13"))
    assert typo.hits[0].document.id == 1
    assert typo.hits[0].highlighted_title.startswith("自用<em>iPhone</em> <em>13</em>")
    words = [word for word, _ in filled.suggest("shouj", 5)]
    assert "手机" in words


def test_versions_decide_between_late_and_fresh_snapshots(filled: MeiliEngine) -> None:
    filled.upsert([replace(GOODS[0], version=3, title="自用iPhone 13 改价")])
    filled.upsert([replace(GOODS[0], version=2, title="过期的旧快照")])
    assert _ids(filled, SearchRequest(query="过期")) == []
    assert filled.versions() == {1: 3, 2: 1, 3: 1, 4: 1}
    filled.delete([(1, 2)])  # an older delisting must not remove a newer listing
    assert 1 in filled.versions()
    filled.apply([], [(1, 3), (2, 0)])  # version 0 removes whatever is indexed
    assert filled.versions() == {3: 1, 4: 1}
    assert _ids(filled, SearchRequest(query="iphone")) == []


def test_rebuild_swaps_in_a_searchable_index(filled: MeiliEngine) -> None:
    fresh = [replace(doc, version=2) for doc in GOODS[:3]]
    progress = list(filled.rebuild(iter(fresh)))
    assert progress[-1] == 3
    assert filled.versions() == {1: 2, 2: 2, 3: 2}
    assert _ids(filled, SearchRequest(query="iphone", sort=Sort("price"))) == [1, 2]
    assert filled.health()
    client = meilisearch.Client(MEILI_URL, MEILI_KEY)
    uids = [index.uid for index in client.get_indexes({"limit": 1000})["results"]]
    assert not [uid for uid in uids if uid.startswith("idlemarket_test_") and "_rebuild_" in uid]
