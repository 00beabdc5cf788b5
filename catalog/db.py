"""The engine, sessions and column types shared by every table of the catalog."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Enum,
    Integer,
    MetaData,
    any_,
    bindparam,
    cast,
    create_engine,
    event,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.elements import Cast, ColumnElement
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.types import TypeDecorator, TypeEngine

# SQLite only auto-increments an INTEGER PRIMARY KEY; Postgres gets a real bigint.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which drops the zone) as on Postgres."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def string_enum(cls: type[enum.Enum]) -> Enum:
    """An enum column stored as its plain string values, no native type and no CHECK:
    adding a state later is a code change, not a migration on every database."""
    return Enum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [str(member.value) for member in members],
    )


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and defers BEGIN; take it over
    # (the recipe in SQLAlchemy's SQLite dialect docs) and turn on WAL and foreign keys.
    # BEGIN IMMEDIATE takes the write lock up front: concurrent writers queue (busy_timeout)
    # instead of failing with "database is locked" when a read turns into a write. That
    # serialises transactions, which suits the embedded default; PostgreSQL is the store
    # for concurrency.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite files get their folder created and sane pragmas."""
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1]
        if database and database != ":memory:" and url != "sqlite://":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            # One connection: transactions queue for it in the pool (a fair, sleep-free wait)
            # instead of polling SQLite's busy lock, which gave p99 latencies near 0.5 s
            # under load (benchmarks/api_bench.py).
            kwargs = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 60, **kwargs}
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # Every table mapped before the first session: a flush orders its writes by every
    # foreign key in the metadata, and a process that never imported the wallet (the
    # Celery worker) could not flush a ledger posting (withdrawals was unknown).
    import catalog.models  # noqa: F401 (catalog.models imports this module)

    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: committed if the block finishes, rolled back if it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def read_only(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for a request that only reads. On PostgreSQL its statements run in
    autocommit: a page of a few quick reads then spares the BEGIN and COMMIT round trips of
    a transaction, which under load cost as much as the reads (benchmarks/feed_bench.py).
    The price is no common snapshot between the reads, and that anything written would be
    committed at once: never write through it."""
    session = factory()
    try:
        bind = session.get_bind()
        # A session bound to a connection (a test's outer transaction) keeps that transaction.
        if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session
    finally:
        session.close()


def on_postgres(session: Session) -> bool:
    """Whether the session's database is PostgreSQL (array parameters, NOTIFY, upserts)."""
    return session.get_bind().dialect.name == "postgresql"


def array_parameter(name: str, kind: TypeEngine[Any]) -> Cast[Any]:
    """A PostgreSQL array parameter, `CAST(:name AS kind[])`: a Python list binds to it."""
    return cast(bindparam(name), ARRAY(kind))


def in_parameter(
    column: Any, name: str, kind: TypeEngine[Any], *, postgres: bool
) -> ColumnElement[bool]:
    """`column IN :name`, the list bound when the statement runs, as the dialect does it
    best: on PostgreSQL `column = ANY(:name)`, one array parameter instead of an IN list of
    thousands rendered and parsed on every call. A statement built once with it (at module
    level) also skips building the query on every call, a third of a small query's time."""
    condition: ColumnElement[bool]
    if postgres:
        condition = column == any_(array_parameter(name, kind))
    else:
        condition = column.in_(bindparam(name, expanding=True))
    return condition


def any_of(
    session: Session, column: Any, values: Sequence[Any], *, name: str, kind: TypeEngine[Any]
) -> tuple[ColumnElement[bool], dict[str, Any]]:
    """`column IN values` for this session's dialect (`in_parameter`), with the parameters
    to bind."""
    return in_parameter(column, name, kind, postgres=on_postgres(session)), {name: list(values)}


def unnested(*columns: tuple[str, TypeEngine[Any]]) -> TableValuedAlias:
    """PostgreSQL rows from one array parameter per column, `unnest(:a::t[], :b::u[]) AS
    rows(a, b)`; bind each column's values under its name. Thousands of rows travel as a
    few parameters, and the statement compiles once: a VALUES list of 5,000 rows took
    SQLAlchemy longer to render than PostgreSQL took to run it."""
    arrays = [array_parameter(name, kind) for name, kind in columns]
    return func.unnest(*arrays).table_valued(*(name for name, _ in columns)).render_derived()
