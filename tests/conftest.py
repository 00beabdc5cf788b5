"""Shared fixtures: every database test runs on SQLite and, when configured, on PostgreSQL.

TEST_DATABASE_URL points at a PostgreSQL database the suite may wipe. With
REQUIRE_POSTGRES=1 (as CI sets it) a missing or unreachable server fails the run instead
of skipping the PostgreSQL half. TEST_REDIS_URL and REQUIRE_REDIS work the same way.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cryptography.fernet import Fernet

# Settings are read once per process; point them at a scratch home before anything loads.
_HOME = Path(tempfile.mkdtemp(prefix="idlemarket-tests-"))
os.environ["IDLEMARKET_HOME"] = str(_HOME)
os.environ.setdefault("FIELD_ENCRYPTION_KEY", Fernet.generate_key().decode())
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)

import pytest  # noqa: E402
import redis  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Connection, Engine, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from api.app import create_app, use_session_factory  # noqa: E402
from api.ratelimit import MemoryRateLimiter  # noqa: E402
from catalog import schema  # noqa: E402
from catalog.db import make_engine  # noqa: E402
from catalog.models import Base  # noqa: E402
from catalog.seed.taxonomy import ensure_categories  # noqa: E402
from indexer.embedded import EmbeddedEngine  # noqa: E402

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "")


def _required(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false")


def _postgres_engine() -> Engine:
    if not POSTGRES_URL:
        if _required("REQUIRE_POSTGRES"):
            pytest.fail("REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not")
        pytest.skip("TEST_DATABASE_URL is not set")
    engine = make_engine(POSTGRES_URL)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        if _required("REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    return engine


def _reset_schema(engine: Engine, url: str) -> None:
    """Empty database, then every migration: the schema under test is the migrated one."""
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    schema.upgrade(url)
    with engine.begin() as connection, Session(bind=connection) as session:
        ensure_categories(session)
        session.flush()


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        engine = make_engine(url)
    else:
        url = POSTGRES_URL
        engine = _postgres_engine()
    _reset_schema(engine, url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """One connection in an outer transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        if transaction.is_active:
            transaction.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    # Commits inside the code under test only release savepoints of the outer transaction.
    return sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def search_engine(tmp_path: Path) -> EmbeddedEngine:
    return EmbeddedEngine(tmp_path / "search")


@pytest.fixture
def app(
    engine: Engine,
    session_factory: sessionmaker[Session],
    media_root: Path,
    search_engine: EmbeddedEngine,
    monkeypatch: pytest.MonkeyPatch,
):  # type: ignore[no-untyped-def]
    from catalog.settings import get_settings

    monkeypatch.setattr(get_settings(), "media_root", media_root)
    application = create_app(
        engine=engine,
        rate_limiter=MemoryRateLimiter(),
        search_engine=search_engine,
        background_jobs=False,
    )
    # Requests share the test's rolled-back connection.
    use_session_factory(application, session_factory, cache_seconds=0)
    return application


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    if not REDIS_URL:
        if _required("REQUIRE_REDIS"):
            pytest.fail("REQUIRE_REDIS is set but TEST_REDIS_URL is not")
        pytest.skip("TEST_REDIS_URL is not set")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as error:
        if _required("REQUIRE_REDIS"):
            pytest.fail(f"Redis at TEST_REDIS_URL is unreachable: {error}")
        pytest.skip(f"Redis unreachable: {error}")
    yield client
    client.close()
