"""The demo seed: its category tree, its generated listings and the bulk load into a store."""

from __future__ import annotations

import os
import random
import re
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

import catalog.categories.models
import catalog.goods.models
import catalog.identity.models
import catalog.outbox.models
import catalog.review.models
import catalog.users.models  # noqa: F401  (every table must be registered before create_all)
from catalog.categories.models import Category
from catalog.clock import utcnow
from catalog.db import Base, make_engine, make_session_factory
from catalog.goods.models import Condition, Goods, GoodsPhoto, GoodsStatus
from catalog.outbox.models import OutboxEvent
from catalog.seed.bulk import SeedReport, seed_catalog
from catalog.seed.listings import ListingDraft, generate_listings
from catalog.seed.taxonomy import TAXONOMY, ensure_categories
from catalog.users.models import User
from catalog.users.passwords import verify_password

REQUIRED_TOP_LEVELS = [
    "手机",
    "数码",
    "电脑办公",
    "家用电器",
    "服饰鞋包",
    "美妆个护",
    "图书音像",
    "母婴",
    "运动户外",
    "游戏",
    "乐器",
    "家居日用",
]
# The rule the admin console applies to slugs it accepts.
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,58}[a-z0-9]$")
SUBCATEGORY_COUNT = sum(len(top.children) for top in TAXONOMY)


@pytest.fixture
def seed_db(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path}/t.db")
    Base.metadata.create_all(engine)
    yield make_session_factory(engine)
    engine.dispose()


# --- the tree -------------------------------------------------------------------------


def test_taxonomy_starts_with_the_required_top_levels_in_order() -> None:
    names = [top.name for top in TAXONOMY]
    assert names[: len(REQUIRED_TOP_LEVELS)] == REQUIRED_TOP_LEVELS
    assert 2 <= len(names) - len(REQUIRED_TOP_LEVELS) <= 4


def test_every_top_level_has_real_children_and_ends_with_other() -> None:
    for top in TAXONOMY:
        assert 4 <= len(top.children) - 1 <= 10, top.name
        assert top.children[-1].name.startswith("其他"), top.name
        assert not any(child.name.startswith("其他") for child in top.children[:-1]), top.name


def test_taxonomy_slugs_are_unique_and_valid() -> None:
    slugs = [top.slug for top in TAXONOMY] + [c.slug for top in TAXONOMY for c in top.children]
    assert len(slugs) == len(set(slugs))
    assert all(SLUG.match(slug) for slug in slugs)
    names = [top.name for top in TAXONOMY] + [c.name for top in TAXONOMY for c in top.children]
    assert all(len(name) <= 40 for name in names)


def test_ensure_categories_inserts_the_tree_once(seed_db: sessionmaker[Session]) -> None:
    with seed_db() as session:
        inserted = ensure_categories(session)
        session.commit()
    assert inserted == len(TAXONOMY) + SUBCATEGORY_COUNT

    with seed_db() as session:
        assert ensure_categories(session) == 0
        rows = session.scalars(select(Category)).all()
    assert len(rows) == inserted
    by_id = {row.id: row for row in rows}
    tops = sorted((row for row in rows if row.parent_id is None), key=lambda row: row.position)
    assert [row.name for row in tops] == [top.name for top in TAXONOMY]
    phones = next(row for row in tops if row.slug == "phones")
    children = sorted((r for r in rows if r.parent_id == phones.id), key=lambda r: r.position)
    assert [child.slug for child in children] == [c.slug for c in TAXONOMY[0].children]
    assert all(by_id[row.parent_id].parent_id is None for row in rows if row.parent_id)


def test_ensure_categories_leaves_an_existing_tree_alone(seed_db: sessionmaker[Session]) -> None:
    with seed_db() as session:
        session.add(Category(name="自定义", slug="custom", position=0, active=True))
        session.commit()
    with seed_db() as session:
        assert ensure_categories(session) == 0
        assert session.scalar(select(func.count()).select_from(Category)) == 1


