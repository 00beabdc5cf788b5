"""Migrations run from empty to head and back, and head matches the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session

from catalog import schema
from catalog.models import Base
from catalog.seed.taxonomy import ensure_categories


def test_migrations_down_to_empty_and_up_to_head_match_the_models(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    try:
        schema.downgrade(url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        schema.upgrade(url, "head")
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []
    finally:
        # The rest of the suite expects a migrated, categorised database.
        schema.upgrade(url, "head")
        with engine.begin() as connection, Session(bind=connection) as session:
            ensure_categories(session)
            session.flush()
