from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from api.schemas.base import Input, Output
from catalog.categories.service import CategoryNode

CategoryName = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class CategoryOut(Output):
    id: int
    parent_id: int | None
    name: str
    slug: str
    position: int
    active: bool
    children: list[CategoryOut] = Field(default_factory=list)

    @classmethod
    def of(cls, node: CategoryNode) -> CategoryOut:
        category = node.category
        return cls(
            id=category.id,
            parent_id=category.parent_id,
            name=category.name,
            slug=category.slug,
            position=category.position,
            active=category.active,
            children=[cls.of(child) for child in node.children],
        )


class CategoryTreeOut(Output):
    items: list[CategoryOut]
    total: int


class CategoryCreateIn(Input):
    name: CategoryName
    slug: Annotated[str, StringConstraints(min_length=2, max_length=60)]
    parent_id: int | None = None
    position: int | None = None


class CategoryUpdateIn(Input):
    name: CategoryName | None = None
    position: int | None = None
    active: bool | None = None
