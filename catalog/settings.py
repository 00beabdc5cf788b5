"""Settings of the catalog (the store and its rules), read from the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CatalogSettings(BaseSettings):
    """Where the data lives and which rules apply; every field has an env var of its name."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # The embedded default keeps everything under one local folder.
    home: Path = Field(default=Path("var"), validation_alias="IDLEMARKET_HOME")
    database_url: str = ""
    media_root: Path | None = None
    # A Fernet key (urlsafe base64, 32 bytes). Unset: one is generated once under `home`.
    field_encryption_key: str = ""

    session_ttl_hours: int = 24 * 30
    require_verification_to_publish: bool = False
    require_verification_to_withdraw: bool = True

    photo_max_bytes: int = 10 * 1024 * 1024
    photo_max_pixels: int = 40_000_000
    photo_max_side: int = 1600
    photo_thumb_side: int = 360
    goods_max_photos: int = 9

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'idlemarket.db'}"

    def resolved_media_root(self) -> Path:
        return self.media_root or self.home / "media"


@lru_cache(maxsize=1)
def get_settings() -> CatalogSettings:
    return CatalogSettings()
