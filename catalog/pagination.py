"""Pages of query results: one page of rows and the total count across all pages."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


def fetch_page(
    session: Session, stmt: Select[T], *, page: int, page_size: int
) -> tuple[list[T], int]:
    """Rows of `stmt` on page `page` (1-based) and how many rows all pages hold."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.scalars(stmt.offset((page - 1) * page_size).limit(page_size)).all()
    return list(rows), total
