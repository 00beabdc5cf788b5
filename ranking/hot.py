"""The hot score in its log-domain form.

hot = Σ w · 2^((t − now)/h) decays every score at the same rate, so the order of items
never changes with the passage of time alone. Keeping, per item, L = log2(Σ w · 2^(t/h))
(t in hours since a fixed epoch) orders items without rescoring any of them: a new event
only updates its own item's L, and hot-at-now is 2^(L − now/h) whenever a number is needed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

EPOCH = 1_600_000_000  # unix seconds; any fixed instant works, this keeps exponents small
EMPTY = -math.inf


def event_term(weight: float, at: float, half_life_hours: float) -> float:
    """log2(w · 2^(t/h)) for one event at unix time `at`."""
    if weight <= 0:
        return EMPTY
    return math.log2(weight) + (at - EPOCH) / 3600.0 / half_life_hours


def add_log2(a: float, b: float) -> float:
    """log2(2^a + 2^b) without overflow."""
    if a == EMPTY:
        return b
    if b == EMPTY:
        return a
    high, low = (a, b) if a >= b else (b, a)
    return high + math.log2(1.0 + 2.0 ** (low - high))


def accumulate(
    current: float, events: Iterable[tuple[float, float]], half_life_hours: float
) -> float:
    """Fold (weight, unix time) events into a log-domain score."""
    for weight, at in events:
        current = add_log2(current, event_term(weight, at, half_life_hours))
    return current


def hot_at(log_score: float, now: float, half_life_hours: float) -> float:
    """The decayed score at `now`: Σ w · 2^((t − now)/h)."""
    if log_score == EMPTY:
        return 0.0
    return float(2.0 ** (log_score - (now - EPOCH) / 3600.0 / half_life_hours))
