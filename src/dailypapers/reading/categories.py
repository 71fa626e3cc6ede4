"""/papers/category/{category}: the papers arXiv lists in a category (primary or cross-list)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from dailypapers.papers.connections import category_name, is_category, papers_in_category
from dailypapers.reading.listing import PageNumber, check_page
from dailypapers.web.deps import SessionDep, SettingsDep
from dailypapers.web.pages import render_page

router = APIRouter(include_in_schema=False)


@router.get("/papers/category/{category}", response_class=HTMLResponse)
def category_page(
    category: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    page: PageNumber = 1,
) -> Response:
    if not is_category(category):
        raise HTTPException(
            404,
            f"{category[:40]!r} is not an arXiv category. Category pages look like "
            "/papers/category/cs.LG or /papers/category/hep-th.",
        )
    size = settings.page_size
    found = papers_in_category(session, category, offset=(page - 1) * size, limit=size)
    pages = check_page(page, found.total, size, f"{category}'s papers")
    name = category_name(category)
    return render_page(
        request,
        "category.html",
        {
            "title": f"{category} · {name}" if name else category,
            "category": category,
            "category_name": name,
            "found": found,
            "page_number": page,
            "pages": pages,
            "feed_url": f"/feeds/category/{category}.rss",
        },
    )
