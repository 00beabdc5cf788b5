"""Which search engine to use: Meilisearch when MEILI_URL is set, else the embedded one."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SearchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    home: Path = Field(default=Path("var"), validation_alias="IDLEMARKET_HOME")
    meili_url: str = ""
    meili_master_key: str = ""
    meili_index: str = "goods"
    search_root: Path | None = None

    def resolved_search_root(self) -> Path:
        return self.search_root or self.home / "search"


@lru_cache(maxsize=1)
def get_search_settings() -> SearchSettings:
    return SearchSettings()
