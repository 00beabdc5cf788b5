"""The logistics port: where a shipment is. The sandbox provider tells a plausible story
from the time since shipping; a Kuaidi100 adapter would implement the same call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


@dataclass(frozen=True)
class TrackingEvent:
    at: datetime
    status: str
    description: str


class LogisticsProvider(Protocol):
    def track(
        self, *, carrier: str, tracking_number: str, shipped_at: datetime, now: datetime
    ) -> list[TrackingEvent]: ...


_SANDBOX_STORY = (
    (timedelta(0), "collected", "快递员已揽收"),
    (timedelta(hours=6), "in_transit", "已发往转运中心"),
    (timedelta(hours=20), "in_transit", "已到达目的地转运中心"),
    (timedelta(hours=30), "delivering", "快递员正在派送"),
    (timedelta(hours=34), "delivered", "已签收"),
)


class SandboxLogistics:
    """Deterministic tracking for the sandbox: the parcel arrives 34 hours after shipping."""

    def track(
        self, *, carrier: str, tracking_number: str, shipped_at: datetime, now: datetime
    ) -> list[TrackingEvent]:
        return [
            TrackingEvent(shipped_at + after, status, description)
            for after, status, description in _SANDBOX_STORY
            if shipped_at + after <= now
        ]
