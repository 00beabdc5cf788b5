"""Typed pinyin across jieba's word boundaries (embedded engine: a phrase of syllables)."""

from __future__ import annotations

import time
from pathlib import Path

from indexer.embedded import EmbeddedEngine
from indexer.engine import SearchRequest
from tests.factories import goods_document


def test_full_pinyin_finds_words_that_segmentation_split(tmp_path: Path) -> None:
    engine = EmbeddedEngine(tmp_path)
    titles = {1: "格力空调扇 遥控款", 2: "空调 挂机 1.5匹", 3: "小风扇 USB"}
    engine.upsert([goods_document(goods_id, title) for goods_id, title in titles.items()])
    found = [hit.document.id for hit in engine.search(SearchRequest(query="kongtiaoshan")).hits]
    assert found == [1]  # 空调扇, not 空调 alone nor 扇 alone


def test_a_reader_in_another_process_sees_the_writers_commits(tmp_path: Path) -> None:
    # Two engines on one folder stand for two server processes: one runs the relay.
    writer, reader = EmbeddedEngine(tmp_path), EmbeddedEngine(tmp_path)
    assert reader.search(SearchRequest(query="显示器")).total == 0
    document = goods_document(7, "二手显示器 27寸")
    writer.upsert([document])
    assert writer.search(SearchRequest(query="显示器")).total == 1  # its own commit: at once
    # The reader looks at the files at most every few milliseconds (a busy server would
    # otherwise pay system calls on every search): well inside the 1 s freshness bound.
    started = time.monotonic()
    while reader.search(SearchRequest(query="显示器")).total == 0:
        assert time.monotonic() - started < 0.2, "the other process's commit stayed unseen"
        time.sleep(0.002)
