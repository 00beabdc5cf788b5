"""What sellers do with their goods: create, edit, submit for review, withdraw."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from catalog.categories.service import category_for_goods
from catalog.clock import utcnow
from catalog.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from catalog.goods import repository
from catalog.goods.models import Condition, Goods, GoodsPhoto, GoodsStatus
from catalog.goods.rules import (
    IN_TRADE_STATES,
    PUBLIC_STATES,
    REVIEWED_FIELDS,
    SUBMITTABLE_FROM,
    VIEWABLE_STATES,
    WITHDRAWABLE_FROM,
    is_public,
    require_state,
)
from catalog.money import MAX_LISTING_PRICE, Fen
from catalog.outbox.service import record_goods_change, record_goods_changes
from catalog.pagination import fetch_page
from catalog.settings import get_settings
from catalog.users.models import User
from catalog.users.permissions import Permission, has_permission

TITLE_MIN, TITLE_MAX = 2, 60
DESCRIPTION_MAX = 5000
CITY_MAX = 20


@dataclass(frozen=True)
class GoodsFields:
    """The seller-editable fields of goods; None in a change means "leave as it is"."""

    category_id: int | None = None
    title: str | None = None
    description: str | None = None
    price: Fen | None = None
    original_price: Fen | None = None
    condition: Condition | None = None
    city: str | None = None

    def given(self) -> dict[str, object]:
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }


@dataclass(frozen=True)
class GoodsView:
    goods: Goods
    photos: list[GoodsPhoto]


def create_goods(session: Session, *, seller: User, data: GoodsFields) -> Goods:
    """Start a draft; nothing is public until a reviewer approves it."""
    missing = [
        name
        for name in ("category_id", "title", "price", "condition", "city")
        if getattr(data, name) is None
    ]
    if missing:
        raise InvalidInput(f"missing {', '.join(missing)}", code="missing_fields", fields=missing)
    values = {"description": "", **_checked(session, data)}
    goods = Goods(seller_id=seller.id, status=GoodsStatus.DRAFT, **values)
    session.add(goods)
    session.flush()
    return goods


def update_goods(session: Session, *, actor: User, goods_id: int, data: GoodsFields) -> Goods:
    """Edit goods. Listed goods whose reviewed content changes go back to review."""
    goods = own_goods(session, actor=actor, goods_id=goods_id)
    values = _checked(session, data)
    changed = {name for name, value in values.items() if getattr(goods, name) != value}
    if not changed:
        return goods
    was_public = is_public(goods)
    for name in changed:
        setattr(goods, name, values[name])
    if was_public and changed & REVIEWED_FIELDS:
        _back_to_review(goods)
    _touch(session, goods, was_public=was_public, reason="edited")
    return goods


def submit_goods(session: Session, *, actor: User, goods_id: int) -> Goods:
    """Send a draft (or rejected or withdrawn goods) to the review queue."""
    goods = own_goods(session, actor=actor, goods_id=goods_id)
    require_state(goods, SUBMITTABLE_FROM, "submitted")
    if get_settings().require_verification_to_publish and actor.verified_at is None:
        raise PermissionDenied(
            "complete real-name verification before publishing", code="verification_required"
        )
    if repository.count_photos(session, goods.id) == 0:
        raise InvalidInput("add at least one photo first", code="photo_required", field="photos")
    _back_to_review(goods)
    _touch(session, goods, was_public=False, reason="submitted")
    return goods


def withdraw_goods(session: Session, *, actor: User, goods_id: int) -> Goods:
    """Take goods off the market (or out of the queue); they can be resubmitted later."""
    goods = own_goods(session, actor=actor, goods_id=goods_id)
    require_state(goods, WITHDRAWABLE_FROM, "withdrawn")
    was_public = is_public(goods)
    goods.status = GoodsStatus.WITHDRAWN
    _touch(session, goods, was_public=was_public, reason="withdrawn")
    return goods


def view_goods(session: Session, *, viewer: User | None, goods_id: int) -> GoodsView:
    """Goods as `viewer` may see them: listed for everyone, any state for the seller and staff."""
    goods = repository.get_goods(session, goods_id)
    if goods is None or not _can_see(viewer, goods):
        raise NotFound("no such goods", code="goods_not_found")
    return GoodsView(goods, repository.photos_of(session, [goods.id])[goods.id])


def list_own_goods(
    session: Session, *, seller: User, status: GoodsStatus | None, page: int, page_size: int
) -> tuple[list[GoodsView], int]:
    goods, total = fetch_page(
        session, repository.goods_of_seller(seller.id, status), page=page, page_size=page_size
    )
    return with_photos(session, goods), total


def with_photos(session: Session, goods: list[Goods]) -> list[GoodsView]:
    photos = repository.photos_of(session, [item.id for item in goods])
    return [GoodsView(item, photos[item.id]) for item in goods]


def listed_versions(session: Session, goods_ids: Sequence[int]) -> dict[int, int]:
    """The version of each listed goods among `goods_ids`; the others are left out."""
    return repository.listed_versions(session, goods_ids)


def own_goods(session: Session, *, actor: User, goods_id: int) -> Goods:
    """Goods `actor` sells, locked for the change; others' goods are refused."""
    goods = repository.get_goods(session, goods_id, for_update=True)
    if goods is None or not (goods.seller_id == actor.id or _can_see(actor, goods)):
        raise NotFound("no such goods", code="goods_not_found")
    if goods.seller_id != actor.id:
        raise PermissionDenied("these goods are not yours", code="not_goods_owner")
    if goods.status in IN_TRADE_STATES:
        raise Conflict(
            f"goods that are {goods.status.value} cannot be changed",
            code="goods_in_trade",
            status=goods.status.value,
        )
    return goods


