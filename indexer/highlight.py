"""Marking the words of a title that matched the query: <em>…</em>, the rest HTML-escaped.

Done here rather than by each engine so that pinyin, typo and sub-word matches are marked
the same way whichever engine answered.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from rapidfuzz.distance import OSA

from indexer.analysis import QueryWord, normalize, pinyin_of

_LATIN = re.compile(r"[a-z]+|[0-9]+(?:\.[0-9]+)?")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@lru_cache(maxsize=65_536)
def _normalized_character(character: str) -> str:
    return normalize(character)[:1] or " "


def _within_typos(word: str, candidate: str, distance: int) -> bool:
    # Optimal string alignment distance (a swap of neighbours costs one, like the engines);
    # rapidfuzz's C++ stops at the cutoff. Highlighting 20 hits of a Latin query compares
    # every word of every title, which in pure Python took most of such a search's time.
    return OSA.distance(word, candidate, score_cutoff=distance) <= distance


def matched_spans(title: str, words: list[QueryWord]) -> list[tuple[int, int]]:
    """Character spans of `title` that match any query word."""
    # Normalising character by character keeps offsets aligned with the original title.
    norm = "".join(map(_normalized_character, title))
    spans: list[tuple[int, int]] = []
    latin_tokens: list[tuple[int, int, str]] | None = None
    pinyin_stretches: list[tuple[int, int, tuple[str, str]]] | None = None
    for word in words:
        typed = word.text
        if word.kind == "cjk":
            spans += _occurrences(norm, typed)
            continue
        if latin_tokens is None:
            latin_tokens = [(m.start(), m.end(), m.group()) for m in _LATIN.finditer(norm)]
        distance = word.typo_distance
        for start, end, text in latin_tokens:
            if (
                text == typed
                or (word.is_last and text.startswith(typed))
                or (distance and _within_typos(typed, text, distance))
            ):
                spans.append((start, end))
        if word.kind == "latin" and len(typed) >= 2:
            if pinyin_stretches is None:
                pinyin_stretches = _pinyin_stretches(norm)
            spans += _pinyin_spans(pinyin_stretches, word)
    return spans


def _occurrences(text: str, part: str) -> list[tuple[int, int]]:
    """Non-overlapping occurrences of `part`, left to right."""
    found = []
    start = text.find(part)
    while start >= 0:
        found.append((start, start + len(part)))
        start = text.find(part, start + len(part))
    return found


def _pinyin_stretches(norm: str) -> list[tuple[int, int, tuple[str, str]]]:
    """Every stretch of 1–4 Chinese characters with its pinyin and initials, shortest first
    from each start (a title's stretches serve every typed word)."""
    stretches = []
    for run in _CJK_RUN.finditer(norm):
        text = run.group()
        for start in range(len(text)):
            for size in range(1, min(4, len(text) - start) + 1):
                forms = pinyin_of(text[start : start + size])
                if forms:
                    begin = run.start() + start
                    stretches.append((begin, begin + size, forms))
    return stretches


def _pinyin_spans(
    stretches: list[tuple[int, int, tuple[str, str]]], word: QueryWord
) -> list[tuple[int, int]]:
    # The shortest stretch from each start whose pinyin or initials is what was typed:
    # 戴森 for daisen, not 戴森吹风 whose pinyin merely starts with it.
    spans = []
    matched_start = -1
    for start, end, forms in stretches:
        if start != matched_start and _pinyin_matches(word, forms):
            spans.append((start, end))
            matched_start = start
    return spans


def _pinyin_matches(word: QueryWord, forms: tuple[str, str]) -> bool:
    full = forms[0]
    if word.text in forms or (word.is_last and full.startswith(word.text)):
        return True
    return bool(word.typo_distance) and _within_typos(word.text, full, word.typo_distance)


def highlight(title: str, words: list[QueryWord]) -> str:
    spans = sorted(matched_spans(title, words))
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    out, cursor = [], 0
    for start, end in merged:
        out.append(html.escape(title[cursor:start]))
        out.append(f"<em>{html.escape(title[start:end])}</em>")
        cursor = end
    out.append(html.escape(title[cursor:]))
    return "".join(out)
