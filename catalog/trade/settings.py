"""The timings and policies of trade, from the environment (prefix TRADE_)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class TradeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRADE_", env_file=".env", extra="ignore")

    unpaid_expiry_minutes: float = 30
    video_upload_hours: float = 24
    video_confirm_hours: float = 3
    # What happens when the buyer lets the video deadline pass: the source's policy is to
    # cancel and refund; "accept" treats the silence as a confirmation instead.
    unconfirmed_video_policy: Literal["refund", "accept"] = "refund"
    # The source gives the seller no shipping deadline; money must not sit in escrow
    # forever, so an order not shipped within this is cancelled and refunded.
    ship_within_hours: float = 72
    seller_completed_grace_hours: float = 24
    auto_complete_after_ship_days: float = 10

    # Used until an admin sets a rate (basis points: 100 = 1%).
    default_commission_bp: int = 100
    withdrawal_min_fen: int = 100
    max_unpaid_orders: int = 5
    offer_expiry_hours: float = 24

    video_max_bytes: int = 100 * 1024 * 1024
    video_min_seconds: float = 3
    video_max_seconds: float = 180

    # HMAC key of the sandbox gateway's notifications. Unset: one is made under the home.
    sandbox_secret: str = ""
    # Where the sandbox gateway delivers notifications; unset: this server's own webhook.
    sandbox_notify_url: str = ""


@lru_cache(maxsize=1)
def get_trade_settings() -> TradeSettings:
    return TradeSettings()