def reserve_for_order(session: Session, *, goods: Goods) -> None:
    """An order holds these listed goods for one buyer: they leave search and the feeds."""
    require_state(goods, PUBLIC_STATES, "ordered")
    goods.status = GoodsStatus.RESERVED
    _touch(session, goods, was_public=True, reason="reserved")


def release_from_order(session: Session, *, goods: Goods, relist: bool) -> None:
    """The order ended without a sale: back on the market, or (after the item travelled and
    came back through a dispute) withdrawn for the seller to check and resubmit."""
    if goods.status is not GoodsStatus.RESERVED:
        return
    goods.status = GoodsStatus.LISTED if relist else GoodsStatus.WITHDRAWN
    _touch(session, goods, was_public=False, reason="relisted" if relist else "withdrawn")


def relist_many(session: Session, *, goods_ids: list[int], now: datetime) -> int:
    """Reserved goods whose orders ended unpaid go back on the market, in one statement
    (the sweeper's batch); search hears of each through the outbox, as for one."""
    if not goods_ids:
        return 0
    moved = session.execute(
        update(Goods)
        .where(Goods.id.in_(goods_ids), Goods.status == GoodsStatus.RESERVED)
        .values(status=GoodsStatus.LISTED, version=Goods.version + 1, updated_at=now)
        .returning(Goods.id, Goods.version)
        .execution_options(synchronize_session=False)
    ).all()
    record_goods_changes(session, [(row.id, row.version) for row in moved], reason="relisted")
    return len(moved)


def mark_sold(session: Session, *, goods: Goods) -> None:
    if goods.status is GoodsStatus.SOLD:
        return
    goods.status = GoodsStatus.SOLD
    _touch(session, goods, was_public=False, reason="sold")


def photos_changed(session: Session, goods: Goods, *, reason: str) -> None:
    """Adding, removing or reordering photos counts as an edit of reviewed content."""
    was_public = is_public(goods)
    if was_public:
        _back_to_review(goods)
    _touch(session, goods, was_public=was_public, reason=reason)


def _can_see(viewer: User | None, goods: Goods) -> bool:
    if goods.status in VIEWABLE_STATES:
        return True
    if viewer is None:
        return False
    return goods.seller_id == viewer.id or has_permission(viewer, Permission.SEE_ANY_GOODS)


def _back_to_review(goods: Goods) -> None:
    goods.status = GoodsStatus.PENDING_REVIEW
    goods.submitted_at = utcnow()
    goods.rejection_reason = None


def _touch(session: Session, goods: Goods, *, was_public: bool, reason: str) -> None:
    """Flush the change (bumping the version) and, if search could be affected, say so."""
    goods.updated_at = utcnow()
    session.flush()
    if was_public or is_public(goods):
        record_goods_change(session, goods_id=goods.id, version=goods.version, reason=reason)
        session.flush()


def _checked(session: Session, data: GoodsFields) -> dict[str, object]:
    """The given fields, trimmed and checked against the rules; raises on the first problem."""
    if data.price is not None:
        _check_price(data.price, "price")
    if data.original_price is not None:
        _check_price(data.original_price, "original_price")
    if data.category_id is not None:
        category_for_goods(session, category_id=data.category_id)
    normalized = replace(
        data,
        title=_text(data.title, "title", TITLE_MIN, TITLE_MAX),
        description=_text(data.description, "description", 0, DESCRIPTION_MAX),
        city=_text(data.city, "city", 1, CITY_MAX),
    )
    return normalized.given()


def _text(value: str | None, name: str, shortest: int, longest: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not shortest <= len(value) <= longest:
        raise InvalidInput(
            f"{name} must be {shortest} to {longest} characters",
            code="invalid_length",
            field=name,
        )
    return value


def _check_price(amount: int, name: str) -> None:
    if not 0 < amount <= MAX_LISTING_PRICE:
        raise InvalidInput(
            f"{name} must be between 1 fen and {MAX_LISTING_PRICE} fen",
            code="invalid_price",
            field=name,
        )
