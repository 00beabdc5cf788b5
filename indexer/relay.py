"""The outbox relay: catalog changes reach the search engine, at least once, in order of
need, and a document that keeps failing is parked instead of blocking the rest.

One round claims a batch of pending rows (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so relays
in several processes share the work), reads the current state of the goods they name,
sends it with its version, and marks the rows done only after the engine confirmed. A
relay that dies mid-round marks nothing: its rows are claimed again and re-sent, which is
harmless because every send is a full snapshot with a version.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from catalog.clock import utcnow
from catalog.db import unit_of_work
from catalog.outbox.models import OutboxEvent
from catalog.outbox.service import GOODS_TOPIC, WAKE_UP_CHANNEL
from indexer.documents import CategoryPaths, GoodsDocument, load_documents
from indexer.engine import EngineUnavailable, SearchEngine

log = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_ATTEMPTS = 8
_BACKOFF_BASE = timedelta(seconds=1)
_BACKOFF_MAX = timedelta(minutes=10)


@dataclass(frozen=True)
class RelayRound:
    claimed: int = 0
    indexed: int = 0
    removed: int = 0
    failed: int = 0
    parked: int = 0
    unavailable: bool = False


def backoff(attempts: int) -> timedelta:
    delay: timedelta = _BACKOFF_BASE * (2 ** max(attempts - 1, 0))
    return min(delay, _BACKOFF_MAX)


def _claim(session: Session, now: datetime, batch_size: int) -> list[OutboxEvent]:
    return list(
        session.scalars(
            select(OutboxEvent)
            .where(
                OutboxEvent.processed_at.is_(None),
                OutboxEvent.parked_at.is_(None),
                or_(OutboxEvent.next_attempt_at.is_(None), OutboxEvent.next_attempt_at <= now),
            )
            .order_by(OutboxEvent.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        ).all()
    )


def relay_once(
    factory: sessionmaker[Session], engine: SearchEngine, *, batch_size: int = BATCH_SIZE
) -> RelayRound:
    """One batch: claim, read, send, confirm. Returns what happened."""
    with unit_of_work(factory) as session:
        now = utcnow()
        rows = _claim(session, now, batch_size)
        if not rows:
            return RelayRound()
        rows_by_goods: dict[int, list[OutboxEvent]] = defaultdict(list)
        for row in rows:
            if row.topic == GOODS_TOPIC:
                rows_by_goods[row.entity_id].append(row)
            else:  # no other topic exists yet; nothing to send
                row.processed_at = now
        paths = CategoryPaths(session)
        documents, removals = load_documents(session, list(rows_by_goods), paths)
        try:
            engine.apply(documents, removals)
        except EngineUnavailable as error:
            _wait_for_engine(rows, now, error)
            return RelayRound(claimed=len(rows), unavailable=True)
        except Exception:
            log.exception("relay batch failed; sending its goods one by one")
            return _one_by_one(session, engine, rows_by_goods, documents, removals, now)
        for row in rows:
            row.processed_at = now
        return RelayRound(claimed=len(rows), indexed=len(documents), removed=len(removals))


def _wait_for_engine(rows: list[OutboxEvent], now: datetime, error: Exception) -> None:
    """The engine is down, not the documents: try again shortly, and count no attempt (an
    outage must not park documents)."""
    for row in rows:
        row.next_attempt_at = now + _BACKOFF_BASE * 5
        row.last_error = str(error)[:500]


def _one_by_one(
    session: Session,
    engine: SearchEngine,
    rows_by_goods: dict[int, list[OutboxEvent]],
    documents: list[GoodsDocument],
    removals: list[tuple[int, int]],
    now: datetime,
) -> RelayRound:
    """Find the goods that fail, so the others go through and only they back off."""
    indexed = removed = failed = parked = 0
    sends: list[tuple[int, list[GoodsDocument], list[tuple[int, int]]]] = [
        (d.id, [d], []) for d in documents
    ] + [(goods_id, [], [(goods_id, version)]) for goods_id, version in removals]
    for goods_id, upserts, deletes in sends:
        rows = rows_by_goods[goods_id]
        try:
            engine.apply(upserts, deletes)
        except EngineUnavailable as error:
            _wait_for_engine(rows, now, error)
            continue
        except Exception as error:
            failed += 1
            for row in rows:
                row.attempts += 1
                row.last_error = f"{type(error).__name__}: {error}"[:500]
                if row.attempts >= MAX_ATTEMPTS:
                    row.parked_at = now
                    parked += 1
                else:
                    row.next_attempt_at = now + backoff(row.attempts)
            continue
        indexed += len(upserts)
        removed += len(deletes)
        for row in rows:
            row.processed_at = now
    claimed = sum(len(rows) for rows in rows_by_goods.values())
    return RelayRound(claimed, indexed, removed, failed, parked)


def drain(factory: sessionmaker[Session], engine: SearchEngine, *, max_rounds: int = 1000) -> int:
    """Relay until nothing is due (or the engine is down); returns rows handled."""
    handled = 0
    for _ in range(max_rounds):
        result = relay_once(factory, engine)
        handled += result.claimed
        if result.claimed == 0 or result.unavailable:
            break
    return handled


@dataclass(frozen=True)
class Backlog:
    pending: int
    parked: int
    oldest_pending_at: datetime | None
    last_processed_at: datetime | None


def backlog(session: Session) -> Backlog:
    pending = OutboxEvent.processed_at.is_(None) & OutboxEvent.parked_at.is_(None)
    return Backlog(
        pending=session.scalar(select(func.count()).where(pending)) or 0,
        parked=session.scalar(select(func.count()).where(OutboxEvent.parked_at.is_not(None))) or 0,
        oldest_pending_at=session.scalar(select(func.min(OutboxEvent.created_at)).where(pending)),
        last_processed_at=session.scalar(select(func.max(OutboxEvent.processed_at))),
    )


def parked_rows(session: Session, *, limit: int = 50) -> list[OutboxEvent]:
    return list(
        session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.parked_at.is_not(None))
            .order_by(OutboxEvent.id.desc())
            .limit(limit)
        ).all()
    )


def retry_parked(session: Session) -> int:
    """Give parked rows another chance (after the cause was fixed)."""
    result = session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.parked_at.is_not(None))
        .values(parked_at=None, attempts=0, next_attempt_at=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


class RelayLoop:
    """The relay as a thread of the server (the embedded default): woken by commits that
    wrote outbox rows, and polling now and then in case a wake-up came from elsewhere."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        engine: SearchEngine,
        *,
        poll_seconds: float = 1.0,
    ) -> None:
        self._factory = factory
        self._engine = engine
        self._poll = poll_seconds
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        pause = 0.0
        while not self._stop.is_set():
            self.wake.wait(pause)
            self.wake.clear()
            if self._stop.is_set():
                return
            try:
                result = relay_once(self._factory, self._engine)
            except Exception:
                log.exception("relay round failed")
                result = RelayRound(unavailable=True)
            self.rounds += 1
            if result.unavailable:
                pause = 5 * self._poll
            elif result.claimed:
                pause = 0.0  # more may be waiting
            else:
                pause = self._poll


def listen_for_wake_ups(database_url: str, wake: threading.Event, stop: threading.Event) -> None:
    """PostgreSQL: LISTEN for the catalog's NOTIFY and wake the relay (a hint only; the relay
    polls as well, so a missed notification only delays)."""
    import select as selectors

    import psycopg2
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    connection = psycopg2.connect(
        dbname=url.database,
        user=url.username,
        password=url.password,
        host=url.host,
        port=url.port,
    )
    connection.set_session(autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {WAKE_UP_CHANNEL}")
        while not stop.is_set():
            if selectors.select([connection], [], [], 1.0) == ([], [], []):
                continue
            connection.poll()
            if connection.notifies:
                connection.notifies.clear()
                wake.set()
    finally:
        connection.close()
