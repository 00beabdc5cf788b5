"""Notices for users: new messages, offers, counter-offers, order steps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.orm import Session

from catalog.live import announce
from catalog.notifications.models import Notification
from catalog.pagination import fetch_page

_NOTIFICATIONS = cast(Table, Notification.__table__)


class Notice(NamedTuple):
    """A notice to write: for whom, what kind, its text, and what it is about."""

    user_id: int
    kind: str
    text: str
    conversation_id: int | None = None
    offer_id: int | None = None
    order_id: int | None = None


def notify(
    session: Session,
    *,
    user_id: int,
    kind: str,
    text: str,
    now: datetime,
    conversation_id: int | None = None,
    offer_id: int | None = None,
    order_id: int | None = None,
) -> None:
    """One notice, announced to the user's sockets when the transaction commits."""
    notify_many(
        session,
        notices=[Notice(user_id, kind, text, conversation_id, offer_id, order_id)],
        now=now,
    )


def notify_many(session: Session, *, notices: Sequence[Notice], now: datetime) -> None:
    """Many notices in one INSERT (a sweeper's batch, a batch of chat messages)."""
    if not notices:
        return
    rows = [
        {**notice._asdict(), "text": notice.text[:200], "created_at": now} for notice in notices
    ]
    # Core rather than the ORM's bulk insert: half the cost, for a sweeper's or a chat batch.
    ids = (
        session.connection()
        .execute(
            insert(_NOTIFICATIONS).returning(_NOTIFICATIONS.c.id, sort_by_parameter_order=True),
            rows,
        )
        .scalars()
        .all()
    )
    for notice_id, notice in zip(ids, notices, strict=True):
        announce(
            session,
            user_ids=[notice.user_id],
            event={
                "type": "notification",
                "id": notice_id,
                "kind": notice.kind,
                "text": notice.text[:200],
                "conversation_id": notice.conversation_id,
                "offer_id": notice.offer_id,
                "order_id": notice.order_id,
                "created_at": now.isoformat(),
            },
        )


def notifications_of(
    session: Session, *, user_id: int, unread_only: bool, page: int, page_size: int
) -> tuple[list[Notification], int, int]:
    """A page of the user's notices, newest first, the total, and how many are unread."""
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    items, total = fetch_page(
        session, stmt.order_by(Notification.id.desc()), page=page, page_size=page_size
    )
    unread = session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return items, total, int(unread or 0)


def mark_read(session: Session, *, user_id: int, ids: list[int] | None, now: datetime) -> int:
    """Mark the given notices (or all) read; other users' ids are ignored."""
    stmt = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(ids))
    return int(session.execute(stmt.values(read_at=now)).rowcount)  # type: ignore[attr-defined]
