from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import CurrentUser, DbSession, Pagination, Writer
from api.schemas.base import Page
from api.schemas.goods import GoodsOut
from api.schemas.users import UserOut, VerificationIn, VerificationOut
from catalog.errors import NotFound
from catalog.goods import service as goods_service
from catalog.goods.models import GoodsStatus
from catalog.identity import service as identity

router = APIRouter(prefix="/me", tags=["me"])


@router.get("")
def me(user: CurrentUser) -> UserOut:
    """The logged-in user's own account."""
    return UserOut.of(user)


@router.get("/goods")
def my_goods(
    session: DbSession, user: CurrentUser, paging: Pagination, status: GoodsStatus | None = None
) -> Page[GoodsOut]:
    """The seller's own goods in every state (drafts, in review, listed, rejected, withdrawn)."""
    views, total = goods_service.list_own_goods(
        session, seller=user, status=status, page=paging.page, page_size=paging.page_size
    )
    return paging.answer([GoodsOut.of(view) for view in views], total)


@router.post("/verification", status_code=status.HTTP_201_CREATED)
def submit_verification(body: VerificationIn, session: DbSession, user: Writer) -> VerificationOut:
    """Submit real-name verification; the ID number is stored encrypted and shown masked."""
    verification = identity.submit_verification(
        session, user=user, real_name=body.real_name, id_number=body.id_number
    )
    return VerificationOut.model_validate(verification)


@router.get("/verification")
def my_verification(session: DbSession, user: CurrentUser) -> VerificationOut:
    """The state of the user's latest real-name verification."""
    verification = identity.latest_verification(session, user_id=user.id)
    if verification is None:
        raise NotFound("no verification submitted yet", code="verification_not_found")
    return VerificationOut.model_validate(verification)
