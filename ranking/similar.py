"""看了又看 ("also viewed"): item-to-item co-occurrence over browsing sessions.

Two goods are related when the same shopper viewed both in one session. Counting works on
each session's distinct goods, so a shopper reloading a page adds nothing, and each pair
counts once per session however often it was seen.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations


def _session_items(session: Sequence[int], max_session_items: int) -> list[int]:
    """The session's distinct goods in order of their last view, the latest N only.

    A session of thousands of views (a crawler, or someone paging through a whole category)
    would add millions of pairs, drowning out the sessions of ordinary shoppers; its last
    views are the ones nearest to what the visitor was looking for in the end. Duplicates
    go first, so repeated reloads cannot push real views out of the limit.
    """
    last_view = {goods_id: index for index, goods_id in enumerate(session)}
    distinct = sorted(last_view, key=last_view.__getitem__)
    return distinct[-max_session_items:]


def _check_limit(max_session_items: int) -> None:
    if max_session_items < 2:
        raise ValueError("max_session_items must be at least 2 to form a pair")


def co_occurrence(
    sessions: Iterable[Sequence[int]], *, max_session_items: int = 50
) -> dict[int, Counter[int]]:
    """For each goods, how many sessions also viewed each other goods (symmetric)."""
    _check_limit(max_session_items)
    counts: defaultdict[int, Counter[int]] = defaultdict(Counter)
    for session in sessions:
        for a, b in combinations(_session_items(session, max_session_items), 2):
            counts[a][b] += 1
            counts[b][a] += 1
    return dict(counts)


def item_popularity(
    sessions: Iterable[Sequence[int]], *, max_session_items: int = 50
) -> Counter[int]:
    """In how many sessions each goods was viewed, counted as `co_occurrence` counts."""
    _check_limit(max_session_items)
    popularity: Counter[int] = Counter()
    for session in sessions:
        popularity.update(_session_items(session, max_session_items))
    return popularity


def similar_items(
    counts: Mapping[int, Mapping[int, int]],
    item: int,
    *,
    limit: int,
    min_count: int = 1,
    popularity: Mapping[int, int] | None = None,
) -> list[int]:
    """The goods most often viewed with `item`, best first, ties by id ascending.

    With `popularity` (sessions per goods, see `item_popularity`) the co-count becomes
    c(i, j) / sqrt(pop(i) · pop(j)), so goods everyone views do not top every list. A
    popularity below the co-count (missing, or counted over other data) is raised to it:
    both goods were viewed in at least c(i, j) sessions, which keeps the score in [0, 1].
    """
    if limit <= 0:
        return []
    ranked: list[tuple[float, int]] = []
    for other, together in counts.get(item, {}).items():
        if other == item or together < min_count:
            continue
        score = float(together)
        if popularity is not None:
            mine = max(popularity.get(item, 0), together)
            theirs = max(popularity.get(other, 0), together)
            score = together / math.sqrt(mine * theirs)
        ranked.append((-score, other))
    ranked.sort()
    return [other for _, other in ranked[:limit]]


def sessionize(
    events: Iterable[tuple[str, int, float]], gap_seconds: float = 1800
) -> list[list[int]]:
    """Split each actor's (actor, goods id, unix time) views at pauses over `gap_seconds`.

    Sessions come out ordered by start time, then actor; views inside a session by time
    (then goods id), whatever order the events arrive in.
    """
    streams: defaultdict[str, list[tuple[float, int]]] = defaultdict(list)
    for actor, goods_id, at in events:
        streams[actor].append((at, goods_id))
    found: list[tuple[float, str, list[int]]] = []
    for actor, views in streams.items():
        views.sort()
        start, previous = views[0][0], views[0][0]
        current: list[int] = []
        for at, goods_id in views:
            if at - previous > gap_seconds:
                found.append((start, actor, current))
                start, current = at, []
            current.append(goods_id)
            previous = at
        found.append((start, actor, current))
    found.sort(key=lambda session: (session[0], session[1]))
    return [session for _, _, session in found]
