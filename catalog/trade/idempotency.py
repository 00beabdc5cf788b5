"""Idempotency keys for money-moving requests: the first successful answer is kept with
the effect it describes (same transaction) and replayed for the same key; the same key
with a different request is refused. A failed request leaves nothing, so it may be retried."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog.clock import utcnow
from catalog.errors import Conflict, InvalidInput
from catalog.trade.models import IdempotencyRecord

KEY_MAX = 100
KEEP_FOR = timedelta(days=1)


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: str


def claim(
    session: Session, *, user_id: int, key: str, fingerprint: str
) -> IdempotencyRecord | Replay:
    """A fresh record to finish with the answer, or the replay of the first answer. A
    concurrent request with the same key waits for the first to commit, then replays it."""
    if not 1 <= len(key) <= KEY_MAX or not key.isprintable():
        raise InvalidInput(
            f"an Idempotency-Key is 1 to {KEY_MAX} printable characters",
            code="invalid_idempotency_key",
            field="Idempotency-Key",
        )
    existing = _find(session, user_id, key)
    if existing is None:
        record = IdempotencyRecord(user_id=user_id, key=key, fingerprint=fingerprint)
        try:
            with session.begin_nested():
                session.add(record)
            return record
        except IntegrityError:
            existing = _find(session, user_id, key)  # the racing request committed first
            assert existing is not None
    if existing.fingerprint != fingerprint:
        raise Conflict(
            "this Idempotency-Key was used for a different request", code="idempotency_key_reused"
        )
    if existing.status_code is None or existing.response is None:
        raise Conflict(
            "the first request with this key is still running", code="request_in_progress"
        )
    return Replay(existing.status_code, existing.response)


def finish(session: Session, record: IdempotencyRecord, *, status_code: int, body: str) -> None:
    record.status_code = status_code
    record.response = body
    session.flush()


def purge_old(session: Session, *, now: datetime | None = None) -> int:
    """Keys are kept a day: long enough for any client's retries."""
    cutoff = (now or utcnow()) - KEEP_FOR
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]


def _find(session: Session, user_id: int, key: str) -> IdempotencyRecord | None:
    return session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
        )
    )
