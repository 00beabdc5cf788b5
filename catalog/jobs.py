"""Periodic jobs of the domain, one list for both ways of running: Celery beat runs them
with services; threads of the server run them in the embedded default."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from catalog.db import unit_of_work
from catalog.outbox import service as outbox
from catalog.users import service as users


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval_seconds: float
    run: Callable[[sessionmaker[Session]], int]
    """Does one round in its own unit of work; returns how many rows it handled."""


def purge_dead_sessions(factory: sessionmaker[Session]) -> int:
    with unit_of_work(factory) as session:
        return users.purge_dead_sessions(session)


def purge_processed_outbox(factory: sessionmaker[Session]) -> int:
    with unit_of_work(factory) as session:
        return outbox.purge_processed(session)


SCHEDULE: tuple[PeriodicJob, ...] = (
    PeriodicJob("purge-dead-sessions", 3600.0, purge_dead_sessions),
    PeriodicJob("purge-processed-outbox", 3600.0, purge_processed_outbox),
)
