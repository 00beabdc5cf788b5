"""Periodic jobs of the domain, one list for both ways of running: Celery beat runs them
with services; threads of the server run them in the embedded default."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from catalog.clock import utcnow
from catalog.conversations.offers import sweep_due_offers
from catalog.db import unit_of_work
from catalog.outbox import service as outbox
from catalog.trade import idempotency
from catalog.trade.notification_delivery import deliver_sandbox_notifications
from catalog.trade.settings import get_trade_settings
from catalog.trade.sweeper import sweep_due_orders
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


def sweep_orders(factory: sessionmaker[Session]) -> int:
    """Due orders, then due offers, in batches of one transaction each, until none is due."""

    def orders(session: Session) -> int:
        return sweep_due_orders(session, now=utcnow(), settings=get_trade_settings())

    def offers(session: Session) -> int:
        return sweep_due_offers(session, now=utcnow())

    handled = 0
    for sweep in (orders, offers):
        while True:
            with unit_of_work(factory) as session:
                swept = sweep(session)
            handled += swept
            if swept < 500:
                break
    return handled


def purge_idempotency_records(factory: sessionmaker[Session]) -> int:
    with unit_of_work(factory) as session:
        return idempotency.purge_old(session)


SCHEDULE: tuple[PeriodicJob, ...] = (
    PeriodicJob("purge-dead-sessions", 3600.0, purge_dead_sessions),
    PeriodicJob("purge-processed-outbox", 3600.0, purge_processed_outbox),
    PeriodicJob("sweep-due-orders", 1.0, sweep_orders),
    PeriodicJob("deliver-sandbox-notifications", 1.0, deliver_sandbox_notifications),
    PeriodicJob("purge-idempotency-records", 3600.0, purge_idempotency_records),
)
