"""Imports every table so the metadata (for Alembic and tests) is complete."""

from catalog.banners.models import Banner
from catalog.categories.models import Category
from catalog.db import Base
from catalog.events.models import Event, GoodsHotness, RankingConfigVersion
from catalog.goods.models import Goods, GoodsPhoto
from catalog.identity.models import RealNameVerification
from catalog.outbox.models import OutboxEvent
from catalog.review.models import ReviewDecision
from catalog.users.models import AuthSession, User

__all__ = [
    "AuthSession",
    "Banner",
    "Base",
    "Category",
    "Event",
    "Goods",
    "GoodsHotness",
    "GoodsPhoto",
    "OutboxEvent",
    "RankingConfigVersion",
    "RealNameVerification",
    "ReviewDecision",
    "User",
]
