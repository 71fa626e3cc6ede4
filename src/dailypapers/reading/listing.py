"""What the pages that connect (an author's, a category's, a member's) share: the page number
in the query, and a page past the end answered 404 with a sentence."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Query

PageNumber = Annotated[int, Query(ge=1, le=10_000, description="Page, from 1.")]


def page_count(total: int, size: int) -> int:
    return max((total + size - 1) // size, 1)


def check_page(page: int, total: int, size: int, what: str) -> int:
    """The number of pages; 404 when `page` is past the last one."""
    pages = page_count(total, size)
    if page > pages:
        raise HTTPException(
            404, f"There is no page {page} of {what}: it has {pages} page{'s' * (pages != 1)}."
        )
    return pages
