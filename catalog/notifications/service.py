"""Notices for users: new messages, offers, counter-offers, order steps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from catalog.live import announce
from catalog.notifications.models import Notification
from catalog.pagination import fetch_page


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
) -> Notification:
    notice = Notification(
        user_id=user_id,
        kind=kind,
        text=text[:200],
        conversation_id=conversation_id,
        offer_id=offer_id,
        order_id=order_id,
        created_at=now,
    )
    session.add(notice)
    session.flush()
    announce(
        session,
        user_ids=[user_id],
        event={
            "type": "notification",
            "id": notice.id,
            "kind": kind,
            "text": notice.text,
            "conversation_id": conversation_id,
            "offer_id": offer_id,
            "order_id": order_id,
            "created_at": now.isoformat(),
        },
    )
    return notice


def notify_many(
    session: Session, *, notices: list[tuple[int, str, str, int | None]], now: datetime
) -> None:
    """Many notices in one INSERT (user id, kind, text, order id): a sweeper's batch."""
    if not notices:
        return
    rows = [
        {"user_id": user, "kind": kind, "text": text[:200], "order_id": order, "created_at": now}
        for user, kind, text, order in notices
    ]
    ids = session.scalars(
        insert(Notification).returning(Notification.id, sort_by_parameter_order=True), rows
    ).all()
    for notice_id, (user, kind, text, order) in zip(ids, notices, strict=True):
        announce(
            session,
            user_ids=[user],
            event={
                "type": "notification",
                "id": notice_id,
                "kind": kind,
                "text": text[:200],
                "conversation_id": None,
                "offer_id": None,
                "order_id": order,
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
