from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import (
    CategoryAdmin,
    DbSession,
    Pagination,
    Reviewer,
    UserAdmin,
    VerificationOperator,
)
from api.schemas.base import Page
from api.schemas.categories import (
    CategoryCreateIn,
    CategoryOut,
    CategoryTreeOut,
    CategoryUpdateIn,
)
from api.schemas.goods import (
    ApproveIn,
    BulkOutcomeOut,
    BulkReviewIn,
    BulkReviewOut,
    GoodsOut,
    RejectIn,
    ReviewDecisionOut,
    ReviewTrailOut,
)
from api.schemas.users import DecisionReasonIn, UserOut, UserUpdateIn, VerificationOut
from catalog.categories import service as categories
from catalog.categories.service import CategoryNode
from catalog.goods import service as goods_service
from catalog.identity import service as identity
from catalog.identity.models import VerificationStatus
from catalog.review import service as review
from catalog.users import service as users
from catalog.users.models import Role

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/review-queue")
def review_queue(
    session: DbSession, reviewer: Reviewer, paging: Pagination, category_id: int | None = None
) -> Page[GoodsOut]:
    """Goods waiting for review, oldest first; filter by a category (a parent includes children)."""
    views, total = review.review_queue(
        session,
        reviewer=reviewer,
        category_id=category_id,
        page=paging.page,
        page_size=paging.page_size,
    )
    return paging.answer([GoodsOut.of(view) for view in views], total)


@router.post("/goods/{goods_id}/approve")
def approve_goods(
    goods_id: int, session: DbSession, reviewer: Reviewer, body: ApproveIn | None = None
) -> GoodsOut:
    """Approve goods: they become listed and public."""
    version = body.version if body else None
    review.approve(session, reviewer=reviewer, goods_id=goods_id, expected_version=version)
    return GoodsOut.of(goods_service.view_goods(session, viewer=reviewer, goods_id=goods_id))


@router.post("/goods/{goods_id}/reject")
def reject_goods(goods_id: int, body: RejectIn, session: DbSession, reviewer: Reviewer) -> GoodsOut:
    """Reject goods with a reason the seller sees."""
    review.reject(
        session,
        reviewer=reviewer,
        goods_id=goods_id,
        reason=body.reason,
        expected_version=body.version,
    )
    return GoodsOut.of(goods_service.view_goods(session, viewer=reviewer, goods_id=goods_id))


@router.post("/review/bulk")
def bulk_review(body: BulkReviewIn, session: DbSession, reviewer: Reviewer) -> BulkReviewOut:
    """Approve or reject many goods at once; each succeeds or fails on its own."""
    outcomes = review.decide_many(
        session, reviewer=reviewer, goods_ids=body.ids, decision=body.decision, reason=body.reason
    )
    items = [BulkOutcomeOut.model_validate(outcome) for outcome in outcomes]
    return BulkReviewOut(
        items=items, total=len(items), succeeded=sum(1 for item in items if item.ok)
    )


@router.get("/goods/{goods_id}/reviews")
def review_trail(goods_id: int, session: DbSession, reviewer: Reviewer) -> ReviewTrailOut:
    """Every review decision on these goods: who, when, which version, why."""
    decisions = review.review_history(session, reviewer=reviewer, goods_id=goods_id)
    items = [ReviewDecisionOut.model_validate(decision) for decision in decisions]
    return ReviewTrailOut(items=items, total=len(items))


@router.get("/verifications")
def list_verifications(
    session: DbSession,
    _operator: VerificationOperator,
    paging: Pagination,
    status: VerificationStatus | None = VerificationStatus.PENDING,
) -> Page[VerificationOut]:
    """Real-name verifications, pending ones by default, oldest first (ID numbers masked)."""
    rows, total = identity.list_verifications(
        session, status=status, page=paging.page, page_size=paging.page_size
    )
    return paging.answer([VerificationOut.model_validate(row) for row in rows], total)


@router.post("/verifications/{verification_id}/approve")
def approve_verification(
    verification_id: int, session: DbSession, operator: VerificationOperator
) -> VerificationOut:
    """Approve a real-name verification: the user becomes verified."""
    verification = identity.decide_verification(
        session, operator=operator, verification_id=verification_id, approve=True, reason=None
    )
    return VerificationOut.model_validate(verification)


@router.post("/verifications/{verification_id}/reject")
def reject_verification(
    verification_id: int,
    body: DecisionReasonIn,
    session: DbSession,
    operator: VerificationOperator,
) -> VerificationOut:
    """Reject a real-name verification with a reason the user sees."""
    verification = identity.decide_verification(
        session,
        operator=operator,
        verification_id=verification_id,
        approve=False,
        reason=body.reason,
    )
    return VerificationOut.model_validate(verification)


@router.get("/users")
def list_users(
    session: DbSession,
    _admin: UserAdmin,
    paging: Pagination,
    role: Role | None = None,
    q: str | None = None,
) -> Page[UserOut]:
    """Users, filtered by role or by a part of their email, phone or nickname."""
    rows, total = users.list_users(
        session, role=role, query=q, page=paging.page, page_size=paging.page_size
    )
    return paging.answer([UserOut.of(row) for row in rows], total)


@router.patch("/users/{user_id}")
def update_user(user_id: int, body: UserUpdateIn, session: DbSession, admin: UserAdmin) -> UserOut:
    """Change a user's role, or suspend them (which logs them out everywhere)."""
    user = users.update_user(
        session, actor=admin, user_id=user_id, role=body.role, status=body.status
    )
    return UserOut.of(user)


@router.get("/categories")
def all_categories(session: DbSession, _admin: CategoryAdmin) -> CategoryTreeOut:
    """The whole category tree, retired categories included."""
    roots = categories.category_tree(session, include_inactive=True)
    return CategoryTreeOut(items=[CategoryOut.of(node) for node in roots], total=len(roots))


@router.post("/categories", status_code=status.HTTP_201_CREATED)
def create_category(
    body: CategoryCreateIn, session: DbSession, _admin: CategoryAdmin
) -> CategoryOut:
    """Add a top-level category, or a subcategory under a top-level one."""
    category = categories.create_category(
        session, name=body.name, slug=body.slug, parent_id=body.parent_id, position=body.position
    )
    return CategoryOut.of(CategoryNode(category))


@router.patch("/categories/{category_id}")
def update_category(
    category_id: int, body: CategoryUpdateIn, session: DbSession, _admin: CategoryAdmin
) -> CategoryOut:
    """Rename, reorder or retire (active=false) a category."""
    category = categories.update_category(
        session,
        category_id=category_id,
        name=body.name,
        position=body.position,
        active=body.active,
    )
    return CategoryOut.of(CategoryNode(category))