def test_ensure_categories_does_not_commit(seed_db: sessionmaker[Session]) -> None:
    with seed_db() as session:
        assert ensure_categories(session) > 0
        session.rollback()
    with seed_db() as session:
        assert session.scalar(select(func.count()).select_from(Category)) == 0


# --- listings ---------------------------------------------------------------------------


def test_generated_listings_look_like_real_listings() -> None:
    drafts = list(generate_listings(random.Random(1), 5_000))
    assert len(drafts) == 5_000
    for draft in drafts:
        assert draft.title.strip()
        assert len(draft.title) <= 60
        assert draft.description.endswith("。")
        assert draft.price > 0
        if draft.original_price is not None:
            assert draft.price < draft.original_price
        assert isinstance(draft.condition, Condition)
        assert 2 <= len(draft.city) <= 3
    assert len({draft.city for draft in drafts}) >= 25
    # Worn-out goods are the rarest; the middle conditions the most common.
    conditions = Counter(draft.condition for draft in drafts)
    assert conditions[Condition.WORN_70] < conditions[Condition.GOOD_90]


def test_generated_listings_cover_every_subcategory() -> None:
    drafts = generate_listings(random.Random(3), SUBCATEGORY_COUNT)
    covered = {draft.category_slug for draft in drafts}
    assert covered == {child.slug for top in TAXONOMY for child in top.children}


def test_new_goods_do_not_claim_wear_and_worn_goods_do_not_claim_tags() -> None:
    drafts = list(generate_listings(random.Random(5), 20_000))
    new_titles = [d.title for d in drafts if d.condition is Condition.NEW]
    worn_titles = [d.title for d in drafts if d.condition is Condition.WORN_70]
    assert not any("余量" in title or "已拆" in title for title in new_titles)
    assert not any("吊牌" in title or "全新" in title for title in worn_titles)


def test_price_follows_condition() -> None:
    ratios: dict[Condition, list[float]] = {}
    for draft in generate_listings(random.Random(9), 20_000):
        if draft.original_price:
            ratios.setdefault(draft.condition, []).append(draft.price / draft.original_price)
    mean = {condition: sum(values) / len(values) for condition, values in ratios.items()}
    assert mean[Condition.NEW] > mean[Condition.GOOD_90] > mean[Condition.WORN_70]


def test_generation_is_deterministic_per_seed() -> None:
    first: list[ListingDraft] = list(generate_listings(random.Random(42), 500))
    again = list(generate_listings(random.Random(42), 500))
    other = list(generate_listings(random.Random(43), 500))
    assert first == again
    assert first != other


def test_generation_is_fast() -> None:
    started = time.perf_counter()
    count = sum(1 for _ in generate_listings(random.Random(7), 100_000))
    assert count == 100_000
    assert time.perf_counter() - started < 10


# --- bulk load --------------------------------------------------------------------------


def _check_seeded_store(session: Session, report: SeedReport, media_root: Path) -> None:
    statuses = dict(
        session.execute(select(Goods.status, func.count()).group_by(Goods.status)).all()
    )
    assert statuses == {
        GoodsStatus.LISTED: report.listed,
        GoodsStatus.PENDING_REVIEW: report.pending,
        GoodsStatus.REJECTED: report.rejected,
    }

    # Exactly one outbox row per listed goods, and none for anything the public cannot see.
    outbox = session.execute(
        select(OutboxEvent.entity_id, OutboxEvent.topic, OutboxEvent.entity_version)
    ).all()
    listed_ids = set(session.scalars(select(Goods.id).where(Goods.status == GoodsStatus.LISTED)))
    assert Counter(row.entity_id for row in outbox) == Counter(listed_ids)
    assert {(row.topic, row.entity_version) for row in outbox} == {("goods", 1)}

    photos = session.execute(select(GoodsPhoto.goods_id, GoodsPhoto.position)).all()
    goods_count = session.scalar(select(func.count()).select_from(Goods))
    assert len(photos) == goods_count
    assert len({row.goods_id for row in photos}) == goods_count
    assert {row.position for row in photos} == {0}
    for path, thumb in session.execute(select(GoodsPhoto.path, GoodsPhoto.thumb_path).distinct()):
        assert (media_root / path).is_file()
        assert (media_root / thumb).is_file()

    # Goods sit in subcategories, the way sellers publish them.
    parents = session.scalars(
        select(Category.parent_id).join(Goods, Goods.category_id == Category.id).distinct()
    ).all()
    assert None not in parents


