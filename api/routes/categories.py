from __future__ import annotations

from fastapi import APIRouter

from api.deps import DbSession
from api.schemas.categories import CategoryOut, CategoryTreeOut
from catalog.categories import service as categories

router = APIRouter(prefix="/categories", tags=["categories"])


@router.get("")
def category_tree(session: DbSession) -> CategoryTreeOut:
    """The active category tree: top-level categories, each with its subcategories."""
    roots = categories.category_tree(session)
    return CategoryTreeOut(items=[CategoryOut.of(node) for node in roots], total=len(roots))
