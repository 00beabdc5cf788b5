"""The for-you feed's candidates: a shopper's liked categories and city add the newest
goods there to the shared pool, read once per pool rather than once per page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from catalog.events.models import Event
from catalog.users.models import Role, User
from ranking import for_you
from ranking.config import DEFAULT_CONFIG, RankingConfig
from ranking.counters import DatabaseHotCounter
from ranking.feed import Placed
from ranking.for_you import (
    FeedSession,
    FeedSessions,
    ForYouPage,
    SharedPool,
    for_you_page,
    shared_pool,
)
from ranking.hot import event_term
from tests.factories import leaf_category, listed_goods, make_user

POOL = 4  # candidates per list in these tests, so that a tiny catalog overflows the pool


@pytest.fixture(autouse=True)
def small_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(for_you, "POOL", POOL)


@contextmanager
def statements_with(session: Session, text: str) -> Iterator[list[str]]:
    """The statements run meanwhile that contain `text`."""
    found: list[str] = []

    def seen(*args: Any) -> None:
        statement = str(args[2])
        if text in statement:
            found.append(statement)

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", seen)
    try:
        yield found
    finally:
        event.remove(bind, "before_cursor_execute", seen)


def newest_goods_reads(session: Session) -> AbstractContextManager[list[str]]:
    """Statements that list goods newest first (a shared pool or a section being read)."""
    return statements_with(session, "ORDER BY goods.published_at DESC")


def _click(session: Session, goods_id: int, device: str) -> None:
    session.add(
        Event(
            type="click",
            goods_id=goods_id,
            actor=f"d:{device}",
            device_id=device,
            ts=datetime.now(UTC),
        )
    )
    session.flush()


def _list(
    session: Session,
    media: Path,
    seller: User,
    reviewer: User,
    slug: str,
    n: int,
    city: str = "杭州",
) -> list[int]:
    category = leaf_category(session, slug).id
    return [
        listed_goods(
            session,
            seller=seller,
            reviewer=reviewer,
            title=f"{slug} {i}",
            media_root=media,
            category_id=category,
            city=city,
        )
        for i in range(n)
    ]


def _for_you(
    session: Session,
    pool: SharedPool,
    *,
    actor: str | None = None,
    city: str | None = None,
    served: list[int] | None = None,
    config: RankingConfig = DEFAULT_CONFIG,
    affinity: dict[int, float] | None = None,
) -> ForYouPage:
    return for_you_page(
        session,
        counter=DatabaseHotCounter(session, config_version=0),
        pool=pool,
        config=config,
        actor=actor,
        city=city,
        served=served or [],
        count=POOL,
        seed=7,
        now=datetime.now(UTC),
        affinity=affinity,
    )


def _page(session: Session, pool: SharedPool, **options: Any) -> list[int]:
    """The goods of `_for_you`'s page."""
    return _for_you(session, pool, **options).goods_ids


def test_a_shopper_who_clicked_phones_is_shown_phones_older_than_the_shared_pool(
    session: Session, media_root: Path
) -> None:
    seller, reviewer = make_user(session), make_user(session, role=Role.REVIEWER)
    phones = _list(session, media_root, seller, reviewer, "iphone", 6)
    time.sleep(0.01)  # every book is newer than every phone
    books = _list(session, media_root, seller, reviewer, "childrens-books", 6)
    _click(session, phones[0], "fan")
    pool = shared_pool(session, counter=DatabaseHotCounter(session, config_version=0))
    assert set(pool.candidates) <= set(books)  # the newest POOL goods: books only

    shown = _page(session, pool, actor="d:fan")
    assert set(shown) & set(phones)
    assert not set(_page(session, pool)) & set(phones)  # a stranger gets the shared pool


def test_a_section_is_read_once_per_pool_and_paging_goes_on_from_it(
    session: Session, media_root: Path
) -> None:
    seller, reviewer = make_user(session), make_user(session, role=Role.REVIEWER)
    _list(session, media_root, seller, reviewer, "childrens-books", 6)
    nearby = _list(session, media_root, seller, reviewer, "iphone", 3, city="拉萨")
    _list(session, media_root, seller, reviewer, "childrens-books", 6)
    pool = shared_pool(session, counter=DatabaseHotCounter(session, config_version=0))

    with newest_goods_reads(session) as reads:
        first = _page(session, pool, city="拉萨")
    assert len(reads) == 1
    assert {c.goods_id for c in pool.sections[("city", "拉萨")].candidates} == set(nearby)
    with newest_goods_reads(session) as reads:
        second = _page(session, pool, city="拉萨", served=first)
    assert reads == []  # the section built for the first page served the second
    assert not set(first) & set(second)
    shown = set(first) | set(second) | set(_page(session, pool, city="拉萨", served=first + second))
    assert set(nearby) <= shown  # the goods near the shopper made it into the feed