def test_seed_catalog_fills_a_store(seed_db: sessionmaker[Session], tmp_path: Path) -> None:
    media_root = tmp_path / "media"
    report = seed_catalog(seed_db, goods=2_000, sellers=50, media_root=media_root, progress=False)

    assert report.categories == len(TAXONOMY) + SUBCATEGORY_COUNT
    assert (report.goods, report.sellers) == (2_000, 50)
    assert (report.listed, report.pending, report.rejected) == (1_880, 100, 20)
    with seed_db() as session:
        _check_seeded_store(session, report, media_root)
        now = utcnow()
        for goods in session.scalars(select(Goods)):
            assert goods.version == 1
            assert goods.submitted_at is not None
            assert goods.created_at < goods.submitted_at <= now
            if goods.status is GoodsStatus.LISTED:
                assert goods.published_at is not None
                assert goods.submitted_at < goods.published_at <= now
                assert goods.published_at > now - timedelta(days=31)
                assert goods.rejection_reason is None
            elif goods.status is GoodsStatus.PENDING_REVIEW:
                assert goods.published_at is None
            else:
                assert goods.published_at is None
                assert goods.rejection_reason
        sellers = session.scalars(select(User)).all()
        assert len(set(session.scalars(select(Goods.seller_id)))) > 1
    assert len(sellers) == 50
    assert all(re.fullmatch(r"1[3-9]\d{9}", seller.phone or "") for seller in sellers)
    assert verify_password(sellers[0].password_hash, "demo-seller-pass")


def test_seed_catalog_twice_adds_more_without_phone_collisions(
    seed_db: sessionmaker[Session], tmp_path: Path
) -> None:
    media_root = tmp_path / "media"
    first = seed_catalog(seed_db, goods=300, sellers=20, media_root=media_root, progress=False)
    second = seed_catalog(seed_db, goods=300, sellers=20, media_root=media_root, progress=False)

    assert second.categories == 0
    with seed_db() as session:
        assert session.scalar(select(func.count()).select_from(Goods)) == 600
        phones = session.scalars(select(User.phone)).all()
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == (
            first.listed + second.listed
        )
        # A second run is seeded from what exists, so it adds new goods, not copies.
        titles = session.scalars(select(Goods.title).order_by(Goods.id)).all()
    assert len(phones) == 40 == len(set(phones))
    assert titles[:300] != titles[300:]


def test_seed_catalog_refuses_impossible_shares(
    seed_db: sessionmaker[Session], tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="share"):
        seed_catalog(
            seed_db,
            goods=10,
            pending_share=0.7,
            rejected_share=0.5,
            media_root=tmp_path,
            progress=False,
        )


@pytest.mark.postgres
def test_seed_catalog_on_postgres(tmp_path: Path) -> None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set")
    # A schema of its own, so tests running at the same time never see these rows.
    schema = f"seedtest_{secrets.token_hex(6)}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        Base.metadata.create_all(engine)
        factory = make_session_factory(engine)
        media_root = tmp_path / "media"
        report = seed_catalog(factory, goods=500, sellers=20, media_root=media_root, progress=False)
        again = seed_catalog(factory, goods=500, sellers=20, media_root=media_root, progress=False)
        assert (report.listed, report.pending, report.rejected) == (470, 25, 5)
        assert again.categories == 0
        with factory() as session:
            total = SeedReport(
                categories=report.categories,
                sellers=report.sellers + again.sellers,
                goods=1_000,
                listed=report.listed + again.listed,
                pending=report.pending + again.pending,
                rejected=report.rejected + again.rejected,
                seconds=0,
            )
            _check_seeded_store(session, total, media_root)
            phones = session.scalars(select(User.phone)).all()
        assert len(phones) == 40 == len(set(phones))
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
