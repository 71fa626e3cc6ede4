"""/authors/{name}: an author's papers on this site, newest first, with their co-authors."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from dailypapers.papers.connections import MAX_NAME_CHARS, papers_by_author
from dailypapers.reading.listing import PageNumber, check_page
from dailypapers.web.deps import SessionDep, SettingsDep
from dailypapers.web.pages import render_page

router = APIRouter(include_in_schema=False)


@router.get("/authors/{name:path}", response_class=HTMLResponse)
def author_page(
    name: str, request: Request, session: SessionDep, settings: SettingsDep, page: PageNumber = 1
) -> Response:
    size = settings.page_size
    if not name.strip():
        raise HTTPException(404, "Author pages look like /authors/Ada%20Lovelace.")
    if len(name) > MAX_NAME_CHARS:
        raise HTTPException(
            404, f"No author's name here is longer than {MAX_NAME_CHARS} characters."
        )
    found = papers_by_author(session, name, offset=(page - 1) * size, limit=size)
    search = "/papers?" + urlencode({"q": name})
    if found.total == 0:
        return render_page(
            request,
            "author.html",
            {"title": f"No papers by {name}", "name": name, "found": None, "search": search},
            status_code=404,
        )
    pages = check_page(page, found.total, size, f"{name}'s papers")
    return render_page(
        request,
        "author.html",
        {
            "title": f"Papers by {name}",
            "name": name,
            "found": found,
            "page_number": page,
            "pages": pages,
            "search": search,
            "arxiv_search": "https://arxiv.org/search/?"
            + urlencode({"searchtype": "author", "query": name}),
        },
    )
