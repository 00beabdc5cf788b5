"""Reviewers decide whether goods may appear. Every decision is kept with who, when and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from catalog.categories.service import get_category, subtree_ids
from catalog.clock import utcnow
from catalog.errors import CatalogError, Conflict, InvalidInput, NotFound
from catalog.goods import repository as goods_repository
from catalog.goods.models import Goods, GoodsStatus
from catalog.goods.rules import require_state
from catalog.goods.service import GoodsView, with_photos
from catalog.outbox.service import record_goods_change
from catalog.pagination import fetch_page
from catalog.review.models import Decision, ReviewDecision
from catalog.users.models import User
from catalog.users.permissions import Permission, require_permission

REASON_MAX = 500
BULK_MAX = 100


@dataclass(frozen=True)
class BulkOutcome:
    goods_id: int
    ok: bool
    code: str | None = None
    message: str | None = None


def review_queue(
    session: Session, *, reviewer: User, category_id: int | None, page: int, page_size: int
) -> tuple[list[GoodsView], int]:
    """Goods waiting for review, longest-waiting first; a parent category includes its children."""
    require_permission(reviewer, Permission.REVIEW_GOODS)
    category_ids = None
    if category_id is not None:
        get_category(session, category_id=category_id)
        category_ids = subtree_ids(session, category_id=category_id)
    goods, total = fetch_page(
        session, goods_repository.pending_review(category_ids), page=page, page_size=page_size
    )
    return with_photos(session, goods), total


def approve(
    session: Session, *, reviewer: User, goods_id: int, expected_version: int | None = None
) -> Goods:
    """List the goods publicly."""
    goods = _goods_under_review(session, reviewer, goods_id, expected_version)
    # Submitting needs a photo, but the seller may delete photos while in review.
    if goods_repository.count_photos(session, goods.id) == 0:
        raise InvalidInput("goods without a photo cannot be listed", code="photo_required")
    now = utcnow()
    goods.status = GoodsStatus.LISTED
    goods.published_at = goods.published_at or now
    goods.updated_at = now
    goods.rejection_reason = None
    _record(session, goods, reviewer, Decision.APPROVE, None)
    record_goods_change(session, goods_id=goods.id, version=goods.version, reason="approved")
    session.flush()
    return goods


def reject(
    session: Session,
    *,
    reviewer: User,
    goods_id: int,
    reason: str,
    expected_version: int | None = None,
) -> Goods:
    """Refuse the goods with a reason the seller sees; the seller may fix and resubmit."""
    reason = reason.strip()
    if not 1 <= len(reason) <= REASON_MAX:
        raise InvalidInput(
            f"a rejection needs a reason of 1 to {REASON_MAX} characters",
            code="reason_required",
            field="reason",
        )
    goods = _goods_under_review(session, reviewer, goods_id, expected_version)
    goods.status = GoodsStatus.REJECTED
    goods.rejection_reason = reason
    goods.updated_at = utcnow()
    _record(session, goods, reviewer, Decision.REJECT, reason)
    return goods


def decide_many(
    session: Session,
    *,
    reviewer: User,
    goods_ids: Sequence[int],
    decision: Decision,
    reason: str | None,
) -> list[BulkOutcome]:
    """Approve or reject several goods; each succeeds or fails on its own."""
    require_permission(reviewer, Permission.REVIEW_GOODS)
    if not 1 <= len(goods_ids) <= BULK_MAX:
        raise InvalidInput(f"give 1 to {BULK_MAX} goods ids", code="bulk_size", field="ids")
    if decision is Decision.REJECT and not (reason and reason.strip()):
        raise InvalidInput("a rejection needs a reason", code="reason_required", field="reason")
    outcomes = []
    for goods_id in dict.fromkeys(goods_ids):
        try:
            # A savepoint per goods: one failure leaves the others' decisions in place.
            with session.begin_nested():
                if decision is Decision.APPROVE:
                    approve(session, reviewer=reviewer, goods_id=goods_id)
                else:
                    reject(session, reviewer=reviewer, goods_id=goods_id, reason=reason or "")
            outcomes.append(BulkOutcome(goods_id, ok=True))
        except CatalogError as error:
            outcomes.append(BulkOutcome(goods_id, ok=False, code=error.code, message=error.message))
    return outcomes


def review_history(session: Session, *, reviewer: User, goods_id: int) -> list[ReviewDecision]:
    """The audit trail of one goods, oldest decision first."""
    require_permission(reviewer, Permission.REVIEW_GOODS)
    if goods_repository.get_goods(session, goods_id) is None:
        raise NotFound("no such goods", code="goods_not_found")
    return list(
        session.scalars(
            select(ReviewDecision)
            .where(ReviewDecision.goods_id == goods_id)
            .order_by(ReviewDecision.id)
        ).all()
    )


def _goods_under_review(
    session: Session, reviewer: User, goods_id: int, expected_version: int | None
) -> Goods:
    require_permission(reviewer, Permission.REVIEW_GOODS)
    goods = goods_repository.get_goods(session, goods_id, for_update=True)
    if goods is None:
        raise NotFound("no such goods", code="goods_not_found")
    if goods.seller_id == reviewer.id:
        raise Conflict("nobody reviews their own goods", code="own_goods")
    require_state(goods, frozenset({GoodsStatus.PENDING_REVIEW}), "reviewed")
    if expected_version is not None and expected_version != goods.version:
        raise Conflict(
            "the seller changed these goods since you opened them; look again",
            code="goods_changed",
            version=goods.version,
        )
    return goods


def _record(
    session: Session, goods: Goods, reviewer: User, decision: Decision, reason: str | None
) -> None:
    try:
        session.flush()  # bumps the version; a concurrent decision makes this fail
    except StaleDataError as error:
        raise Conflict("someone else changed these goods just now", code="goods_changed") from error
    session.add(
        ReviewDecision(
            goods_id=goods.id,
            goods_version=goods.version,
            reviewer_id=reviewer.id,
            decision=decision,
            reason=reason,
        )
    )
