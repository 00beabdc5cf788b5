"""Fill a store with a realistic market: categories, sellers, goods, photos, outbox rows.

Goods go in with Core `insert()` executemany, one transaction per chunk: the ORM unit of
work would take minutes for 100,000 rows, and a chunk that fails leaves the earlier ones
committed and consistent (each chunk carries its own photos and outbox rows).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from time import perf_counter
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from catalog.categories.models import Category
from catalog.clock import utcnow
from catalog.db import unit_of_work
from catalog.goods.models import Goods, GoodsPhoto, GoodsStatus
from catalog.outbox.models import OutboxEvent
from catalog.outbox.service import GOODS_TOPIC
from catalog.seed.listings import ListingDraft, generate_listings
from catalog.seed.placeholder_photos import PlaceholderPhoto, ensure_placeholder_photos
from catalog.seed.taxonomy import ensure_categories, top_level_of
from catalog.users.models import Role, User
from catalog.users.passwords import hash_password

# Published in the docs so anyone can log in as a demo seller; it guards nothing.
SELLER_PASSWORD = "demo-seller-pass"  # noqa: S105
CHUNK_SIZE = 5_000
OUTBOX_REASON = "seeded"
# Seeded sellers get 199 + an 8-digit counter: a real mobile range, easy to spot and purge.
PHONE_PREFIX = "199"
_PHONE_DIGITS = 8

_REJECTION_REASONS = (
    "商品图片与描述不符，请上传实物照片。",
    "标题或描述含有联系方式等站外引流信息。",
    "价格明显偏离市场价，疑似虚假商品。",
    "疑似品牌仿冒商品，请补充购买凭证后重新提交。",
    "该类商品不允许在平台发布。",
    "描述过于简单，请补充成色、配件和使用情况。",
    "商品类目选择错误，请选择正确的类目。",
    "图片含有水印或他人版权内容，请使用本人拍摄的照片。",
)

_NICK_ADJECTIVES = (
    "爱吃橘子的",
    "不吃香菜的",
    "快乐的",
    "佛系",
    "认真的",
    "会飞的",
    "失眠的",
    "早起的",
    "爱睡觉的",
    "路过的",
    "发呆的",
    "努力搬砖的",
)
_NICK_NOUNS = (
    "猫",
    "小熊",
    "兔子",
    "鲸鱼",
    "程序员",
    "打工人",
    "胖虎",
    "柠檬",
    "小鹿",
    "橙子",
    "豆包",
    "咸鱼",
)
_NICK_LATIN = ("Sunny", "momo", "Leo", "Coco", "Jason", "Lily", "Kevin", "Amy", "Tony", "Echo")
_SURNAMES = (
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "林",
)
_NAME_SUFFIXES = ("先生", "女士", "同学", "老师", "师傅")


@dataclass(frozen=True, slots=True)
class SeedReport:
    # Rows this run added; categories is 0 when the tree was already there.
    categories: int
    sellers: int
    goods: int
    listed: int
    pending: int
    rejected: int
    seconds: float


def seed_catalog(
    session_factory: sessionmaker[Session],
    *,
    goods: int,
    sellers: int = 1_000,
    pending_share: float = 0.05,
    rejected_share: float = 0.01,
    media_root: Path,
    seed: int = 7,
    progress: bool = True,
) -> SeedReport:
    """Add `goods` listings by `sellers` new sellers, mostly listed and waiting for the
    search index (one outbox row each), some pending review, a few rejected."""
    if goods < 0 or sellers < 1:
        raise ValueError("goods must be >= 0 and sellers >= 1")
    if pending_share < 0 or rejected_share < 0 or pending_share + rejected_share > 1:
        raise ValueError("pending_share and rejected_share must be >= 0 and add up to <= 1")
    started = perf_counter()
    now = utcnow()

    with unit_of_work(session_factory) as session:
        categories = ensure_categories(session)
    photos = ensure_placeholder_photos(media_root)
    with unit_of_work(session_factory) as session:
        category_ids, photo_by_category = _resolve_categories(session, photos)
        previous_goods = session.scalar(select(func.max(Goods.id))) or 0

    # Seeded from what is already there too, so a second run adds different goods.
    rng = random.Random(f"{seed}/{previous_goods}")
    with unit_of_work(session_factory) as session:
        seller_ids = _insert_sellers(session, rng, sellers, now)

    pending = round(goods * pending_share)
    # Rounding both shares up could overshoot the total by one.
    rejected = min(round(goods * rejected_share), goods - pending)
    listed = goods - pending - rejected
    statuses = (
        [GoodsStatus.LISTED] * listed
        + [GoodsStatus.PENDING_REVIEW] * pending
        + [GoodsStatus.REJECTED] * rejected
    )
    rng.shuffle(statuses)

    drafts = generate_listings(rng, goods)
    with _progress_bar(enabled=progress) as bar:
        task = bar.add_task("Seeding goods", total=goods)
        for start in range(0, goods, CHUNK_SIZE):
            chunk = list(islice(drafts, CHUNK_SIZE))
            rows = [
                _goods_row(rng, draft, status, seller_ids, category_ids, now)
                for draft, status in zip(chunk, statuses[start : start + CHUNK_SIZE], strict=True)
            ]
            with unit_of_work(session_factory) as session:
                _insert_chunk(session, rows, photo_by_category, now)
            bar.advance(task, len(rows))

    return SeedReport(
        categories=categories,
        sellers=len(seller_ids),
        goods=goods,
        listed=listed,
        pending=pending,
        rejected=rejected,
        seconds=perf_counter() - started,
    )


def _resolve_categories(
    session: Session, photos: dict[str, PlaceholderPhoto]
) -> tuple[dict[str, int], dict[int, PlaceholderPhoto]]:
    """Category id per generated slug, and the placeholder photo per category id.

    An operator may have removed a subcategory since the tree was seeded: its goods then
    go to the top level. A missing top level means the tree is not ours to fill.
    """
    rows = session.execute(select(Category.id, Category.slug)).all()
    id_by_slug = {slug: category_id for category_id, slug in rows}
    category_ids: dict[str, int] = {}
    photo_by_category: dict[int, PlaceholderPhoto] = {}
    for slug, top_slug in top_level_of().items():
        category_id = id_by_slug.get(slug) or id_by_slug.get(top_slug)
        if category_id is None:
            raise LookupError(f"category {top_slug!r} is missing; seed an empty database")
        category_ids[slug] = category_id
        photo_by_category[category_id] = photos[top_slug]
    return category_ids, photo_by_category


def _next_phone_number(session: Session) -> int:
    """The first counter above every phone already in the 199 range (and above the highest
    user id, as a second guard), so reruns never collide with earlier sellers."""
    pattern = PHONE_PREFIX + "_" * _PHONE_DIGITS
    highest_phone = session.scalar(select(func.max(User.phone)).where(User.phone.like(pattern)))
    highest_id = session.scalar(select(func.max(User.id))) or 0
    used = int(highest_phone[len(PHONE_PREFIX) :]) if highest_phone else 0
    return max(used, highest_id) + 1


def _nickname(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.35:
        return f"闲置用户_{rng.getrandbits(16):04x}"
    if roll < 0.6:
        return rng.choice(_NICK_ADJECTIVES) + rng.choice(_NICK_NOUNS)
    if roll < 0.75:
        return f"{rng.choice(_NICK_LATIN)}{rng.randint(1, 999)}"
    if roll < 0.9:
        surname = rng.choice(_SURNAMES)
        return (
            f"小{surname}{rng.choice(_NAME_SUFFIXES)}"
            if rng.random() < 0.4
            else f"{surname}{rng.choice(_NAME_SUFFIXES)}"
        )
    return f"{rng.choice(_NICK_NOUNS)}_{rng.randint(1985, 2006)}"


def _insert_sellers(session: Session, rng: random.Random, count: int, now: datetime) -> list[int]:
    first = _next_phone_number(session)
    if first + count > 10**_PHONE_DIGITS:
        raise ValueError("the 199 phone range is exhausted")
    # argon2 is deliberately slow (tens of ms each); hashing once and sharing the hash keeps
    # seeding thousands of sellers fast, and every demo seller logs in with the same password.
    password_hash = hash_password(SELLER_PASSWORD)
    rows = [
        {
            "phone": f"{PHONE_PREFIX}{first + n:0{_PHONE_DIGITS}d}",
            "email": None,
            "password_hash": password_hash,
            "nickname": _nickname(rng),
            "role": Role.USER,
            # Registered well before any seeded goods, which are all from the last month.
            "created_at": now - timedelta(days=rng.uniform(40, 900)),
        }
        for n in range(count)
    ]
    # RETURNING through SQLAlchemy's insertmanyvalues: one round trip per batch on both
    # SQLite (>= 3.35) and PostgreSQL; the order of the ids does not matter here.
    return list(session.execute(insert(User).returning(User.id), rows).scalars())


def _goods_row(
    rng: random.Random,
    draft: ListingDraft,
    status: GoodsStatus,
    seller_ids: Sequence[int],
    category_ids: dict[str, int],
    now: datetime,
) -> dict[str, Any]:
    published: datetime | None = None
    reason: str | None = None
    if status is GoodsStatus.LISTED:
        published = now - timedelta(seconds=rng.uniform(0, 30 * 86_400))
        submitted = published - timedelta(seconds=rng.uniform(300, 20 * 3_600))
        updated = published
    elif status is GoodsStatus.PENDING_REVIEW:
        # The queue holds the last few days' submissions; older ones would have been handled.
        submitted = now - timedelta(seconds=rng.uniform(0, 3 * 86_400))
        updated = submitted
    else:
        submitted = now - timedelta(seconds=rng.uniform(3_600, 30 * 86_400))
        updated = min(now, submitted + timedelta(seconds=rng.uniform(300, 86_400)))
        reason = rng.choice(_REJECTION_REASONS)
    created = submitted - timedelta(seconds=rng.uniform(60, 3 * 3_600))
    # A few sellers list a lot (shops, movers); most list a handful.
    seller = seller_ids[int(len(seller_ids) * rng.random() ** 1.3)]
    return {
        "seller_id": seller,
        "category_id": category_ids[draft.category_slug],
        "title": draft.title,
        "description": draft.description,
        "price": draft.price,
        "original_price": draft.original_price,
        "condition": draft.condition,
        "city": draft.city,
        "status": status,
        "rejection_reason": reason,
        # The mapper's version_id_col is not applied to Core inserts.
        "version": 1,
        "created_at": created,
        "updated_at": updated,
        "submitted_at": submitted,
        "published_at": published,
    }


def _insert_chunk(
    session: Session,
    rows: list[dict[str, Any]],
    photo_by_category: dict[int, PlaceholderPhoto],
    now: datetime,
) -> None:
    """Goods, their main photos and the outbox rows of the listed ones, in one transaction."""
    if not rows:
        return
    # Returning the category and status with each id means the result needs no particular
    # order: every photo and outbox row is built from its own returned row.
    connection = session.connection()
    inserted = connection.execute(
        insert(Goods).returning(Goods.id, Goods.category_id, Goods.status), rows
    ).all()
    photo_rows = []
    outbox_rows = []
    for goods_id, category_id, status in inserted:
        photo = photo_by_category[category_id]
        photo_rows.append(
            {
                "goods_id": goods_id,
                "position": 0,
                "path": photo.path,
                "thumb_path": photo.thumb_path,
                "width": photo.width,
                "height": photo.height,
                "created_at": now,
            }
        )
        if status == GoodsStatus.LISTED:
            outbox_rows.append(
                {
                    "topic": GOODS_TOPIC,
                    "entity_id": goods_id,
                    "entity_version": 1,
                    "reason": OUTBOX_REASON,
                    "created_at": now,
                    "processed_at": None,
                }
            )
    connection.execute(insert(GoodsPhoto), photo_rows)
    if outbox_rows:
        connection.execute(insert(OutboxEvent), outbox_rows)


@contextmanager
def _progress_bar(*, enabled: bool) -> Iterator[Progress]:
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, disable=not enabled) as bar:
        yield bar
