"""The outbox relay under failure: the engine down, a relay killed mid-batch, a document
that always fails, concurrent edits, and a rebuild while writes continue."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import make_session_factory, unit_of_work
from catalog.goods import photos
from catalog.goods import service as goods_service
from catalog.goods.models import Condition, Goods
from catalog.goods.service import GoodsFields
from catalog.media.store import MediaStore
from catalog.money import Fen
from catalog.outbox.models import OutboxEvent
from catalog.review import service as review
from catalog.users.models import Role, User
from indexer.documents import GoodsDocument
from indexer.embedded import EmbeddedEngine
from indexer.engine import EngineUnavailable, SearchRequest
from indexer.maintenance import rebuild, reconcile
from indexer.relay import MAX_ATTEMPTS, backlog, drain, relay_once
from tests.factories import leaf_category, make_user, png_bytes

TAG = "中继测试"


class Crash(BaseException):
    """A process dying: not an error anybody catches."""


@dataclass
class FaultyEngine(EmbeddedEngine):
    """The real embedded engine with faults switched on and off by the test."""

    root: Path = Path()
    down: bool = False
    crash_after_apply: bool = False
    poisoned: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        super().__init__(self.root)

    def apply(self, documents: list[GoodsDocument], removals: list[tuple[int, int]]) -> None:
        if self.down:
            raise EngineUnavailable("connection refused")
        if any(d.id in self.poisoned for d in documents):
            raise ValueError("document rejected by the engine")
        super().apply(documents, removals)
        if self.crash_after_apply:
            self.crash_after_apply = False
            raise Crash


@pytest.fixture
def engine_under_test(tmp_path: Path) -> FaultyEngine:
    return FaultyEngine(root=tmp_path / "index")


def _listed_goods(
    session: Session, store: MediaStore, *, count: int, seller: User | None = None
) -> list[int]:
    seller = seller or make_user(session, nickname=TAG)
    reviewer = make_user(session, role=Role.REVIEWER, nickname=TAG)
    ids = []
    for n in range(count):
        goods = goods_service.create_goods(
            session,
            seller=seller,
            data=GoodsFields(
                category_id=leaf_category(session).id,
                title=f"{TAG} 二手显示器 {n}号",
                price=Fen(100_00 + n),
                condition=Condition.GOOD_90,
                city="北京",
            ),
        )
        photos.add_photo(session, actor=seller, goods_id=goods.id, data=png_bytes(), store=store)
        goods_service.submit_goods(session, actor=seller, goods_id=goods.id)
        review.approve(session, reviewer=reviewer, goods_id=goods.id)
        ids.append(goods.id)
    return ids


def _index_matches_catalog(factory: sessionmaker[Session], engine: EmbeddedEngine) -> None:
    result = reconcile(factory, engine, repair=False)
    assert result.differences == 0, result


def test_engine_down_keeps_writes_and_the_backlog_converges_after(
    session: Session,
    session_factory: sessionmaker[Session],
    engine_under_test: FaultyEngine,
    tmp_path: Path,
) -> None:
    engine_under_test.down = True
    ids = _listed_goods(session, MediaStore(tmp_path), count=5)
    session.commit()
    assert relay_once(session_factory, engine_under_test).unavailable
    assert backlog(session).pending >= 5
    assert engine_under_test.count() == 0

    engine_under_test.down = False
    session.execute(update(OutboxEvent).values(next_attempt_at=None))  # the back-off elapsed
    session.commit()
    drain(session_factory, engine_under_test)
    assert sorted(engine_under_test.versions()) == ids
    assert backlog(session).pending == 0
    _index_matches_catalog(session_factory, engine_under_test)


def test_a_relay_killed_mid_batch_loses_nothing(
    session: Session,
    session_factory: sessionmaker[Session],
    engine_under_test: FaultyEngine,
    tmp_path: Path,
) -> None:
    ids = _listed_goods(session, MediaStore(tmp_path), count=4)
    session.commit()
    engine_under_test.crash_after_apply = True
    with pytest.raises(Crash):
        relay_once(session_factory, engine_under_test)
    # The engine got the batch but the rows were never marked: they go again, harmlessly.
    assert backlog(session).pending >= 4
    drain(session_factory, engine_under_test)
    assert backlog(session).pending == 0
    assert sorted(engine_under_test.versions()) == ids
    _index_matches_catalog(session_factory, engine_under_test)


def test_a_document_that_keeps_failing_is_parked_and_blocks_nothing(
    session: Session,
    session_factory: sessionmaker[Session],
    engine_under_test: FaultyEngine,
    tmp_path: Path,
) -> None:
    bad, *good = _listed_goods(session, MediaStore(tmp_path), count=3)
    session.commit()
    engine_under_test.poisoned = {bad}
    for _ in range(MAX_ATTEMPTS):
        relay_once(session_factory, engine_under_test)
        session.execute(update(OutboxEvent).values(next_attempt_at=None))
        session.commit()
    assert set(engine_under_test.versions()) == set(good)
    parked = session.scalars(select(OutboxEvent).where(OutboxEvent.parked_at.is_not(None))).all()
    assert [row.entity_id for row in parked] == [bad]
    assert parked[0].last_error == "ValueError: document rejected by the engine"
    assert backlog(session).pending == 0


def test_admin_status_shows_backlog_and_parked_documents(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import login

    operator = login(client, make_user(session, role=Role.OPERATOR))
    status = client.get("/api/v1/admin/search/status", headers=operator).json()
    assert status["engine"] == "embedded"
    assert status["healthy"] is True
    assert {"pending", "parked", "documents", "parked_documents"} <= set(status)
    assert status["outdated_fields"] == []  # an index this version built has them all


@pytest.fixture
def committed(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that really commit, so threads see each other; the rows are removed after."""
    factory = make_session_factory(engine)
    yield factory
    with unit_of_work(factory) as session:
        session.execute(delete(OutboxEvent))
        session.execute(delete(Goods).where(Goods.title.like(f"{TAG}%")))
        session.execute(delete(User).where(User.nickname == TAG))


