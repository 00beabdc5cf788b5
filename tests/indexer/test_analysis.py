"""Chinese and Latin analysis: the cases shoppers type, as the index and queries see them."""

from __future__ import annotations

import pytest

from indexer.analysis import analyze, analyze_query, latin_forms, normalize, query_tokens
from indexer.highlight import highlight


def _query_texts(query: str) -> list[str]:
    return [word.text for word in analyze_query(query)]


def test_search_mode_keeps_sub_words_that_plain_segmentation_merges() -> None:
    words = analyze("安装简单的双肩包").words
    assert {"安装简单", "简单", "双肩包", "双肩"} <= set(words)


def test_character_grams_catch_any_sub_word() -> None:
    grams = analyze("双肩背包").grams
    assert {"双", "肩", "双肩", "肩背", "背包"} <= set(grams)


def test_pinyin_full_initials_and_syllables() -> None:
    pinyin = analyze("小米手机").pinyin
    assert {"shouji", "sj", "shou", "ji", "xiaomi", "xm"} <= set(pinyin)


@pytest.mark.parametrize(
    ("run", "forms"),
    [
        ("iphone13", ["iphone13", "iphone", "13"]),
        ("256gb", ["256gb", "256g", "256", "g"]),
        ("256g", ["256g", "256", "g"]),
        ("mate60", ["mate60", "mate", "60"]),
        ("pro", ["pro"]),
    ],
)
def test_latin_runs_split_where_letters_meet_digits(run: str, forms: list[str]) -> None:
    assert latin_forms(run) == forms


def test_full_width_and_case_are_folded() -> None:
    assert normalize("ＩＰｈｏｎｅ１３") == "iphone13"
    assert analyze("ＩＰＨＯＮＥ １３").words == ["iphone", "13"]


def test_queries_split_brand_and_model_and_make_units_canonical() -> None:
    assert _query_texts("iPhone13 256GB") == ["iphone", "13", "256", "g"]
    assert query_tokens("华为 Mate60 Pro") == "华为 mate 60 pro"


def test_only_the_last_query_word_completes_as_a_prefix() -> None:
    words = analyze_query("小米 shou")
    assert [w.is_last for w in words] == [False, True]


def test_typo_budget_follows_word_length() -> None:
    budgets = {w.text: w.typo_distance for w in analyze_query("ipad iphnoe samsunggalaxy 13 手机")}
    assert budgets == {"ipad": 0, "iphnoe": 1, "samsunggalaxy": 2, "13": 0, "手机": 0}


def test_control_characters_and_overlong_queries_are_harmless() -> None:
    assert _query_texts("手机\x00\x1f") == ["手机"]
    assert len(analyze_query("手机 " * 5000)) == 1


@pytest.mark.parametrize(
    ("title", "query", "expected"),
    [
        ("安装简单的双肩包", "简单", "安装<em>简单</em>的双肩包"),
        ("双肩背包", "双肩", "<em>双肩</em>背包"),
        ("小米手机 12", "sj", "小米<em>手机</em> 12"),
        ("小米手机 12", "shouji", "小米<em>手机</em> 12"),
        ("华为Mate60", "huawie", "<em>华为</em>Mate60"),
        ("自用iPhone 13", "iphnoe", "自用<em>iPhone</em> 13"),
        ("iPhone 14 <限量>", "iph", "<em>iPhone</em> 14 &lt;限量&gt;"),
    ],
)
def test_highlight_marks_what_matched_and_escapes_the_rest(
    title: str, query: str, expected: str
) -> None:
    assert highlight(title, analyze_query(query)) == expected


@pytest.mark.parametrize(
    ("typed", "syllables"),
    [
        ("kongtiaoshan", ("kong", "tiao", "shan")),
        ("shuangjianbao", ("shuang", "jian", "bao")),
        ("xian", ("xian",)),  # the fewest syllables win
        ("iphone", None),  # not pinyin at all
    ],
)
def test_typed_pinyin_splits_into_syllables(typed: str, syllables: tuple[str, ...] | None) -> None:
    from indexer.analysis import split_pinyin

    assert split_pinyin(typed) == syllables


def test_each_chinese_character_keeps_its_syllable_in_order() -> None:
    assert analyze("格力空调扇 静音").syllables == [
        "ge",
        "li",
        "kong",
        "tiao",
        "shan",
        "jing",
        "yin",
    ]
