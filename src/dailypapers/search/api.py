"""`GET /api/papers/search`: Hugging Face's paper search endpoint, answered by our search."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from dailypapers.papers.lookup import visible_paper
from dailypapers.papers.schemas import PaperPublic, paper_json, timestamp
from dailypapers.search.query import InvalidFilter, SearchFilters
from dailypapers.search.service import (
    MAX_LIMIT,
    MAX_MATCHES,
    MAX_QUERY_CHARS,
    InvalidSort,
    QueryTooLong,
    SearchHit,
    search_papers,
)
from dailypapers.search.similar import MAX_SIMILAR, similar_papers
from dailypapers.web.deps import SearchCounted, SessionDep, SiteDep
from dailypapers.web.openapi import errors
from dailypapers.web.params import ArxivIdPath
from dailypapers.web.responses import JSONBytesResponse

router = APIRouter(prefix="/api", tags=["search"])
SEARCH_MODE = {"description": "`hybrid`, or `keyword` while search by meaning is not ready."}
NEXT_PAGE = {"description": 'The next page\'s address (`rel="next"`), when there are more matches.'}


class SearchResultPublic(BaseModel):
    paper: PaperPublic
    title: str
    summary: str | None
    publishedAt: str | None
    numComments: int
    isAuthorParticipating: bool = False


@router.get(
    "/papers/search",
    response_model=list[SearchResultPublic],
    responses={
        200: {"headers": {"X-Search-Mode": SEARCH_MODE, "Link": NEXT_PAGE}},
        **errors(400, 422, 429, 503),
    },
    summary="Search papers by words, title, author or arXiv id",
)
def search(
    _: SearchCounted,
    request: Request,
    session: SessionDep,
    site: SiteDep,
    q: Annotated[
        str,
        Query(
            description=f"Words, a title, an arXiv id or URL, or a paragraph: at most "
            f"{MAX_QUERY_CHARS:,} characters (Hugging Face's own API takes 250)."
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    p: Annotated[int, Query(ge=0, lt=MAX_MATCHES, description="The page, from 0.")] = 0,
    sort: Annotated[
        str,
        Query(
            max_length=40,
            description="`relevance` (default), `newest` (arXiv publication) or `upvotes`.",
        ),
    ] = "relevance",
    published_from: Annotated[date | None, Query(alias="from")] = None,
    published_to: Annotated[date | None, Query(alias="to")] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    has_code: Annotated[bool, Query(alias="hasCode")] = False,
    featured: Annotated[bool, Query()] = False,
) -> Response:
    try:
        filters = SearchFilters(published_from, published_to, category, has_code, featured)
        results = search_papers(
            session,
            q,
            keyword=site.keyword,
            limit=limit,
            filters=filters,
            meaning=site.meaning,
            offset=p * limit,
            sort=sort,
        )
    except QueryTooLong as error:
        raise HTTPException(422, str(error)) from None
    except (InvalidFilter, InvalidSort) as error:
        raise HTTPException(400, str(error)) from None
    headers = {"X-Search-Mode": results.mode}  # hybrid, or keyword while dense is unavailable
    if results.more:
        following = [(name, value) for name, value in request.query_params.multi_items()]
        following = [(name, value) for name, value in following if name != "p"] + [
            ("p", str(p + 1))
        ]
        headers["Link"] = f'<{request.url.path}?{urlencode(following)}>; rel="next"'
    return JSONBytesResponse([search_result_json(hit) for hit in results.hits], headers=headers)


def search_result_json(hit: SearchHit) -> dict[str, Any]:
    paper, entry = hit.item.paper, hit.item.entry
    return {
        "paper": paper_json(paper, entry),
        "title": paper.title,
        "summary": paper.abstract,
        "publishedAt": timestamp(paper.published_date),
        "numComments": paper.num_comments,
        "isAuthorParticipating": False,
    }


@router.get(
    "/papers/{arxiv_id:path}/similar",
    response_model=list[SearchResultPublic],
    responses=errors(400, 404, 422, 429, 503),
    summary="Papers like one paper, by their words and meaning",
)
def similar(
    _: SearchCounted,
    arxiv_id: ArxivIdPath,
    session: SessionDep,
    site: SiteDep,
    limit: Annotated[int, Query(ge=1, le=MAX_SIMILAR)] = 5,
) -> Response:
    paper = visible_paper(session, arxiv_id)
    hits = similar_papers(
        session, paper.id, keyword=site.keyword, meaning=site.meaning, limit=limit
    )
    return JSONBytesResponse([search_result_json(hit) for hit in hits])
