"""JSON API with Hugging Face's paths, parameters and field names."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from dailypapers.papers import feed
from dailypapers.papers.arxiv_ids import parse_arxiv_id
from dailypapers.papers.lookup import visible_paper
from dailypapers.papers.periods import InvalidPeriod, month_period, parse_month, parse_period
from dailypapers.papers.schemas import (
    DailyPaperPublic,
    PaperPublic,
    daily_paper_json,
    paper_json,
)
from dailypapers.signing import BadLink, Signer
from dailypapers.web.deps import SessionDep, SettingsDep, SiteDep
from dailypapers.web.openapi import errors
from dailypapers.web.params import ArxivIdPath
from dailypapers.web.responses import JSONBytesResponse

router = APIRouter(prefix="/api", tags=["papers"])


@router.get(
    "/daily_papers",
    response_model=list[DailyPaperPublic],
    responses=errors(400, 422, 503),
    summary="The daily list: a day, ISO week or month, newest first or trending",
)
def list_daily_papers(
    session: SessionDep,
    settings: SettingsDep,
    p: Annotated[int, Query(ge=0, le=100_000, description="Page, from 0.")] = 0,
    limit: Annotated[int, Query(ge=1, le=100, description="Papers per page.")] = 50,
    date: Annotated[str | None, Query(description="A day, YYYY-MM-DD.")] = None,
    week: Annotated[str | None, Query(description="An ISO week, YYYY-Www.")] = None,
    month: Annotated[str | None, Query(description="A month, YYYY-MM.")] = None,
    submitter: Annotated[str | None, Query(max_length=100)] = None,
    sort: Annotated[Literal["publishedAt", "trending"], Query()] = "publishedAt",
) -> Response:
    given = [name for name, value in (("date", date), ("week", week), ("month", month)) if value]
    if len(given) > 1:
        raise HTTPException(400, f"{', '.join(given)}: give only one of date, week and month")
    texts = {"date": date, "week": week, "month": month}
    try:
        period = parse_period(given[0], texts[given[0]] or "") if given else None
    except InvalidPeriod as error:
        raise HTTPException(400, f"{given[0]}: {error}") from None
    offset = p * limit
    if period is None:
        page = feed.latest_page(
            session,
            sort=sort,
            offset=offset,
            limit=limit,
            submitter=submitter,
            window_days=settings.trending_window_days,
        )
    else:
        page = feed.period_page(
            session, period, sort=sort, offset=offset, limit=limit, submitter=submitter
        )
    return JSONBytesResponse([daily_paper_json(item) for item in page.items])


class CalendarDayPublic(BaseModel):
    """A day of `GET /api/calendar`: how many papers were featured on it."""

    date: str = Field(description="The featured date, YYYY-MM-DD.", examples=["2025-10-01"])
    count: int = Field(description="Papers on that day's list.", ge=1)


@router.get(
    "/calendar",
    response_model=list[CalendarDayPublic],
    responses=errors(400, 422, 503),
    summary="The days of a month that have papers, with how many (days without are left out)",
)
def calendar(
    session: SessionDep,
    settings: SettingsDep,
    month: Annotated[
        str | None,
        Query(description="A month, YYYY-MM; the latest month with papers when left out."),
    ] = None,
) -> Response:
    if month:
        try:
            period = parse_month(month)
        except InvalidPeriod as error:
            raise HTTPException(400, f"month: {error}") from None
    else:
        today = datetime.now(settings.zone).date()
        latest = feed.latest_featured_date(session, today) or feed.latest_featured_date(session)
        period = month_period(latest or today)
    counts = feed.featured_counts(session, period.start, period.end)
    return JSONBytesResponse(
        [{"date": day.isoformat(), "count": counts[day]} for day in sorted(counts)]
    )


@router.get(
    "/papers",
    response_model=list[PaperPublic],
    responses={
        200: {"headers": {"Link": {"description": 'The next page: `<url>; rel="next"`.'}}},
        **errors(400, 422, 503),
    },
    summary="All papers, newest publication first; follow the Link header for the next page",
)
def list_papers(
    request: Request,
    session: SessionDep,
    site: SiteDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Response:
    after = _decode_cursor(site.signer, cursor) if cursor else None
    papers = feed.papers_by_publication(session, after=after, limit=limit)
    headers = {}
    if len(papers) == limit:
        last = papers[-1]
        assert last.published_date is not None
        next_url = request.url.include_query_params(
            cursor=_encode_cursor(site.signer, last.published_date, last.arxiv_id)
        )
        headers["Link"] = f'<{next_url}>; rel="next"'
    return JSONBytesResponse(
        [paper_json(paper, paper.daily_entry) for paper in papers], headers=headers
    )


@router.get(
    "/papers/{arxiv_id:path}",
    response_model=PaperPublic,
    responses=errors(400, 404, 422, 503),
    summary="One paper by arXiv id (any form: 2510.00184v2, arXiv:…, hep-th/9901001)",
)
def get_paper(arxiv_id: ArxivIdPath, session: SessionDep) -> Response:
    paper = visible_paper(session, arxiv_id)
    return JSONBytesResponse(paper_json(paper, paper.daily_entry))


# Cursors are signed, so that only positions this API handed out are accepted.
CURSOR_PURPOSE = "papers-cursor"


def _encode_cursor(signer: Signer, published: date, arxiv_id: str) -> str:
    return signer.sign([published.isoformat(), arxiv_id], CURSOR_PURPOSE, lasting=True)


def _decode_cursor(signer: Signer, cursor: str) -> tuple[date, str]:
    try:
        published, arxiv_id = signer.read(cursor, CURSOR_PURPOSE, lasting=True)
        return date.fromisoformat(published), parse_arxiv_id(arxiv_id).id
    except (BadLink, TypeError, ValueError):
        raise HTTPException(400, "cursor: not a cursor given by this API") from None
