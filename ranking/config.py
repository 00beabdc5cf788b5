"""The ranking configuration: every tunable of hot, new, the feed blend and diversity.

Analysts publish new versions (`idlemarket ranking publish FILE`, or the admin endpoint);
servers pick the active one up within seconds, and every impression records its version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from catalog.events.service import EVENT_TYPES


class RankingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Hot: a time-decayed sum of weighted events; an event's weight halves every half-life.
    half_life_hours: float = Field(default=24.0, gt=0, le=24 * 365)
    event_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "impression": 0.0,
            "click": 1.0,
            "favorite": 3.0,
            "share": 3.0,
            "chat": 4.0,
            "offer": 6.0,
            "order": 10.0,
        }
    )
    # One person's repeated clicks on one goods within this window count once.
    dedupe_window_seconds: int = Field(default=1800, ge=0, le=7 * 24 * 3600)
    # New: recency; a goods counts as new for this long after it was published.
    new_window_hours: float = Field(default=72.0, gt=0)
    # The for-you feed: blend of hot and new, a share of slots reserved for new goods,
    # personalisation by the shopper's recent categories, and diversity caps per window.
    hot_weight: float = Field(default=0.6, ge=0)
    new_weight: float = Field(default=0.4, ge=0)
    affinity_weight: float = Field(default=0.5, ge=0)
    exploration_share: float = Field(default=0.2, ge=0, le=1)
    diversity_window: int = Field(default=10, ge=1, le=100)
    max_per_category: int = Field(default=3, ge=1)
    max_per_seller: int = Field(default=2, ge=1)

    @model_validator(mode="after")
    def _known_events(self) -> RankingConfig:
        unknown = set(self.event_weights) - set(EVENT_TYPES)
        if unknown:
            raise ValueError(f"unknown event types in event_weights: {sorted(unknown)}")
        if any(weight < 0 for weight in self.event_weights.values()):
            raise ValueError("event weights cannot be negative")
        return self

    def weight_of(self, event_type: str) -> float:
        return self.event_weights.get(event_type, 0.0)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RankingConfig:
        return cls.model_validate(dict(data))


DEFAULT_CONFIG = RankingConfig()
