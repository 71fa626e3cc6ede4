"""The search page: `/papers?q=` with highlighted matches and filters."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from dailypapers.search.query import InvalidFilter, SearchFilters
from dailypapers.search.service import QueryTooLong, SearchResults, search_papers
from dailypapers.web import ratelimit
from dailypapers.web.deps import RateLimited, SessionDep, SiteDep
from dailypapers.web.pages import render_page

router = APIRouter(include_in_schema=False)
RESULTS_PER_PAGE = 30
# Searches count (per IP address, DAILYPAPERS_SEARCHES_PER_MINUTE); the empty form does not.
SearchCounted = Annotated[ratelimit.Decision | None, RateLimited(ratelimit.searches, only_with="q")]


@router.get("/papers", response_class=HTMLResponse)
def search_page(
    _: SearchCounted,
    request: Request,
    session: SessionDep,
    site: SiteDep,
    q: Annotated[str, Query(max_length=10_000)] = "",
    published_from: Annotated[str, Query(alias="from", max_length=40)] = "",
    published_to: Annotated[str, Query(alias="to", max_length=40)] = "",
    category: Annotated[str, Query(max_length=40)] = "",
    code: Annotated[bool, Query()] = False,
    featured: Annotated[bool, Query()] = False,
) -> Response:
    problem = None
    results = SearchResults(q, ())
    status = 200
    try:
        filters = SearchFilters(
            _form_date("from", published_from),
            _form_date("to", published_to),
            category or None,
            code,
            featured,
        )
        results = search_papers(
            session,
            q,
            keyword=site.keyword,
            limit=RESULTS_PER_PAGE,
            filters=filters,
            meaning=site.meaning,
        )
    except (QueryTooLong, InvalidFilter) as error:
        problem, status = str(error).split(": ", 1)[-1], 422
    return render_page(
        request,
        "search.html",
        {
            "title": f"Search: {results.query}" if results.query else "Search",
            "view": "search",
            "query": q if problem else results.query,
            "results": results,
            "problem": problem,
            "filters": {
                "from": published_from,
                "to": published_to,
                "category": category,
                "code": code,
                "featured": featured,
            },
        },
        status,
    )


def _form_date(name: str, value: str) -> date | None:
    """A date field of the search form: empty means no bound."""
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidFilter(f"{name}: {value[:40]!r} is not a date (YYYY-MM-DD)") from None
