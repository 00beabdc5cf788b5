"""Races between real connections (PostgreSQL row locks; SQLite's queued writers):
many reviewers, one goods, exactly one decision."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import make_session_factory, unit_of_work
from catalog.errors import CatalogError
from catalog.goods import photos
from catalog.goods import service as goods_service
from catalog.goods.models import Condition, Goods, GoodsStatus
from catalog.goods.service import GoodsFields
from catalog.media.store import MediaStore
from catalog.money import Fen
from catalog.outbox.models import OutboxEvent
from catalog.review import service as review
from catalog.review.models import ReviewDecision
from catalog.users.models import Role, User
from tests.factories import leaf_category, make_user, png_bytes

REVIEWERS = 8


@pytest.fixture
def committed(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that really commit, so threads see each other; the rows are removed after."""
    factory = make_session_factory(engine)
    yield factory
    with unit_of_work(factory) as session:
        goods_ids = select(Goods.id).where(Goods.title.like("并发测试%"))
        session.execute(delete(OutboxEvent).where(OutboxEvent.entity_id.in_(goods_ids)))
        session.execute(delete(Goods).where(Goods.title.like("并发测试%")))
        session.execute(delete(User).where(User.nickname == "并发测试"))


def _pending_goods(factory: sessionmaker[Session], store: MediaStore) -> tuple[int, list[int]]:
    with unit_of_work(factory) as session:
        seller = make_user(session, nickname="并发测试")
        goods = goods_service.create_goods(
            session,
            seller=seller,
            data=GoodsFields(
                category_id=leaf_category(session).id,
                title="并发测试 二手显示器 27寸",
                price=Fen(500_00),
                condition=Condition.GOOD_90,
                city="北京",
            ),
        )
        photos.add_photo(session, actor=seller, goods_id=goods.id, data=png_bytes(), store=store)
        goods_service.submit_goods(session, actor=seller, goods_id=goods.id)
        reviewers = [
            make_user(session, role=Role.REVIEWER, nickname="并发测试").id for _ in range(REVIEWERS)
        ]
        return goods.id, reviewers


def _race(factory: sessionmaker[Session], goods_id: int, reviewer_ids: list[int]) -> list[str]:
    barrier = threading.Barrier(len(reviewer_ids))
    outcomes: list[str] = []

    def decide(index: int, reviewer_id: int) -> None:
        barrier.wait()
        try:
            with unit_of_work(factory) as session:
                reviewer = session.get_one(User, reviewer_id)
                if index % 2:
                    review.approve(session, reviewer=reviewer, goods_id=goods_id)
                else:
                    review.reject(session, reviewer=reviewer, goods_id=goods_id, reason="重复")
            outcomes.append("ok")
        except CatalogError as error:
            outcomes.append(error.code)

    threads = [
        threading.Thread(target=decide, args=(index, reviewer_id))
        for index, reviewer_id in enumerate(reviewer_ids)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_concurrent_decisions_on_one_goods_record_exactly_one(
    committed: sessionmaker[Session], tmp_path: Path
) -> None:
    goods_id, reviewer_ids = _pending_goods(committed, MediaStore(tmp_path))
    outcomes = _race(committed, goods_id, reviewer_ids)

    assert len(outcomes) == REVIEWERS
    assert outcomes.count("ok") == 1
    assert set(outcomes) - {"ok"} <= {"invalid_goods_state", "goods_changed"}
    with unit_of_work(committed) as session:
        decisions = session.scalars(
            select(ReviewDecision).where(ReviewDecision.goods_id == goods_id)
        ).all()
        goods = session.get_one(Goods, goods_id)
        assert len(decisions) == 1
        expected = (
            GoodsStatus.LISTED if decisions[0].decision == "approve" else GoodsStatus.REJECTED
        )
        assert goods.status is expected
        approvals = session.scalar(
            select(func.count()).where(
                OutboxEvent.entity_id == goods_id, OutboxEvent.reason == "approved"
            )
        )
        assert approvals == (1 if expected is GoodsStatus.LISTED else 0)


def test_reviewer_approving_a_version_the_seller_has_since_edited_is_refused(
    committed: sessionmaker[Session], tmp_path: Path
) -> None:
    goods_id, reviewer_ids = _pending_goods(committed, MediaStore(tmp_path))
    with unit_of_work(committed) as session:
        seen_version = session.get_one(Goods, goods_id).version
    with unit_of_work(committed) as session:
        goods = session.get_one(Goods, goods_id)
        seller = session.get_one(User, goods.seller_id)
        goods_service.update_goods(
            session, actor=seller, goods_id=goods_id, data=GoodsFields(title="并发测试 改过的标题")
        )
    with unit_of_work(committed) as session:
        reviewer = session.get_one(User, reviewer_ids[0])
        with pytest.raises(CatalogError) as refused:
            review.approve(
                session, reviewer=reviewer, goods_id=goods_id, expected_version=seen_version
            )
    assert refused.value.code == "goods_changed"
    with unit_of_work(committed) as session:
        assert session.get_one(Goods, goods_id).status is GoodsStatus.PENDING_REVIEW
