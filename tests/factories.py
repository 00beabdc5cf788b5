"""Typed factories for test data, with keyword-only defaults."""

from __future__ import annotations

import io
import itertools
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.categories.models import Category
from catalog.users.models import Role, User
from catalog.users.passwords import hash_password
from indexer.documents import GoodsDocument

PASSWORD = "correct-horse-9"
_HASH = hash_password(PASSWORD)  # hashing is slow on purpose; tests share one hash
_counter = itertools.count(1)


def make_user(
    session: Session,
    *,
    role: Role = Role.USER,
    email: str | None = None,
    phone: str | None = None,
    nickname: str = "测试用户",
    verified: bool = False,
) -> User:
    from catalog.clock import utcnow

    n = next(_counter)
    user = User(
        email=email if email or phone else f"user{n}@example.com",
        phone=phone,
        password_hash=_HASH,
        nickname=nickname,
        role=role,
        verified_at=utcnow() if verified else None,
    )
    session.add(user)
    session.flush()
    return user


def login(client: TestClient, user: User) -> dict[str, str]:
    """Log in through the API; returns the Authorization header."""
    body = {"email": user.email} if user.email else {"phone": user.phone}
    response = client.post("/api/v1/auth/login", json={**body, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def leaf_category(session: Session, slug: str | None = None) -> Category:
    stmt = select(Category).where(Category.parent_id.is_not(None))
    if slug is not None:
        stmt = select(Category).where(Category.slug == slug)
    category = session.scalars(stmt.order_by(Category.id).limit(1)).first()
    assert category is not None
    return category


def png_bytes(*, width: int = 64, height: int = 48, color: str = "orange") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def goods_body(category_id: int, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "category_id": category_id,
        "title": "自用iPhone 13 128G 星光色",
        "description": "个人自用，功能正常，无拆无修。",
        "price": 2_650_00,
        "original_price": 5_999_00,
        "condition": "95新",
        "city": "上海",
    }
    body.update(overrides)
    return body


def listed_goods(
    session: Session,
    *,
    seller: User,
    title: str,
    media_root: Path,
    price: int = 999_00,
    city: str = "杭州",
    reviewer: User | None = None,
    category_id: int | None = None,
) -> int:
    """Goods taken the whole way through the services: draft, photo, review, listed."""
    from catalog.goods import photos
    from catalog.goods import service as goods_service
    from catalog.goods.models import Condition
    from catalog.goods.service import GoodsFields
    from catalog.media.store import MediaStore
    from catalog.money import Fen
    from catalog.review import service as review

    reviewer = reviewer or make_user(session, role=Role.REVIEWER)
    goods = goods_service.create_goods(
        session,
        seller=seller,
        data=GoodsFields(
            category_id=category_id or leaf_category(session).id,
            title=title,
            price=Fen(price),
            condition=Condition.GOOD_90,
            city=city,
        ),
    )
    photos.add_photo(
        session, actor=seller, goods_id=goods.id, data=png_bytes(), store=MediaStore(media_root)
    )
    goods_service.submit_goods(session, actor=seller, goods_id=goods.id)
    review.approve(session, reviewer=reviewer, goods_id=goods.id)
    return goods.id


def goods_document(goods_id: int, title: str, **fields: Any) -> GoodsDocument:
    """A search document for engine tests (no database): an iPhone in Shanghai by default."""
    base = GoodsDocument(
        id=goods_id,
        version=1,
        title=title,
        description="个人闲置，功能正常",
        category_id=11,
        category_ids=(11, 1),
        category_names=("苹果手机", "手机"),
        price=100_00,
        condition="95新",
        city="上海",
        seller_id=7,
        photo=f"/media/thumbs/{goods_id}.jpg",
        published_at=1_700_000_000 + goods_id,
        hot_score=0.0,
    )
    return replace(base, **fields)
