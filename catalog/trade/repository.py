"""Every query about orders, their timelines, disputes and ratings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from catalog.trade.models import Actor, Dispute, Order, OrderStatus, OrderTransition, Rating


def get_order(session: Session, order_id: int, *, for_update: bool = False) -> Order | None:
    return session.get(Order, order_id, with_for_update=for_update, populate_existing=for_update)


def timeline(session: Session, order_id: int) -> list[OrderTransition]:
    return list(
        session.scalars(
            select(OrderTransition)
            .where(OrderTransition.order_id == order_id)
            .order_by(OrderTransition.id)
        )
    )


def orders_of(
    *, buyer_id: int | None = None, seller_id: int | None = None, status: OrderStatus | None = None
) -> Select[Order]:
    """Newest first, filtered by whichever of buyer, seller and status are given."""
    stmt = select(Order).order_by(Order.id.desc())
    if buyer_id is not None:
        stmt = stmt.where(Order.buyer_id == buyer_id)
    if seller_id is not None:
        stmt = stmt.where(Order.seller_id == seller_id)
    if status is not None:
        stmt = stmt.where(Order.status == status)
    return stmt


def dispute_of(session: Session, order_id: int) -> Dispute | None:
    return session.scalar(select(Dispute).where(Dispute.order_id == order_id))


def open_disputes() -> Select[Dispute]:
    return select(Dispute).where(Dispute.resolved_at.is_(None)).order_by(Dispute.opened_at)


def ratings_of_order(session: Session, order_id: int) -> list[Rating]:
    return list(session.scalars(select(Rating).where(Rating.order_id == order_id)))


@dataclass(frozen=True)
class Reputation:
    rating: float | None
    ratings: int
    sales: int


def reputations(session: Session, seller_ids: Sequence[int]) -> dict[int, Reputation]:
    """Each seller's average rating as a seller, how many ratings, and completed sales."""
    ids = list(set(seller_ids))
    scores = {
        ratee: (float(avg), int(count))
        for ratee, avg, count in session.execute(
            select(Rating.ratee_id, func.avg(Rating.score), func.count())
            .where(Rating.ratee_id.in_(ids), Rating.ratee_role == Actor.SELLER)
            .group_by(Rating.ratee_id)
        )
    }
    sales = dict(
        session.execute(
            select(Order.seller_id, func.count())
            .where(Order.seller_id.in_(ids), Order.status == OrderStatus.COMPLETED)
            .group_by(Order.seller_id)
        ).all()
    )
    return {
        seller: Reputation(
            rating=round(scores[seller][0], 2) if seller in scores else None,
            ratings=scores.get(seller, (0.0, 0))[1],
            sales=int(sales.get(seller, 0)),
        )
        for seller in ids
    }
