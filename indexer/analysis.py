"""Chinese and Latin text analysis, used identically when indexing and when querying.

Engines' own Chinese tokenizers miss sub-words (Meilisearch's jieba `cut` does not find
安装简单 for 简单; meilisearch issues #2499, #4935), so text is analysed here and engines
receive tokens:

- `words`: jieba search-mode words (安装简单 → 安装, 简单, 安装简单) and Latin/number runs,
  lowercased, split where letters meet digits (iphone13 → iphone13, iphone, 13), with
  storage units made canonical (256GB → 256g).
- `grams`: the characters and character bigrams of Chinese runs, for recall of any
  sub-word (双肩 finds 双肩包).
- `pinyin`: each Chinese word's full pinyin and initials (手机 → shouji, sj) and each
  character's pinyin, so `shouji`, `sj` and `shou ji` find 手机.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import rjieba
from pypinyin import lazy_pinyin

# Chinese runs, Latin-or-digit runs; everything else separates tokens.
_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+(?:\.[0-9]+)?")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_PARTS = re.compile(r"[a-z]+|[0-9]+(?:\.[0-9]+)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Sellers write 256G, 256GB and 256g for the same thing; so do shoppers.
_UNITS = {"gb": "g", "tb": "t", "mb": "m", "寸": "寸"}

MAX_QUERY_CHARS = 200


def normalize(text: str) -> str:
    """Full-width to half-width, lowercase, control characters removed."""
    return _CONTROL.sub(" ", unicodedata.normalize("NFKC", text)).lower()


def is_cjk(token: str) -> bool:
    return bool(_CJK.match(token))


@dataclass
class Analyzed:
    words: list[str] = field(default_factory=list)
    grams: list[str] = field(default_factory=list)
    pinyin: list[str] = field(default_factory=list)
    # One syllable per Chinese character, in order: typed pinyin matches as a phrase
    # (kongtiaoshan finds 空调扇 even though jieba cut it into 空调 + 扇).
    syllables: list[str] = field(default_factory=list)

    def extend(self, other: Analyzed) -> None:
        self.words += other.words
        self.grams += other.grams
        self.pinyin += other.pinyin
        self.syllables += other.syllables


def analyze(text: str) -> Analyzed:
    """Tokens of `text` for the index."""
    result = Analyzed()
    for run in _RUN.findall(normalize(text)):
        if is_cjk(run):
            words = _search_words(run)
            result.words += words
            result.grams += char_grams(run)
            for word in words:
                result.pinyin += _pinyin_forms(word)
            result.syllables += _syllables(run)
        else:
            result.words += latin_forms(run)
    return result


@lru_cache(maxsize=200_000)
def _search_words(run: str) -> list[str]:
    return [word for word in rjieba.cut_for_search(run) if word.strip()]


def char_grams(run: str) -> list[str]:
    """Each character and each pair of neighbouring characters of a Chinese run."""
    return list(run) + [run[i : i + 2] for i in range(len(run) - 1)]


@lru_cache(maxsize=200_000)
def _pinyin_forms(word: str) -> tuple[str, ...]:
    syllables = lazy_pinyin(word)
    if not all(s.isascii() and s.isalpha() for s in syllables):
        return ()
    if len(syllables) == 1:
        # One character's initial is a bare letter that would match half the catalog.
        return (syllables[0],)
    return ("".join(syllables), "".join(s[0] for s in syllables), *syllables)


@lru_cache(maxsize=200_000)
def _syllables(run: str) -> tuple[str, ...]:
    return tuple(s if s.isascii() and s.isalpha() else "_" for s in lazy_pinyin(run))


@lru_cache(maxsize=1)
def _all_syllables() -> frozenset[str]:
    """Every pinyin syllable, read off the common CJK block once."""
    block = "".join(chr(code) for code in range(0x4E00, 0x9FA6))
    return frozenset(s for s in lazy_pinyin(block) if s.isascii() and s.isalpha())


@lru_cache(maxsize=50_000)
def split_pinyin(typed: str) -> tuple[str, ...] | None:
    """`kongtiaoshan` → (kong, tiao, shan): the fewest syllables that spell it, or None."""
    known = _all_syllables()
    best: list[tuple[str, ...] | None] = [None] * (len(typed) + 1)
    best[0] = ()
    for end in range(1, len(typed) + 1):
        for start in range(max(0, end - 6), end):
            head = best[start]
            piece = typed[start:end]
            if head is not None and piece in known:
                candidate = (*head, piece)
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[len(typed)]


def latin_forms(run: str) -> list[str]:
    """iphone13 → iphone13, iphone, 13; 256gb → 256gb, 256g, 256, g."""
    parts = [_UNITS.get(part, part) for part in _PARTS.findall(run)]
    forms = [run]
    if len(parts) > 1:
        canonical = "".join(parts)
        if canonical != run:
            forms.append(canonical)
        forms += parts
    elif parts and parts[0] != run:
        forms.append(parts[0])
    return forms


@lru_cache(maxsize=200_000)
def pinyin_of(word: str) -> tuple[str, str] | None:
    """Full pinyin and initials of a Chinese word (for highlighting and suggestions)."""
    syllables = lazy_pinyin(word)
    if not syllables or not all(s.isascii() and s.isalpha() for s in syllables):
        return None
    return "".join(syllables), "".join(s[0] for s in syllables)


@dataclass(frozen=True)
class QueryWord:
    """One word the shopper typed; a document matches it if any of its forms matches.

    `kind` is "cjk" (match as a word, or by its character grams), "latin" (match as a word,
    with typos when long enough, or as pinyin) or "number" (exact).
    """

    text: str
    kind: str
    is_last: bool = False

    @property
    def grams(self) -> list[str]:
        # Bigrams when there are any, else the single character.
        return [self.text[i : i + 2] for i in range(len(self.text) - 1)] or [self.text]

    @property
    def typo_distance(self) -> int:
        # Meilisearch's defaults: one typo from 5 characters, two from 9.
        if self.kind != "latin":
            return 0
        return 2 if len(self.text) >= 9 else 1 if len(self.text) >= 5 else 0


def analyze_query(query: str) -> list[QueryWord]:
    """The words of a shopper's query, in order, duplicates dropped."""
    words: list[QueryWord] = []
    for run in _RUN.findall(normalize(query[:MAX_QUERY_CHARS])):
        if is_cjk(run):
            words += [QueryWord(w, "cjk") for w in rjieba.cut(run) if w.strip()]
        else:
            for part in _PARTS.findall(run):
                part = _UNITS.get(part, part)
                words.append(QueryWord(part, "number" if part[0].isdigit() else "latin"))
    unique = list(dict.fromkeys(words))
    if unique:
        last = unique[-1]
        unique[-1] = QueryWord(last.text, last.kind, is_last=True)
    return unique


def warm_up() -> None:
    """Load the segmenter's dictionary and pinyin's tables now (about 150 ms) instead of in
    the first search each server process answers."""
    analyze("预热 二手手机 iPhone 256g")
    analyze_query("二手手机 shouji iphnoe")
    split_pinyin("shouji")


def query_tokens(query: str) -> str:
    """The query as space-separated tokens, for engines searching a pre-tokenized attribute."""
    return " ".join(word.text for word in analyze_query(query))


def tokens_for_engine(analyzed: Analyzed) -> str:
    """Index tokens as one space-separated string (Meilisearch's extra attribute)."""
    return " ".join(dict.fromkeys(analyzed.words + analyzed.grams + analyzed.pinyin))
