from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, Response, UploadFile, status

from api.deps import DbSession, MediaStoreDep, OptionalUser, Writer
from api.schemas.goods import (
    GoodsCreateIn,
    GoodsOut,
    GoodsUpdateIn,
    PhotoOrderIn,
    PhotoOut,
    SellerOut,
)
from api.uploads import read_upload
from catalog.goods import photos
from catalog.goods import service as goods_service
from catalog.settings import get_settings
from catalog.trade import service as trade_service

router = APIRouter(prefix="/goods", tags=["goods"])


def _view(session: DbSession, user: OptionalUser, goods_id: int) -> GoodsOut:
    """Goods as `user` may see them, with their seller's rating and sales; the seller also
    sees their bargaining floor."""
    view = goods_service.view_goods(session, viewer=user, goods_id=goods_id)
    seller = SellerOut.of(trade_service.seller_profile(session, seller_id=view.goods.seller_id))
    own = user is not None and user.id == view.goods.seller_id
    floor_price = view.goods.floor_price if own else None
    return GoodsOut.of(view).model_copy(update={"seller": seller, "floor_price": floor_price})


@router.post("", status_code=status.HTTP_201_CREATED)
def create_goods(body: GoodsCreateIn, session: DbSession, user: Writer) -> GoodsOut:
    """Create goods as a draft; add photos, then submit them for review."""
    goods = goods_service.create_goods(session, seller=user, data=body.fields())
    return _view(session, user, goods.id)


@router.get("/{goods_id}")
def get_goods(goods_id: int, session: DbSession, user: OptionalUser) -> GoodsOut:
    """Goods by id with their seller's rating and sales: listed, reserved and sold goods for
    everyone; the seller and staff see any state."""
    return _view(session, user, goods_id)


@router.patch("/{goods_id}")
def update_goods(goods_id: int, body: GoodsUpdateIn, session: DbSession, user: Writer) -> GoodsOut:
    """Edit goods. On listed goods, a new title, description or category means a new review."""
    goods_service.update_goods(session, actor=user, goods_id=goods_id, data=body.fields())
    return _view(session, user, goods_id)


@router.post("/{goods_id}/submit")
def submit_goods(goods_id: int, session: DbSession, user: Writer) -> GoodsOut:
    """Send goods to the review queue (they need at least one photo)."""
    goods_service.submit_goods(session, actor=user, goods_id=goods_id)
    return _view(session, user, goods_id)


@router.post("/{goods_id}/withdraw")
def withdraw_goods(goods_id: int, session: DbSession, user: Writer) -> GoodsOut:
    """Take goods off the market; they can be submitted again later."""
    goods_service.withdraw_goods(session, actor=user, goods_id=goods_id)
    return _view(session, user, goods_id)


@router.post("/{goods_id}/photos", status_code=status.HTTP_201_CREATED)
def add_photo(
    goods_id: int,
    file: Annotated[UploadFile, File(description="a JPEG, PNG or WebP photo")],
    request: Request,
    session: DbSession,
    store: MediaStoreDep,
    user: Writer,
) -> PhotoOut:
    """Upload a photo (the first is the main photo). Metadata such as GPS is stripped."""
    data = read_upload(request, file, limit=get_settings().photo_max_bytes, what="photo")
    photo = photos.add_photo(session, actor=user, goods_id=goods_id, data=data, store=store)
    return PhotoOut.of(photo)


@router.delete("/{goods_id}/photos/{photo_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_photo(
    goods_id: int, photo_id: int, session: DbSession, store: MediaStoreDep, user: Writer
) -> Response:
    """Delete a photo from goods."""
    photos.remove_photo(session, actor=user, goods_id=goods_id, photo_id=photo_id, store=store)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/{goods_id}/photos/order")
def reorder_photos(goods_id: int, body: PhotoOrderIn, session: DbSession, user: Writer) -> GoodsOut:
    """Reorder photos; the first becomes the main photo."""
    photos.reorder_photos(session, actor=user, goods_id=goods_id, photo_ids=body.photo_ids)
    return _view(session, user, goods_id)
