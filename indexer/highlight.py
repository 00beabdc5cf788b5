"""Marking the words of a title that matched the query: <em>…</em>, the rest HTML-escaped.

Done here rather than by each engine so that pinyin, typo and sub-word matches are marked
the same way whichever engine answered.
"""

from __future__ import annotations

import html
import re

from indexer.analysis import QueryWord, is_cjk, normalize, pinyin_of

_LATIN = re.compile(r"[a-z]+|[0-9]+(?:\.[0-9]+)?")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _within_typos(word: str, candidate: str, distance: int) -> bool:
    if abs(len(word) - len(candidate)) > distance:
        return False
    # Optimal string alignment distance (a swap of neighbours costs one, like the engines).
    previous2: list[int] = []
    previous = list(range(len(candidate) + 1))
    for i, a in enumerate(word, 1):
        current = [i] + [0] * len(candidate)
        for j, b in enumerate(candidate, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
            if i > 1 and j > 1 and a == candidate[j - 2] and word[i - 2] == b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1] <= distance


def matched_spans(title: str, words: list[QueryWord]) -> list[tuple[int, int]]:
    """Character spans of `title` that match any query word."""
    # Normalising character by character keeps offsets aligned with the original title.
    norm = "".join(normalize(c)[:1] or " " for c in title)
    spans: list[tuple[int, int]] = []
    for word in words:
        if word.kind == "cjk":
            spans += [(m.start(), m.end()) for m in re.finditer(re.escape(word.text), norm)]
            continue
        for token in _LATIN.finditer(norm):
            text = token.group()
            if (
                text == word.text
                or (word.is_last and text.startswith(word.text))
                or (word.typo_distance and _within_typos(word.text, text, word.typo_distance))
            ):
                spans.append((token.start(), token.end()))
        if word.kind == "latin" and len(word.text) >= 2:
            spans += _pinyin_spans(norm, word)
    return spans


def _pinyin_spans(norm: str, word: QueryWord) -> list[tuple[int, int]]:
    spans = []
    for run in _CJK_RUN.finditer(norm):
        text = run.group()
        # The shortest stretch (1–4 characters) from each start whose pinyin or initials is
        # what was typed: 戴森 for daisen, not 戴森吹风 whose pinyin merely starts with it.
        for start in range(len(text)):
            for size in range(1, min(4, len(text) - start) + 1):
                forms = pinyin_of(text[start : start + size])
                if forms and is_cjk(text[start]) and _pinyin_matches(word, forms):
                    spans.append((run.start() + start, run.start() + start + size))
                    break
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
