"""Settings of the web process: where it listens and how hard it limits clients."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Not plain HOST: shells and CI often set that to the machine's name.
    host: str = Field(default="127.0.0.1", validation_alias="IDLEMARKET_HOST")
    port: int = 8000
    # Unset: rate-limit counters live in this process (the embedded default).
    redis_url: str = ""

    login_attempts_per_window: int = 10
    login_window_seconds: int = 300
    registrations_per_hour: int = 20
    writes_per_minute: int = 120
    # Chat: a person types a few messages a minute; a flood is a bot or spam.
    messages_per_minute: int = 30
    # Behaviour events: a real person's app sends a few hundred a minute at most; an address
    # may be a shared network (a campus, a mobile carrier's NAT), so it gets more.
    events_per_actor_per_minute: int = 3000
    events_per_address_per_minute: int = 20_000
    # Signs feed cursors. Unset: a random key per process (cursors then last one run).
    feed_cursor_secret: str = ""


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    return ApiSettings()
