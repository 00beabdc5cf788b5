from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, Field, StringConstraints

from api.schemas.base import Input, Output
from catalog.events.service import MAX_BATCH

Token = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\w\-:.]+$")]


class EventIn(Input):
    type: Annotated[str, StringConstraints(max_length=16)]
    goods_id: Annotated[int, Field(strict=True, ge=1)]
    device_id: Token | None = None
    ts: AwareDatetime | None = Field(default=None, description="when it happened; default: now")
    surface: Token | None = Field(default=None, description="home, for_you, search, similar...")
    position: Annotated[int, Field(strict=True, ge=0, le=10_000)] | None = None
    request_id: Token | None = None
    ranker_version: Annotated[int, Field(strict=True, ge=0)] | None = None


class EventBatchIn(Input):
    # Events are checked one by one (EventIn) so one malformed event does not sink the batch.
    events: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_BATCH)]


class RejectedEventOut(Output):
    index: int
    code: str
    reason: str


class EventBatchOut(Output):
    accepted: int
    counted: int
    rejected: list[RejectedEventOut]