def test_the_next_pool_carries_sections_over_and_refreshes_old_ones(
    session: Session, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seller, reviewer = make_user(session), make_user(session, role=Role.REVIEWER)
    nearby = _list(session, media_root, seller, reviewer, "iphone", 2, city="拉萨")
    counter = DatabaseHotCounter(session, config_version=0)
    first = shared_pool(session, counter=counter)
    _page(session, first, city="拉萨")

    with newest_goods_reads(session) as reads:
        second = shared_pool(session, counter=counter, previous=first)
    assert len(reads) == 1  # the shared pool's newest goods only: the section moved over
    assert second.sections[("city", "拉萨")] is first.sections[("city", "拉萨")]

    later = _list(session, media_root, seller, reviewer, "iphone", 1, city="拉萨")
    monkeypatch.setattr(for_you, "SECTION_SECONDS", 0.0)  # every section is now old
    with newest_goods_reads(session) as reads:
        third = shared_pool(session, counter=counter, previous=second)
    assert len(reads) == 2  # the section too, rebuilt by the pool rather than by a page
    assert {c.goods_id for c in third.sections[("city", "拉萨")].candidates} == {
        *nearby,
        *later,
    }


def test_a_pool_is_scored_once_per_configuration_and_a_new_one_reorders_the_next_page(
    session: Session, media_root: Path
) -> None:
    seller, reviewer = make_user(session), make_user(session, role=Role.REVIEWER)
    clicked, _ = _list(session, media_root, seller, reviewer, "iphone", 2)
    time.sleep(0.01)
    (newest,) = _list(session, media_root, seller, reviewer, "childrens-books", 1)
    counter = DatabaseHotCounter(session, config_version=0)
    counter.add([(clicked, event_term(1.0, time.time(), DEFAULT_CONFIG.half_life_hours))])
    hot_first = RankingConfig.from_mapping(
        {"hot_weight": 1.0, "new_weight": 0.1, "exploration_share": 0}
    )
    new_first = RankingConfig.from_mapping(
        {"hot_weight": 0.0, "new_weight": 1.0, "exploration_share": 0}
    )
    pool = shared_pool(session, counter=counter)

    assert _page(session, pool, config=hot_first)[0] == clicked
    scored = pool.scored
    assert _page(session, pool, config=hot_first)[0] == clicked
    assert pool.scored is scored  # the second page merged what the first one scored

    assert _page(session, pool, config=new_first)[0] == newest  # published: scored again
    assert pool.scored is not scored


def test_later_pages_of_a_feed_reuse_the_affinity_its_first_page_read(
    session: Session, media_root: Path
) -> None:
    seller, reviewer = make_user(session), make_user(session, role=Role.REVIEWER)
    phones = _list(session, media_root, seller, reviewer, "iphone", 6)
    _click(session, phones[0], "fan")
    pool = shared_pool(session, counter=DatabaseHotCounter(session, config_version=0))

    with statements_with(session, "events.actor") as reads:
        first = _for_you(session, pool, actor="d:fan")
    assert len(reads) == 1
    assert list(first.affinity.values()) == [1.0]  # the phones' top category
    with statements_with(session, "events.actor") as reads:
        again = _for_you(session, pool, actor="d:fan", affinity=first.affinity)
    assert reads == []
    assert again.goods_ids == first.goods_ids


def test_feed_sessions_keep_served_goods_and_affinity_and_read_the_older_format() -> None:
    sessions = FeedSessions()
    assert sessions.get("unknown") == FeedSession()
    sessions.put("r1", FeedSession([3, 1, 2], {7: 1.0, 9: 0.5}))
    assert sessions.get("r1") == FeedSession([3, 1, 2], {7: 1.0, 9: 0.5})
    assert FeedSession.from_json("[5, 4]") == FeedSession([5, 4], None)
    placed = [Placed(7, 100), Placed(9, 101)]
    kept = FeedSession.from_json(FeedSession([3, 1], {7: 1.0}, placed).to_json())
    assert kept == FeedSession([3, 1], {7: 1.0}, placed)
    assert kept.placed_before(1) == [Placed(7, 100)]
    # Written before the caps were carried across pages: the feed goes on without them.
    older = FeedSession.from_json('{"served": [3, 1], "affinity": null}')
    assert older.placed_before(2) == []
