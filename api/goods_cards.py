"""Goods cards as JSON, kept per goods and version: a feed page checks which of its goods
are still listed and at which version, and renders only those it has not rendered before.

The for-you feed shows the same few thousand goods (its shared pool and sections) to every
shopper; loading each page's goods and photos through the ORM and rendering their cards
took a third of a page's time (benchmarks/feed_bench.py)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from sqlalchemy.orm import Session

from api.schemas.feed import GoodsCardOut
from catalog.goods.service import GoodsView, listed_versions, with_photos
from ranking.home import listed_in_order

CAPACITY = 50_000  # cards of about 400 bytes: some 20 MB per process at most


def _card_json(view: GoodsView) -> bytes:
    return GoodsCardOut.of(view).model_dump_json().encode()


class GoodsCards:
    """Rendered cards by goods id, with the version each was rendered from; least recently
    used go first. Shared by the threads of one process."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._cards: OrderedDict[int, tuple[int, bytes]] = OrderedDict()

    def listed(self, session: Session, goods_ids: Sequence[int], limit: int) -> list[bytes]:
        """The cards of the listed goods among `goods_ids`, in that order, at most `limit`.
        Every call reads the versions, so a goods sold, withdrawn or edited a moment ago is
        left out or shown as it is now, never from an older copy."""
        versions = listed_versions(session, goods_ids)
        wanted = [goods_id for goods_id in goods_ids if goods_id in versions][:limit]
        cards: dict[int, bytes] = {}
        with self._lock:
            for goods_id in wanted:
                kept = self._cards.get(goods_id)
                if kept is not None and kept[0] == versions[goods_id]:
                    self._cards.move_to_end(goods_id)
                    cards[goods_id] = kept[1]
        missing = [goods_id for goods_id in wanted if goods_id not in cards]
        if missing:
            # Changed since the versions were read: then it is shown as loaded here, or not
            # at all if it is no longer listed.
            views = with_photos(session, listed_in_order(session, missing, len(missing)))
            rendered = {view.goods.id: (view.goods.version, _card_json(view)) for view in views}
            cards.update((goods_id, card) for goods_id, (_, card) in rendered.items())
            with self._lock:
                for goods_id, kept in rendered.items():
                    self._cards[goods_id] = kept
                    self._cards.move_to_end(goods_id)
                while len(self._cards) > self._capacity:
                    self._cards.popitem(last=False)
        return [cards[goods_id] for goods_id in wanted if goods_id in cards]
