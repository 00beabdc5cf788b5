"""Reading the category tree and, for admins, changing it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.categories.models import Category
from catalog.errors import Conflict, InvalidInput, NotFound

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,58}[a-z0-9]$")


@dataclass
class CategoryNode:
    category: Category
    children: list[CategoryNode] = field(default_factory=list)


def category_tree(session: Session, *, include_inactive: bool = False) -> list[CategoryNode]:
    """Top-level categories in display order, each with its subcategories."""
    stmt = select(Category).order_by(Category.position, Category.id)
    if not include_inactive:
        stmt = stmt.where(Category.active.is_(True))
    categories = session.scalars(stmt).all()
    nodes = {category.id: CategoryNode(category) for category in categories}
    roots: list[CategoryNode] = []
    for node in nodes.values():
        parent_id = node.category.parent_id
        if parent_id is None:
            roots.append(node)
        elif parent_id in nodes:
            nodes[parent_id].children.append(node)
    return roots


def get_category(session: Session, *, category_id: int) -> Category:
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound("no such category", code="category_not_found")
    return category


def category_for_goods(session: Session, *, category_id: int) -> Category:
    """The category new or edited goods go under: it must exist and be active."""
    category = session.get(Category, category_id)
    if category is None or not category.active:
        raise InvalidInput(
            "unknown or retired category", code="unknown_category", field="category_id"
        )
    if category.parent_id is not None:
        parent = session.get(Category, category.parent_id)
        if parent is None or not parent.active:
            raise InvalidInput(
                "unknown or retired category", code="unknown_category", field="category_id"
            )
    return category


def subtree_ids(session: Session, *, category_id: int) -> list[int]:
    """The category and its children: a parent page lists its children's goods too."""
    child_ids = session.scalars(select(Category.id).where(Category.parent_id == category_id)).all()
    return [category_id, *child_ids]


def create_category(
    session: Session, *, name: str, slug: str, parent_id: int | None, position: int | None
) -> Category:
    """Add a category; the tree has two levels, so a parent must itself be top-level."""
    _check_slug(session, slug)
    if parent_id is not None:
        parent = get_category(session, category_id=parent_id)
        if parent.parent_id is not None:
            raise InvalidInput(
                "categories have two levels; the parent must be top-level",
                code="category_too_deep",
                field="parent_id",
            )
    if position is None:
        last = session.scalar(
            select(func.max(Category.position)).where(
                Category.parent_id.is_(None)
                if parent_id is None
                else Category.parent_id == parent_id
            )
        )
        position = (last or 0) + 1
    category = Category(name=name, slug=slug, parent_id=parent_id, position=position, active=True)
    session.add(category)
    session.flush()
    return category


def update_category(
    session: Session,
    *,
    category_id: int,
    name: str | None,
    position: int | None,
    active: bool | None,
) -> Category:
    """Rename, reorder or retire a category. Retiring keeps existing goods where they are."""
    category = get_category(session, category_id=category_id)
    if name is not None:
        category.name = name
    if position is not None:
        category.position = position
    if active is not None:
        category.active = active
    session.flush()
    return category


def _check_slug(session: Session, slug: str) -> None:
    if not _SLUG.match(slug):
        raise InvalidInput(
            "a slug is 2 to 60 lowercase letters, digits and dashes",
            code="invalid_slug",
            field="slug",
        )
    if session.scalar(select(Category.id).where(Category.slug == slug)) is not None:
        raise Conflict("this slug is taken", code="slug_taken")
