"""Goods rules at the service level: what goes back to review, and what the outbox hears."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from catalog.goods import photos
from catalog.goods import service as goods_service
from catalog.goods.models import Condition, Goods, GoodsStatus
from catalog.goods.service import GoodsFields
from catalog.media.store import MediaStore
from catalog.money import Fen
from catalog.outbox.models import OutboxEvent
from catalog.review import service as review
from catalog.users.models import Role, User
from tests.factories import leaf_category, make_user, png_bytes


def _fields(session: Session, **overrides: object) -> GoodsFields:
    values: dict[str, object] = {
        "category_id": leaf_category(session).id,
        "title": "九成新 小米扫地机器人 功能正常",
        "description": "搬家出，自提优先。",
        "price": Fen(399_00),
        "condition": Condition.GOOD_90,
        "city": "杭州",
    }
    values.update(overrides)
    return GoodsFields(**values)  # type: ignore[arg-type]


def _listed(session: Session, seller: User, store: MediaStore) -> Goods:
    reviewer = make_user(session, role=Role.REVIEWER)
    goods = goods_service.create_goods(session, seller=seller, data=_fields(session))
    photos.add_photo(session, actor=seller, goods_id=goods.id, data=png_bytes(), store=store)
    goods_service.submit_goods(session, actor=seller, goods_id=goods.id)
    return review.approve(session, reviewer=reviewer, goods_id=goods.id)


def _outbox_reasons(session: Session, goods_id: int) -> list[str]:
    rows = session.scalars(
        select(OutboxEvent).where(OutboxEvent.entity_id == goods_id).order_by(OutboxEvent.id)
    )
    return [row.reason for row in rows]


@pytest.fixture
def store(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media")


def test_drafts_write_nothing_to_the_outbox(session: Session) -> None:
    seller = make_user(session)
    goods = goods_service.create_goods(session, seller=seller, data=_fields(session))
    goods_service.update_goods(
        session, actor=seller, goods_id=goods.id, data=GoodsFields(title="扫地机器人 自提")
    )
    assert _outbox_reasons(session, goods.id) == []


def test_title_edit_of_listed_goods_sends_them_back_to_review(
    session: Session, store: MediaStore
) -> None:
    seller = make_user(session)
    goods = _listed(session, seller, store)
    version = goods.version
    goods_service.update_goods(
        session, actor=seller, goods_id=goods.id, data=GoodsFields(title="扫地机器人 换新标题")
    )
    assert goods.status is GoodsStatus.PENDING_REVIEW
    assert goods.version > version
    # "approved" made it visible; "edited" makes it disappear until approved again.
    assert _outbox_reasons(session, goods.id) == ["approved", "edited"]


def test_price_change_keeps_listed_goods_listed_and_updates_the_index(
    session: Session, store: MediaStore
) -> None:
    seller = make_user(session)
    goods = _listed(session, seller, store)
    goods_service.update_goods(
        session, actor=seller, goods_id=goods.id, data=GoodsFields(price=Fen(350_00))
    )
    assert goods.status is GoodsStatus.LISTED
    assert goods.price == 350_00
    latest = session.scalars(
        select(OutboxEvent).where(OutboxEvent.entity_id == goods.id).order_by(OutboxEvent.id)
    ).all()[-1]
    assert (latest.reason, latest.entity_version) == ("edited", goods.version)


def test_unchanged_edit_is_not_a_change(session: Session, store: MediaStore) -> None:
    seller = make_user(session)
    goods = _listed(session, seller, store)
    version = goods.version
    goods_service.update_goods(
        session, actor=seller, goods_id=goods.id, data=GoodsFields(price=Fen(goods.price))
    )
    assert goods.version == version
    assert _outbox_reasons(session, goods.id) == ["approved"]


def test_new_photo_on_listed_goods_needs_review_again(session: Session, store: MediaStore) -> None:
    seller = make_user(session)
    goods = _listed(session, seller, store)
    photos.add_photo(session, actor=seller, goods_id=goods.id, data=png_bytes(), store=store)
    assert goods.status is GoodsStatus.PENDING_REVIEW
    assert _outbox_reasons(session, goods.id)[-1] == "photo_added"


def test_withdrawing_listed_goods_removes_them_and_they_can_come_back(
    session: Session, store: MediaStore
) -> None:
    seller = make_user(session)
    goods = _listed(session, seller, store)
    goods_service.withdraw_goods(session, actor=seller, goods_id=goods.id)
    assert goods.status is GoodsStatus.WITHDRAWN
    assert _outbox_reasons(session, goods.id) == ["approved", "withdrawn"]
    with pytest.raises(NotFound):
        goods_service.view_goods(session, viewer=None, goods_id=goods.id)
    with pytest.raises(Conflict):
        goods_service.withdraw_goods(session, actor=seller, goods_id=goods.id)
    goods_service.submit_goods(session, actor=seller, goods_id=goods.id)
    assert goods.status is GoodsStatus.PENDING_REVIEW


def test_others_cannot_touch_goods(session: Session, store: MediaStore) -> None:
    seller, other = make_user(session), make_user(session)
    listed = _listed(session, seller, store)
    draft = goods_service.create_goods(session, seller=seller, data=_fields(session))
    with pytest.raises(PermissionDenied):
        goods_service.withdraw_goods(session, actor=other, goods_id=listed.id)
    with pytest.raises(NotFound):  # a draft's existence is not revealed
        goods_service.submit_goods(session, actor=other, goods_id=draft.id)
    assert (listed.status, draft.status) == (GoodsStatus.LISTED, GoodsStatus.DRAFT)


def test_publishing_can_require_real_name_verification(
    session: Session, store: MediaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from catalog.settings import get_settings

    monkeypatch.setattr(get_settings(), "require_verification_to_publish", True)
    unverified, verified = make_user(session), make_user(session, verified=True)
    for seller in (unverified, verified):
        goods = goods_service.create_goods(session, seller=seller, data=_fields(session))
        photos.add_photo(session, actor=seller, goods_id=goods.id, data=png_bytes(), store=store)
        if seller is unverified:
            with pytest.raises(PermissionDenied) as refused:
                goods_service.submit_goods(session, actor=seller, goods_id=goods.id)
            assert refused.value.code == "verification_required"
        else:
            goods_service.submit_goods(session, actor=seller, goods_id=goods.id)
            assert goods.status is GoodsStatus.PENDING_REVIEW


def test_retired_category_takes_no_new_goods(session: Session) -> None:
    category = leaf_category(session)
    category.active = False
    session.flush()
    with pytest.raises(InvalidInput) as refused:
        goods_service.create_goods(
            session, seller=make_user(session), data=_fields(session, category_id=category.id)
        )
    assert refused.value.code == "unknown_category"


def test_removed_photo_file_is_deleted_only_after_commit(
    session_factory,
    store: MediaStore,  # type: ignore[no-untyped-def]
) -> None:
    with session_factory() as session:
        seller = make_user(session)
        goods = goods_service.create_goods(session, seller=seller, data=_fields(session))
        photo = photos.add_photo(
            session, actor=seller, goods_id=goods.id, data=png_bytes(), store=store
        )
        session.commit()
        path = store.absolute(photo.path)
        photos.remove_photo(
            session, actor=seller, goods_id=goods.id, photo_id=photo.id, store=store
        )
        assert path.exists()  # not committed yet: a rollback must still find the file
        session.rollback()
        assert path.exists()
        photos.remove_photo(
            session, actor=seller, goods_id=goods.id, photo_id=photo.id, store=store
        )
        session.commit()
        assert not path.exists()


def test_photo_files_of_a_rolled_back_upload_are_removed(
    session_factory,
    store: MediaStore,  # type: ignore[no-untyped-def]
) -> None:
    with session_factory() as session:
        seller = make_user(session)
        goods = goods_service.create_goods(session, seller=seller, data=_fields(session))
        session.commit()
        photos.add_photo(session, actor=seller, goods_id=goods.id, data=png_bytes(), store=store)
        assert any(store.root.rglob("*.jpg"))
        session.rollback()
        assert not any(store.root.rglob("*.jpg"))
