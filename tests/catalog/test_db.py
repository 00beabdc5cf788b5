"""Sessions that only read: autocommit on PostgreSQL, and nothing leaks into the pool."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from catalog.db import make_engine, make_session_factory, read_only, unit_of_work


def _transaction_times(session: Session) -> tuple[datetime, datetime]:
    # now() is when the transaction began: equal within one, apart across two.
    first = session.scalar(text("SELECT now()"))
    time.sleep(0.02)
    second = session.scalar(text("SELECT now()"))
    assert first is not None
    assert second is not None
    return first, second


def test_a_read_only_session_runs_each_statement_on_its_own_on_postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps its transactions: it has no round trips to spare")
    # One pooled connection: the unit of work after the read gets the very same one.
    single = make_engine(engine.url.render_as_string(hide_password=False), pool_size=1)
    try:
        factory = make_session_factory(single)
        with read_only(factory) as session:
            first, second = _transaction_times(session)
            assert first < second
        with unit_of_work(factory) as session:
            first, second = _transaction_times(session)
            assert first == second
    finally:
        single.dispose()
