"""Building the configured search engine."""

from __future__ import annotations

from indexer.embedded import EmbeddedEngine
from indexer.engine import SearchEngine
from indexer.settings import SearchSettings, get_search_settings


def make_search_engine(settings: SearchSettings | None = None) -> SearchEngine:
    settings = settings or get_search_settings()
    if settings.meili_url:
        from indexer.meili import MeiliEngine

        return MeiliEngine(
            settings.meili_url, settings.meili_master_key or None, index_uid=settings.meili_index
        )
    return EmbeddedEngine(settings.resolved_search_root())
