from __future__ import annotations

from datetime import datetime

from api.schemas.base import Output
from indexer.engine import Hit


class SearchHitOut(Output):
    id: int
    title: str
    highlighted_title: str
    price: int
    condition: str
    city: str
    category_id: int
    photo: str | None
    published_at: datetime

    @classmethod
    def of(cls, hit: Hit) -> SearchHitOut:
        document = hit.document
        return cls(
            id=document.id,
            title=document.title,
            highlighted_title=hit.highlighted_title,
            price=document.price,
            condition=document.condition,
            city=document.city,
            category_id=document.category_id,
            photo=document.photo,
            published_at=document.published_datetime(),
        )


class PriceStatsOut(Output):
    min: int
    max: int


class SearchOut(Output):
    hits: list[SearchHitOut]
    total: int
    page: int
    page_size: int
    facets: dict[str, dict[str, int]]
    price_stats: PriceStatsOut | None


class SuggestionOut(Output):
    text: str
    kind: str  # "word" or "category"
    count: int
    category_id: int | None = None


class SuggestOut(Output):
    items: list[SuggestionOut]
    total: int


class ParkedOut(Output):
    outbox_id: int
    goods_id: int
    attempts: int
    last_error: str | None
    parked_at: datetime | None


class SearchStatusOut(Output):
    engine: str
    healthy: bool
    documents: int | None
    pending: int
    parked: int
    oldest_pending_at: datetime | None
    last_processed_at: datetime | None
    parked_documents: list[ParkedOut]
    # Fields this version indexes that the live index lacks (`index rebuild` adds them).
    outdated_fields: list[str]


class ReconcileOut(Output):
    missing: int
    stale: int
    extra: int
    repaired: int
