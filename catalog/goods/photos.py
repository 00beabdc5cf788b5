"""Photos of goods: checked and re-encoded, stored, ordered; files follow the transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from catalog.errors import Conflict, InvalidInput, NotFound
from catalog.goods import repository
from catalog.goods.models import GoodsPhoto
from catalog.goods.service import own_goods, photos_changed
from catalog.media.after_transaction import after_commit, after_rollback
from catalog.media.images import process_photo
from catalog.media.store import MediaStore
from catalog.settings import get_settings
from catalog.users.models import User


def add_photo(
    session: Session, *, actor: User, goods_id: int, data: bytes, store: MediaStore
) -> GoodsPhoto:
    """Append a photo (the first becomes the main photo)."""
    settings = get_settings()
    goods = own_goods(session, actor=actor, goods_id=goods_id)
    count = repository.count_photos(session, goods.id)
    if count >= settings.goods_max_photos:
        raise Conflict(
            f"at most {settings.goods_max_photos} photos per goods", code="too_many_photos"
        )
    image = process_photo(
        data,
        max_bytes=settings.photo_max_bytes,
        max_pixels=settings.photo_max_pixels,
        max_side=settings.photo_max_side,
        thumb_side=settings.photo_thumb_side,
    )
    path = store.save(image.full, extension=image.extension, folder="goods")
    thumb_path = store.save(image.thumb, extension=image.extension, folder="thumbs")
    # Files are written before the row; if the transaction does not commit they go again.
    after_rollback(session, lambda: store.delete_all(path, thumb_path))
    photo = GoodsPhoto(
        goods_id=goods.id,
        position=count,
        path=path,
        thumb_path=thumb_path,
        width=image.width,
        height=image.height,
    )
    session.add(photo)
    photos_changed(session, goods, reason="photo_added")
    return photo


def remove_photo(
    session: Session, *, actor: User, goods_id: int, photo_id: int, store: MediaStore
) -> None:
    """Delete a photo; the files go only once the deletion has committed."""
    goods = own_goods(session, actor=actor, goods_id=goods_id)
    photos = repository.photos_of(session, [goods.id])[goods.id]
    photo = next((p for p in photos if p.id == photo_id), None)
    if photo is None:
        raise NotFound("no such photo on these goods", code="photo_not_found")
    session.delete(photo)
    session.flush()
    _renumber(session, [p for p in photos if p.id != photo_id])
    paths = (photo.path, photo.thumb_path)
    after_commit(session, lambda: store.delete_all(*paths))
    photos_changed(session, goods, reason="photo_removed")


def reorder_photos(
    session: Session, *, actor: User, goods_id: int, photo_ids: Sequence[int]
) -> list[GoodsPhoto]:
    """Put photos in the given order; the first is the main photo."""
    goods = own_goods(session, actor=actor, goods_id=goods_id)
    photos = {p.id: p for p in repository.photos_of(session, [goods.id])[goods.id]}
    if sorted(photo_ids) != sorted(photos):
        raise InvalidInput(
            "list every photo of these goods exactly once", code="photo_order", field="photo_ids"
        )
    ordered = [photos[photo_id] for photo_id in photo_ids]
    if [p.position for p in ordered] == sorted(p.position for p in ordered):
        return ordered
    _renumber(session, ordered)
    photos_changed(session, goods, reason="photos_reordered")
    return ordered


def _renumber(session: Session, ordered: list[GoodsPhoto]) -> None:
    for position, photo in enumerate(ordered):
        photo.position = position
    session.flush()
