"""Where ranking's real-time counters live: Redis when REDIS_URL is set, else the database."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class RankingSettings(BaseSettings):
    # Read the same way as the API's settings (environment, then .env), so the server and
    # the refresh job always agree on where the counters are.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    redis_url: str = ""


@lru_cache(maxsize=1)
def get_ranking_settings() -> RankingSettings:
    return RankingSettings()
