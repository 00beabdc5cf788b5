"""Writing outbox rows. Callers pass the session of the change, so both commit together."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import cast

from sqlalchemy import BigInteger, Table, delete, event, insert, literal, select, text
from sqlalchemy.orm import Session

from catalog.clock import utcnow
from catalog.db import UtcDateTime, on_postgres, unnested
from catalog.outbox.models import OutboxEvent

GOODS_TOPIC = "goods"
_OUTBOX = cast(Table, OutboxEvent.__table__)
_CHANGES = unnested(("entity_id", BigInteger()), ("entity_version", BigInteger()))


WAKE_UP_CHANNEL = "idlemarket_outbox"


def record_goods_change(session: Session, *, goods_id: int, version: int, reason: str) -> None:
    """Tell the search side that these goods changed; it reads their current state itself."""
    session.add(
        OutboxEvent(topic=GOODS_TOPIC, entity_id=goods_id, entity_version=version, reason=reason)
    )
    # A hint for relays: read after commit in this process, and turned into one NOTIFY per
    # transaction for relays in other processes (see _notify_relays).
    session.info["outbox_written"] = True


def record_goods_changes(
    session: Session, changes: Sequence[tuple[int, int]], *, reason: str
) -> None:
    """Many (goods id, version) changes at once, as one INSERT (for batch jobs)."""
    if not changes:
        return
    if on_postgres(session):
        # A job may write 5,000 rows at a time: two array parameters, not 20,000 values.
        session.execute(
            insert(_OUTBOX).from_select(
                ["topic", "entity_id", "entity_version", "reason", "created_at", "attempts"],
                select(
                    literal(GOODS_TOPIC),
                    _CHANGES.c.entity_id,
                    _CHANGES.c.entity_version,
                    literal(reason),
                    literal(utcnow(), UtcDateTime()),
                    literal(0),
                ),
            ),
            {"entity_id": [i for i, _ in changes], "entity_version": [v for _, v in changes]},
        )
    else:
        session.execute(
            insert(OutboxEvent),
            [
                {"topic": GOODS_TOPIC, "entity_id": i, "entity_version": v, "reason": reason}
                for i, v in changes
            ],
        )
    session.info["outbox_written"] = True


@event.listens_for(Session, "before_commit")
def _notify_relays(session: Session) -> None:
    # PostgreSQL delivers a NOTIFY only if the transaction commits: a wake-up hint for
    # `idlemarket index relay --follow`. Once per transaction, not once per row.
    if session.info.get("outbox_written") and on_postgres(session):
        session.execute(text(f"NOTIFY {WAKE_UP_CHANNEL}"))


def purge_processed(session: Session, *, older_than: timedelta = timedelta(days=7)) -> int:
    """Delete rows delivered long ago (full rebuilds replay only recent ones)."""
    result = session.execute(
        delete(OutboxEvent).where(OutboxEvent.processed_at < utcnow() - older_than)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
