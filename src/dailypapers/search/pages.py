"""The search page: `/papers?q=` with highlighted matches, filters, sorting and pages; a query
that names one paper (its arXiv id or exact title) goes straight to that paper's page."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from dailypapers.search.query import InvalidFilter, SearchFilters
from dailypapers.search.service import (
    MAX_MATCHES,
    SORTS,
    InvalidSort,
    QueryTooLong,
    SearchResults,
    search_papers,
)
from dailypapers.search.spelling import spelling_suggestions
from dailypapers.web import ratelimit
from dailypapers.web.deps import RateLimited, SessionDep, SiteDep
from dailypapers.web.pages import render_page

router = APIRouter(include_in_schema=False)
RESULTS_PER_PAGE = 30
# Searches count (per IP address, DAILYPAPERS_SEARCHES_PER_MINUTE); the empty form does not.
SearchCounted = Annotated[ratelimit.Decision | None, RateLimited(ratelimit.searches, only_with="q")]
SORT_NAMES = {"relevance": "Relevance", "newest": "Newest", "upvotes": "Most upvoted"}


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
    sort: Annotated[str, Query(max_length=40)] = "relevance",
    page: Annotated[int, Query(ge=1, le=MAX_MATCHES)] = 1,
) -> Response:
    form = {
        "q": q,
        "from": published_from,
        "to": published_to,
        "category": category,
        "code": code,
        "featured": featured,
        "sort": sort,
    }
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
            offset=(page - 1) * RESULTS_PER_PAGE,
            sort=sort,
        )
    except InvalidSort as error:
        raise HTTPException(400, str(error)) from None
    except (QueryTooLong, InvalidFilter) as error:
        problem, status = str(error).split(": ", 1)[-1], 422
    if results.direct is not None:
        return RedirectResponse(paper_path(results.direct.paper.arxiv_id), status_code=303)
    suggestions: list[str] = []
    if results.query and not results.named_id and not results.offset:
        suggestions = spelling_suggestions(
            session, site.keyword, results.query, neighbours=results.neighbours
        )
    return render_page(
        request,
        "search.html",
        {
            "title": f"Search: {results.query}" if results.query else "Search",
            "view": "search",
            "query": q if problem else results.query,
            "results": results,
            "problem": problem,
            "filters": form,
            "page_number": page,
            "links": _links(form, page, results),
            "suggestions": [(text, search_path(form, q=text, page=1)) for text in suggestions],
            "relax": _relaxed(form) if not results.hits else [],
            "sort_names": SORT_NAMES,
        },
        status,
    )


def paper_path(arxiv_id: str) -> str:
    return "/papers/" + quote(arxiv_id, safe="/")


def search_path(form: dict[str, Any], **changes: Any) -> str:
    """The search page's address for `form` with some parameters changed; parameters at their
    default (empty, unchecked, relevance, page 1) are left out."""
    defaults: dict[str, Any] = {"sort": "relevance", "page": 1}
    pairs = [
        (name, "true" if value is True else str(value))
        for name, value in {**form, **changes}.items()
        if value is not False
        and value != ""
        and value is not None
        and not (name in defaults and value == defaults[name])
    ]
    return "/papers?" + urlencode(pairs)


def _links(form: dict[str, Any], page: int, results: SearchResults) -> dict[str, Any]:
    """Where the page's links go: other pages and sorts of the same search, filters kept."""
    return {
        "previous": search_path(form, page=page - 1) if page > 1 else None,
        "next": search_path(form, page=page + 1) if results.more else None,
        "sorts": {name: search_path(form, sort=name, page=1) for name in SORTS},
    }


def _relaxed(form: dict[str, Any]) -> list[tuple[str, str]]:
    """Each filter in force, described, with the address of the same search without it."""
    described = {
        "category": lambda value: f"in {value}",
        "from": lambda value: f"published from {value}",
        "to": lambda value: f"published until {value}",
        "code": lambda value: "with code",
        "featured": lambda value: "featured on the daily list",
    }
    return [
        (describe(form[name]), search_path(form, **{name: "", "page": 1}))
        for name, describe in described.items()
        if form[name]
    ]


def _form_date(name: str, value: str) -> date | None:
    """A date field of the search form: empty means no bound."""
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidFilter(f"{name}: {value[:40]!r} is not a date (YYYY-MM-DD)") from None