def test_concurrent_edits_end_with_the_latest_version_indexed(
    committed: sessionmaker[Session], engine_under_test: FaultyEngine, tmp_path: Path
) -> None:
    with unit_of_work(committed) as session:
        (goods_id,) = _listed_goods(session, MediaStore(tmp_path), count=1)
        seller_id = session.get_one(Goods, goods_id).seller_id
    stop = threading.Event()

    def relay_forever() -> None:
        while not stop.is_set():
            drain(committed, engine_under_test)
            stop.wait(0.005)  # a relay pauses when the backlog is empty

    def edit(start: int) -> None:
        for price in range(start, start + 15):
            with unit_of_work(committed) as session:
                seller = session.get_one(User, seller_id)
                goods_service.update_goods(
                    session, actor=seller, goods_id=goods_id, data=GoodsFields(price=Fen(price))
                )

    relays = [threading.Thread(target=relay_forever) for _ in range(2)]
    editors = [threading.Thread(target=edit, args=(start,)) for start in (1000, 2000, 3000)]
    for thread in relays + editors:
        thread.start()
    for thread in editors:
        thread.join(60)
    stop.set()
    for thread in relays:
        thread.join(60)
    drain(committed, engine_under_test)

    with unit_of_work(committed) as session:
        goods = session.get_one(Goods, goods_id)
        expected = (goods.version, goods.price)
    hit = engine_under_test.search(SearchRequest(query=TAG)).hits[0]
    assert (engine_under_test.versions()[goods_id], hit.document.price) == expected


def test_rebuild_while_writes_continue_leaves_nothing_missing_or_stale(
    committed: sessionmaker[Session], engine_under_test: FaultyEngine, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path)
    with unit_of_work(committed) as session:
        ids = _listed_goods(session, store, count=30)
        seller_id = session.get_one(Goods, ids[0]).seller_id
    drain(committed, engine_under_test)
    stop = threading.Event()

    def keep_writing() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            with unit_of_work(committed) as session:
                seller = session.get_one(User, seller_id)
                target = ids[n % len(ids)]
                if n % 7 == 0 and len(ids) > 10:
                    goods_service.withdraw_goods(session, actor=seller, goods_id=target)
                    ids.remove(target)
                else:
                    goods_service.update_goods(
                        session, actor=seller, goods_id=target, data=GoodsFields(price=Fen(n))
                    )
            drain(committed, engine_under_test)
            stop.wait(0.005)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        rebuild(committed, engine_under_test)
        rebuild(committed, engine_under_test)
    finally:
        stop.set()
        writer.join(60)
    drain(committed, engine_under_test)
    _index_matches_catalog(committed, engine_under_test)
