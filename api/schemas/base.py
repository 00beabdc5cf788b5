from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Input(BaseModel):
    """Input refuses unknown fields, so nobody slips in `status` or `seller_id`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(Output, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


@dataclass(frozen=True)
class PageParams:
    page: int
    page_size: int

    def answer(self, items: list[T], total: int) -> Page[T]:
        """The page of `items` this request asked for, with the total across pages."""
        return Page(items=items, total=total, page=self.page, page_size=self.page_size)
