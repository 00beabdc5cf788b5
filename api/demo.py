"""The demo: accounts for each role and a seller's own goods in every state, made through
the same services people use, so the demo shows real behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.categories.models import Category
from catalog.clock import utcnow
from catalog.goods import photos
from catalog.goods import service as goods_service
from catalog.goods.models import Condition
from catalog.goods.service import GoodsFields
from catalog.media.store import MediaStore
from catalog.money import Fen
from catalog.review import service as review
from catalog.users import service as users
from catalog.users.models import Role, User


@dataclass(frozen=True)
class DemoAccount:
    role: Role
    email: str
    password: str
    nickname: str


DEMO_ACCOUNTS = (
    DemoAccount(Role.USER, "shopper@example.com", "shopper-demo-123", "爱淘的小王"),
    DemoAccount(Role.USER, "seller@example.com", "seller-demo-123", "数码闲置铺"),
    DemoAccount(Role.REVIEWER, "reviewer@example.com", "reviewer-demo-123", "审核员小李"),
    DemoAccount(Role.OPERATOR, "operator@example.com", "operator-demo-123", "运营小周"),
    DemoAccount(Role.ADMIN, "admin@example.com", "admin-demo-123", "管理员"),
)


def ensure_demo_accounts(session: Session) -> list[User]:
    """Create the demo accounts that do not exist yet (the seller is verified)."""
    accounts = []
    for account in DEMO_ACCOUNTS:
        login = users.Login(email=account.email)
        user = session.scalar(select(User).where(User.email == account.email))
        if user is None:
            user = users.register(
                session,
                login=login,
                password=account.password,
                nickname=account.nickname,
                role=account.role,
            )
        accounts.append(user)
    seller = accounts[1]
    seller.verified_at = seller.verified_at or utcnow()
    session.flush()
    return accounts


def add_demo_seller_goods(
    session: Session, *, seller: User, reviewer: User, store: MediaStore, photo: Path
) -> int:
    """The demo seller's own goods: one listed, one waiting for review, one rejected, a draft."""
    category = session.scalar(select(Category).where(Category.slug == "iphone"))
    category = category or session.scalar(
        select(Category).where(Category.parent_id.is_not(None)).limit(1)
    )
    if category is None:
        return 0
    samples = [
        ("自用iPhone 13 128G 星光色 国行 电池89%", 2_650_00, 5_999_00, "listed"),
        ("iPhone 12 64G 蓝色 屏幕完美 无拆无修", 1_780_00, 5_499_00, "pending"),
        ("苹果手机 便宜出 加微信详聊", 99_00, None, "rejected"),
        ("iPhone SE3 白色 备用机 草稿", 1_200_00, 3_499_00, "draft"),
    ]
    data = photo.read_bytes()
    for title, price, original, outcome in samples:
        goods = goods_service.create_goods(
            session,
            seller=seller,
            data=GoodsFields(
                category_id=category.id,
                title=title,
                description="个人自用，功能一切正常，支持当面验货，同城可自提。",
                price=Fen(price),
                original_price=Fen(original) if original else None,
                condition=Condition.LIKE_NEW_95,
                city="上海",
            ),
        )
        photos.add_photo(session, actor=seller, goods_id=goods.id, data=data, store=store)
        if outcome == "draft":
            continue
        goods_service.submit_goods(session, actor=seller, goods_id=goods.id)
        if outcome == "listed":
            review.approve(session, reviewer=reviewer, goods_id=goods.id)
        elif outcome == "rejected":
            review.reject(
                session,
                reviewer=reviewer,
                goods_id=goods.id,
                reason="标题含站外联系方式引导，请删除后重新提交",
            )
    return len(samples)
