"""Hot scores reach goods_hot_scores and, through the outbox, the search index."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import make_engine, make_session_factory, unit_of_work
from catalog.goods.models import Goods, GoodsHotScore, GoodsStatus
from catalog.outbox.models import OutboxEvent
from catalog.users.models import Role, User
from indexer.embedded import EmbeddedEngine
from indexer.engine import SearchRequest, Sort
from indexer.relay import drain
from ranking import refresh
from ranking.config import DEFAULT_CONFIG
from ranking.counters import DatabaseHotCounter
from ranking.hot import event_term
from ranking.jobs import refresh_hot
from ranking.refresh import refresh_hot_scores
from tests.factories import listed_goods, make_user
from tests.trade.test_webhooks import listed_goods_rows


def _stored(session: Session) -> dict[int, float]:
    rows = session.execute(select(GoodsHotScore.goods_id, GoodsHotScore.hot_score))
    return {row.goods_id: row.hot_score for row in rows}


def _listed(session: Session, media: Path, titles: list[str]) -> list[int]:
    seller, reviewer = make_user(session), make_user(session, role=Role.REVIEWER)
    return [
        listed_goods(session, seller=seller, title=t, media_root=media, reviewer=reviewer)
        for t in titles
    ]


def test_refresh_writes_scores_that_moved_and_queues_them_for_search(
    session: Session, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    cold, warm, hot = _listed(session, tmp_path, ["刷新 冷门", "刷新 一般", "刷新 爆款"])
    now = time.time()
    counter = DatabaseHotCounter(session, config_version=0)
    counter.add([(warm, event_term(1, now, 24)), (hot, event_term(9, now, 24))])
    session.commit()

    first = refresh_hot_scores(
        session_factory, counter.scores([warm, hot]), config=DEFAULT_CONFIG, now=now
    )
    scores = _stored(session)
    assert cold not in scores  # no row: 0
    assert scores[warm] == 1.0
    assert abs(scores[hot] - 9.0) < 1e-9
    assert first.changed == 2
    reasons = session.scalars(
        select(OutboxEvent.entity_id).where(OutboxEvent.reason == "hot")
    ).all()
    assert sorted(reasons) == sorted([warm, hot])
    again = refresh_hot_scores(
        session_factory, counter.scores([warm, hot]), config=DEFAULT_CONFIG, now=now + 60
    )
    assert again.changed == 0  # a minute of decay is below the threshold worth an index write
    faded = refresh_hot_scores(
        session_factory, counter.scores([hot]), config=DEFAULT_CONFIG, now=now + 60
    )
    assert faded.changed == 1  # warm lost its counter: its score is gone, so 0
    assert set(_stored(session)) == {hot}

    engine = EmbeddedEngine(tmp_path / "index")
    drain(session_factory, engine)
    ordered = engine.search(SearchRequest(query="刷新", sort=Sort("hot_score"), limit=3)).hits
    assert ordered[0].document.id == hot
    assert {hit.document.id: hit.document.hot_score for hit in ordered}[warm] == 0.0


@pytest.mark.postgres
def test_chunks_written_over_several_connections_write_each_score_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("chunks are written in parallel on PostgreSQL only")
    monkeypatch.setattr(refresh, "CHUNK", 4)  # 23 goods: six chunks over two connections
    writing_threads: set[str] = set()
    write_chunk = refresh._write_chunk

    def recording(*args: Any) -> int:
        writing_threads.add(threading.current_thread().name)
        return write_chunk(*args)

    monkeypatch.setattr(refresh, "_write_chunk", recording)
    committing = make_engine(engine.url.render_as_string(hide_password=False))
    factory = make_session_factory(committing)
    with unit_of_work(factory) as session:
        seller = make_user(session, nickname="并行刷新测试")
        goods = listed_goods_rows(session, seller=seller, prices=[100] * 23)
        seller_id = seller.id
        session.execute(
            update(Goods).where(Goods.id.in_(goods[:3])).values(status=GoodsStatus.SOLD)
        )
    now = time.time()
    try:
        done = refresh_hot_scores(
            factory,
            {goods_id: event_term(n + 1, now, 24) for n, goods_id in enumerate(goods)},
            config=DEFAULT_CONFIG,
            now=now,
        )
        assert done.changed == 23
        assert all(name.startswith("hot-refresh") for name in writing_threads)
        with unit_of_work(factory) as session:
            stored = _stored(session)
            queued = session.scalars(
                select(OutboxEvent.entity_id).where(OutboxEvent.entity_id.in_(goods))
            ).all()
        assert {goods_id: round(stored[goods_id]) for goods_id in goods} == {
            goods_id: n + 1 for n, goods_id in enumerate(goods)
        }
        assert sorted(queued) == sorted(goods[3:])  # listed ones, once each
    finally:
        with unit_of_work(factory) as session:
            session.execute(delete(GoodsHotScore).where(GoodsHotScore.goods_id.in_(goods)))
            session.execute(delete(OutboxEvent).where(OutboxEvent.entity_id.in_(goods)))
            session.execute(delete(Goods).where(Goods.id.in_(goods)))
            session.execute(delete(User).where(User.id == seller_id))
        committing.dispose()


def test_the_periodic_job_reads_the_database_counter(
    session: Session, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    (goods_id,) = _listed(session, tmp_path, ["刷新 定时任务"])
    DatabaseHotCounter(session, config_version=0).add([(goods_id, event_term(3, time.time(), 24))])
    session.commit()
    assert refresh_hot(session_factory) >= 1
    assert _stored(session)[goods_id] > 2.9
