"""Published ranking configurations: publishing a version, and the version in force,
re-read every few seconds so servers pick up a new one without a restart."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from catalog.events.models import RankingConfigVersion
from ranking.config import DEFAULT_CONFIG, RankingConfig

# Version 0 is the built-in default, in force until an analyst publishes one.
DEFAULT_VERSION = 0


@dataclass(frozen=True)
class ActiveConfig:
    version: int
    config: RankingConfig


def publish(
    session: Session, *, config: RankingConfig, note: str = "", published_by: int | None = None
) -> RankingConfigVersion:
    """Store `config` as the next version; it is in force from now on."""
    latest = session.scalar(select(func.max(RankingConfigVersion.version))) or DEFAULT_VERSION
    row = RankingConfigVersion(
        version=latest + 1,
        params=config.model_dump_json(),
        note=note[:500],
        published_by=published_by,
        active=True,
    )
    session.add(row)
    session.flush()
    return row


def active(session: Session) -> ActiveConfig:
    row = session.scalar(
        select(RankingConfigVersion)
        .where(RankingConfigVersion.active.is_(True))
        .order_by(RankingConfigVersion.version.desc())
        .limit(1)
    )
    if row is None:
        return ActiveConfig(DEFAULT_VERSION, DEFAULT_CONFIG)
    return ActiveConfig(row.version, RankingConfig.from_mapping(json.loads(row.params)))


def known_versions(session: Session) -> set[int]:
    return {DEFAULT_VERSION, *session.scalars(select(RankingConfigVersion.version)).all()}


class ConfigWatcher:
    """The active configuration, read from the database at most every `ttl_seconds`."""

    def __init__(self, factory: sessionmaker[Session], *, ttl_seconds: float = 3.0) -> None:
        self._factory = factory
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._current: ActiveConfig | None = None
        self._read_at = -float("inf")

    def current(self, session: Session | None = None) -> ActiveConfig:
        """The active configuration; a request passes its own session, so a refresh never
        waits for a second connection (the embedded SQLite pool has one)."""
        with self._lock:
            if self._current is None or time.monotonic() - self._read_at > self._ttl:
                if session is not None:
                    self._current = active(session)
                else:
                    with self._factory() as own_session:
                        self._current = active(own_session)
                self._read_at = time.monotonic()
            return self._current
