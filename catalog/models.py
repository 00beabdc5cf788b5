"""Imports every table so the metadata (for Alembic and tests) is complete."""

from catalog.banners.models import Banner
from catalog.categories.models import Category
from catalog.conversations.models import Conversation, Message, Offer
from catalog.db import Base
from catalog.events.models import Event, GoodsHotness, RankingConfigVersion
from catalog.goods.models import Goods, GoodsPhoto
from catalog.identity.models import RealNameVerification
from catalog.ledger.models import LedgerAccount, LedgerPosting, LedgerTransaction
from catalog.notifications.models import Notification
from catalog.outbox.models import OutboxEvent
from catalog.review.models import ReviewDecision
from catalog.trade.models import (
    CommissionRate,
    Dispute,
    IdempotencyRecord,
    Order,
    OrderTransition,
    Payment,
    Rating,
    SandboxCharge,
)
from catalog.users.models import AuthSession, User
from catalog.wallet.models import PayoutAccount, Withdrawal

__all__ = [
    "AuthSession",
    "Banner",
    "Base",
    "Category",
    "CommissionRate",
    "Conversation",
    "Dispute",
    "Event",
    "Goods",
    "GoodsHotness",
    "GoodsPhoto",
    "IdempotencyRecord",
    "LedgerAccount",
    "LedgerPosting",
    "LedgerTransaction",
    "Message",
    "Notification",
    "Offer",
    "Order",
    "OrderTransition",
    "OutboxEvent",
    "Payment",
    "PayoutAccount",
    "RankingConfigVersion",
    "Rating",
    "RealNameVerification",
    "ReviewDecision",
    "SandboxCharge",
    "User",
    "Withdrawal",
]
