"""The embedded engine's near misses (the relaxed pass) and indexes built by older versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer import embedded
from indexer.embedded import EmbeddedEngine
from indexer.engine import SearchRequest
from tests.factories import goods_document

# Forty goods share the character 新 (全新): with the threshold lowered to ten documents,
# 新 is a common word here as it is in a catalog of a million.
_NEW_DRESSES = [goods_document(i, f"全新 连衣裙 {i}号") for i in range(1, 41)]
_BED_SHEET = goods_document(100, "床布 棉麻 1.5米")


@pytest.fixture
def common_from_ten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "_COMMON_MIN_DOCUMENTS", 10)


def _found(engine: EmbeddedEngine, query: str) -> list[int]:
    return [hit.document.id for hit in engine.search(SearchRequest(query=query, limit=50)).hits]


@pytest.mark.usefixtures("common_from_ten")
def test_a_near_miss_must_hold_the_rarer_words(tmp_path: Path) -> None:
    engine = EmbeddedEngine(tmp_path)
    engine.upsert([*_NEW_DRESSES, _BED_SHEET])
    # Nothing holds both 新 and 床布: the bed sheet is near; forty goods sharing 新 are not.
    assert _found(engine, "新床布") == [100]


@pytest.mark.usefixtures("common_from_ten")
def test_a_near_miss_on_common_words_alone_finds_nothing(tmp_path: Path) -> None:
    engine = EmbeddedEngine(tmp_path)
    engine.upsert(_NEW_DRESSES)
    result = engine.search(SearchRequest(query="新床布", facets=("city",)))
    assert (result.total, result.hits) == (0, [])


@pytest.mark.usefixtures("common_from_ten")
def test_common_words_still_rank_the_near_misses(tmp_path: Path) -> None:
    engine = EmbeddedEngine(tmp_path)
    plain, new = goods_document(200, "二手 床布 棉麻"), goods_document(201, "全新 床布 棉麻")
    engine.upsert([*_NEW_DRESSES, plain, new])
    # 新 alone qualifies nothing, but it lifts the sheet that has it (床单 is not held).
    assert _found(engine, "新床布 棉麻床单")[:2] == [201, 200]


def test_in_a_small_catalog_every_word_counts(tmp_path: Path) -> None:
    engine = EmbeddedEngine(tmp_path)
    engine.upsert([*_NEW_DRESSES[:3], _BED_SHEET])
    # Below the threshold no word is common: any of them qualifies, as before.
    assert set(_found(engine, "新床布")) == {1, 2, 3, 100}


def test_a_new_index_has_every_field_and_an_older_one_still_finds_typos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = EmbeddedEngine(tmp_path / "new")
    engine.upsert([goods_document(1, "自用 iPhone 13 256G")])
    assert engine.outdated_fields() == []
    live = (tmp_path / "new" / "CURRENT").read_text()
    meta = json.loads((tmp_path / "new" / live / "meta.json").read_text())
    assert {field["name"] for field in meta["schema"]} == set(embedded._ALL_FIELDS)

    # An index written before title_latin existed: typos are matched in title_words.
    def without_latin(self: EmbeddedEngine, name: str) -> set[str]:
        return set(embedded._ALL_FIELDS) - {"title_latin"}

    monkeypatch.setattr(EmbeddedEngine, "_field_names", without_latin)
    older = EmbeddedEngine(tmp_path / "older")
    older.upsert([goods_document(1, "自用 iPhone 13 256G")])
    assert older.outdated_fields() == ["title_latin"]
    assert _found(older, "iphnoe") == [1]
    assert _found(older, "ipho") == [1]  # as-you-type prefix


def test_typos_and_prefixes_are_matched_in_the_latin_words(tmp_path: Path) -> None:
    engine = EmbeddedEngine(tmp_path)
    engine.upsert([goods_document(1, "自用 iPhone 13 256G"), goods_document(2, "苹果 手机壳")])
    assert _found(engine, "iphnoe") == [1]
    assert _found(engine, "ipho") == [1]
    assert _found(engine, "pingguo") == [2]  # pinyin is unaffected
