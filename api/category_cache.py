"""The category tree, read from the database at most once a minute: search pages and
suggestions ask for it on every keystroke."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from catalog.categories.models import Category


@dataclass(frozen=True)
class CategoryEntry:
    id: int
    parent_id: int | None
    name: str
    active: bool


class CategoryCache:
    def __init__(self, factory: sessionmaker[Session], *, ttl_seconds: float = 60.0) -> None:
        self._factory = factory
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._loaded_at = -float("inf")
        self._entries: dict[int, CategoryEntry] = {}

    def entries(self) -> dict[int, CategoryEntry]:
        with self._lock:
            if time.monotonic() - self._loaded_at > self._ttl:
                with self._factory() as session:
                    rows = session.execute(
                        select(Category.id, Category.parent_id, Category.name, Category.active)
                    ).all()
                self._entries = {row.id: CategoryEntry(*row) for row in rows}
                self._loaded_at = time.monotonic()
            return self._entries

    def matching(self, text: str, limit: int) -> list[CategoryEntry]:
        """Active categories whose name contains `text`, those starting with it first."""
        found = [e for e in self.entries().values() if e.active and text and text in e.name]
        found.sort(key=lambda e: (not e.name.startswith(text), len(e.name), e.id))
        return found[:limit]

    def with_parents(self, counts: dict[str, int]) -> dict[str, int]:
        """Leaf counts plus, for each parent, the sum of its children's."""
        entries = self.entries()
        totals = dict(counts)
        for key, count in counts.items():
            entry = entries.get(int(key))
            if entry is not None and entry.parent_id is not None:
                parent = str(entry.parent_id)
                totals[parent] = totals.get(parent, 0) + count
        return totals
