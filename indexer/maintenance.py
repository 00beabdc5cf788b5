"""Full rebuilds and reconciliation: the two ways to make the index equal the catalog."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from catalog.clock import utcnow
from catalog.db import unit_of_work
from catalog.goods.models import Goods, GoodsStatus
from catalog.outbox.models import OutboxEvent
from indexer.documents import iter_listed_documents, listed_versions, load_documents
from indexer.engine import SearchEngine
from indexer.relay import drain


@dataclass(frozen=True)
class Reconciliation:
    missing: int
    stale: int
    extra: int
    repaired: int

    @property
    def differences(self) -> int:
        return self.missing + self.stale + self.extra


def reconcile(
    factory: sessionmaker[Session], engine: SearchEngine, *, repair: bool = True
) -> Reconciliation:
    """Compare ids and versions of listed goods with the index; repair what differs.

    Repairs re-read each differing goods at repair time, so a goods listed or delisted while
    this ran is sent as it is now, never as the comparison saw it.
    """
    with unit_of_work(factory) as session:
        expected = listed_versions(session)
    indexed = engine.versions()
    missing = expected.keys() - indexed.keys()
    stale = {i for i in expected.keys() & indexed.keys() if indexed[i] < expected[i]}
    extra = indexed.keys() - expected.keys()
    repaired = 0
    if repair and (missing or stale or extra):
        ids = sorted(missing | stale | extra)
        for start in range(0, len(ids), 1000):
            with unit_of_work(factory) as session:
                documents, removals = load_documents(session, ids[start : start + 1000])
            engine.apply(documents, removals)
            repaired += len(documents) + len(removals)
    return Reconciliation(len(missing), len(stale), len(extra), repaired)


@dataclass(frozen=True)
class Rebuild:
    documents: int
    replayed: int
    reconciliation: Reconciliation


def rebuild(
    factory: sessionmaker[Session],
    engine: SearchEngine,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Rebuild:
    """Build a new index from the catalog, swap it in, replay what changed meanwhile.

    Changes committed during the build went to the old index; their outbox rows (after the
    position recorded at the start) are marked pending again so the relay sends them to the
    new one. A final reconciliation catches anything that slipped between the two.
    """
    with unit_of_work(factory) as session:
        start = session.scalar(select(func.max(OutboxEvent.id))) or 0
        total = session.scalar(select(func.count()).where(Goods.status == GoodsStatus.LISTED)) or 0
    documents = 0
    with factory() as session:
        for documents in engine.rebuild(iter_listed_documents(session)):
            if progress is not None:
                progress(documents, total)
    with unit_of_work(factory) as session:
        # Everything committed before the start is in the new index already ...
        session.execute(
            update(OutboxEvent)
            .where(
                OutboxEvent.id <= start,
                OutboxEvent.processed_at.is_(None),
                OutboxEvent.parked_at.is_(None),
            )
            .values(processed_at=utcnow())
        )
        # ... and what came after went to the old one: send it again.
        replayed = session.execute(  # type: ignore[attr-defined]
            update(OutboxEvent)
            .where(OutboxEvent.id > start, OutboxEvent.parked_at.is_(None))
            .values(processed_at=None, attempts=0, next_attempt_at=None)
        ).rowcount
    drain(factory, engine)
    return Rebuild(documents, int(replayed or 0), reconcile(factory, engine))
