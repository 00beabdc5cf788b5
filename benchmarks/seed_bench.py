"""How fast the demo seed loads goods, next to the naive ORM loop it replaces.

    .venv/bin/python benchmarks/seed_bench.py [GOODS] [--naive N]

Both runs write into fresh SQLite files in a temporary folder and include generating the
listings, one photo row per goods and one outbox row per listed goods.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path
from time import perf_counter

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from catalog.categories.models import Category
from catalog.clock import utcnow
from catalog.db import make_engine, make_session_factory
from catalog.goods.models import Goods, GoodsPhoto, GoodsStatus
from catalog.models import Base
from catalog.outbox.service import record_goods_change
from catalog.seed.bulk import seed_catalog
from catalog.seed.listings import generate_listings
from catalog.seed.placeholder_photos import ensure_placeholder_photos
from catalog.seed.taxonomy import top_level_of
from catalog.users.models import User

NAIVE_COMMIT_EVERY = 1_000


def _fresh_store(folder: Path) -> tuple[Engine, sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
    Base.metadata.create_all(engine)
    return engine, make_session_factory(engine)


def bulk_rate(goods: int, folder: Path, *, progress: bool) -> tuple[float, float]:
    """Seconds and goods per second of `seed_catalog` on an empty store."""
    engine, factory = _fresh_store(folder)
    try:
        report = seed_catalog(factory, goods=goods, media_root=folder / "media", progress=progress)
    finally:
        engine.dispose()
    return report.seconds, goods / report.seconds


def naive_rate(goods: int, folder: Path) -> tuple[float, float]:
    """The same rows written the obvious way: one ORM object at a time, flushed for its id."""
    engine, factory = _fresh_store(folder)
    try:
        # Categories and sellers are set-up, not the part being measured.
        seed_catalog(factory, goods=0, sellers=100, media_root=folder / "media", progress=False)
        photos = ensure_placeholder_photos(folder / "media")
        with factory() as session:
            category_ids = dict(session.execute(select(Category.slug, Category.id)).all())
            top_by_id = {category_ids[slug]: top for slug, top in top_level_of().items()}
            seller_ids = list(session.scalars(select(User.id)))

        rng = random.Random(7)
        started = perf_counter()
        session = factory()
        try:
            for n, draft in enumerate(generate_listings(rng, goods), start=1):
                now = utcnow()
                row = Goods(
                    seller_id=rng.choice(seller_ids),
                    category_id=category_ids[draft.category_slug],
                    title=draft.title,
                    description=draft.description,
                    price=draft.price,
                    original_price=draft.original_price,
                    condition=draft.condition,
                    city=draft.city,
                    status=GoodsStatus.LISTED,
                    submitted_at=now,
                    published_at=now,
                )
                session.add(row)
                session.flush()
                photo = photos[top_by_id[row.category_id]]
                session.add(
                    GoodsPhoto(
                        goods_id=row.id,
                        position=0,
                        path=photo.path,
                        thumb_path=photo.thumb_path,
                        width=photo.width,
                        height=photo.height,
                    )
                )
                record_goods_change(session, goods_id=row.id, version=row.version, reason="seeded")
                if n % NAIVE_COMMIT_EVERY == 0:
                    session.commit()
            session.commit()
        finally:
            session.close()
        seconds = perf_counter() - started
    finally:
        engine.dispose()
    return seconds, goods / seconds


def _print_row(approach: str, goods: int, seconds: float, per_second: float) -> None:
    print(f"{approach:<34} {goods:>9,} {seconds:>9.2f} {per_second:>10,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "goods", type=int, nargs="?", default=100_000, help="goods for seed_catalog"
    )
    parser.add_argument("--naive", type=int, default=5_000, help="goods for the naive ORM loop")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="seed-bench-") as temp:
        root = Path(temp)
        (root / "bulk").mkdir()
        (root / "naive").mkdir()
        bulk_seconds, bulk_per_second = bulk_rate(
            args.goods, root / "bulk", progress=not args.quiet
        )
        naive_seconds, naive_per_second = naive_rate(args.naive, root / "naive")

    print(f"{'approach':<34} {'goods':>9} {'seconds':>9} {'goods/s':>10}")
    _print_row("seed_catalog (Core, 5k chunks)", args.goods, bulk_seconds, bulk_per_second)
    _print_row("naive ORM (add+flush, commit/1k)", args.naive, naive_seconds, naive_per_second)
    print(f"speed-up: {bulk_per_second / naive_per_second:.1f}x")


if __name__ == "__main__":
    main()
