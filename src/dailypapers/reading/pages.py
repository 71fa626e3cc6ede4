"""HTML pages of the daily list: day, week, month, trending and each paper's own page."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from starlette.responses import Response

from dailypapers.discussion.service import thread
from dailypapers.harvest.models import PaperVersion
from dailypapers.papers import feed
from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id
from dailypapers.papers.lookup import paper_by_arxiv_id
from dailypapers.papers.periods import (
    InvalidPeriod,
    Period,
    day_period,
    month_period,
    parse_period,
    week_period,
)
from dailypapers.papers.trending import AGE_OFFSET_DAYS, GRAVITY, STARS_WEIGHT
from dailypapers.search.service import similar_papers
from dailypapers.web.deps import SessionDep, SettingsDep, SiteDep, ViewerDep
from dailypapers.web.pages import render_page

router = APIRouter(include_in_schema=False)

SIMILAR_PAPERS = 5
PageSort = Literal["upvotes", "trending", "newest"]
SORT_FOR_FEED: dict[str, feed.FeedSort] = {
    "upvotes": "upvotes",
    "trending": "trending",
    "newest": "publishedAt",
}
SortParam = Annotated[PageSort, Query(description="upvotes, trending or newest")]
PageParam = Annotated[int, Query(ge=1, le=10_000)]


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    sort: SortParam = "upvotes",
    page: PageParam = 1,
) -> Response:
    today = datetime.now(settings.zone).date()
    latest = feed.latest_featured_date(session, today) or feed.latest_featured_date(session)
    if latest is None:
        return render_page(request, "empty.html", {"title": "No papers yet"})
    return _period_view(request, session, settings, day_period(latest), sort, page, home=True)


@router.get("/papers/week")
@router.get("/papers/month")
def latest_period(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """/papers/week and /papers/month lead to the latest week or month with papers."""
    today = datetime.now(settings.zone).date()
    latest = (
        feed.latest_featured_date(session, today) or feed.latest_featured_date(session) or today
    )
    kind = request.url.path.rsplit("/", 1)[-1]
    period = week_period(latest) if kind == "week" else month_period(latest)
    return RedirectResponse(_period_url(period), status_code=302)


@router.get("/papers/date/{day}", response_class=HTMLResponse)
def day_page(
    day: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    sort: SortParam = "upvotes",
    page: PageParam = 1,
) -> Response:
    return _period_page("date", day, request, session, settings, sort, page)


@router.get("/papers/week/{week}", response_class=HTMLResponse)
def week_page(
    week: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    sort: SortParam = "upvotes",
    page: PageParam = 1,
) -> Response:
    return _period_page("week", week, request, session, settings, sort, page)


@router.get("/papers/month/{month}", response_class=HTMLResponse)
def month_page(
    month: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    sort: SortParam = "upvotes",
    page: PageParam = 1,
) -> Response:
    return _period_page("month", month, request, session, settings, sort, page)


@router.get("/papers/trending", response_class=HTMLResponse)
def trending(
    request: Request, session: SessionDep, settings: SettingsDep, page: PageParam = 1
) -> Response:
    size = settings.page_size
    result = feed.trending_page(
        session, offset=(page - 1) * size, limit=size, window_days=settings.trending_window_days
    )
    return render_page(
        request,
        "feed.html",
        {
            "title": "Trending papers",
            "heading": "Trending",
            "subheading": f"Papers featured in the last {settings.trending_window_days} days, "
            "ranked by upvotes that fade with age",
            "view": "trending",
            "page": result,
            "page_number": page,
            "pages": _page_count(result.total, size),
            "offset": (page - 1) * size,
        },
    )


@router.get("/about/trending", response_class=HTMLResponse)
def about_trending(request: Request, settings: SettingsDep) -> Response:
    return render_page(
        request,
        "about_trending.html",
        {
            "title": "How trending works",
            "gravity": GRAVITY,
            "offset_days": AGE_OFFSET_DAYS,
            "stars_weight": STARS_WEIGHT,
            "window_days": settings.trending_window_days,
        },
    )


@router.get("/papers/{arxiv_id:path}", response_class=HTMLResponse)
def paper_page(
    arxiv_id: str, request: Request, session: SessionDep, site: SiteDep, viewer: ViewerDep
) -> Response:
    try:
        parsed = parse_arxiv_id(arxiv_id)
    except InvalidArxivId as error:
        raise HTTPException(404, f"{error}. Paper pages look like /papers/2510.00184.") from None
    if arxiv_id != parsed.id:
        return RedirectResponse(f"/papers/{parsed.id}", status_code=301)
    paper = paper_by_arxiv_id(session, parsed.id)
    if paper is None:
        return render_page(
            request,
            "paper_missing.html",
            {"title": "Paper not found", "arxiv_id": parsed.id},
            status_code=404,
        )
    similar = similar_papers(session, site.meaning, paper.id, limit=SIMILAR_PAPERS)
    curator = viewer.member is not None and viewer.member.is_curator
    comments = thread(session, paper.id, show_hidden=curator)
    versions = session.scalars(
        select(PaperVersion).where(PaperVersion.paper_id == paper.id).order_by(PaperVersion.version)
    ).all()
    return render_page(
        request,
        "paper.html",
        {
            "title": paper.title,
            "paper": paper,
            "entry": paper.daily_entry,
            "similar": similar,
            "comments": comments,
            "curator": curator,
            "versions": versions,
            "can_edit_links": viewer.member is not None
            and viewer.member.confirmed
            and (
                curator
                or (
                    paper.daily_entry is not None
                    and paper.daily_entry.submitted_by_id == viewer.member.id
                )
            ),
        },
    )


PERIOD_EXAMPLES = {
    "date": ("Daily", "/papers/date/2025-09-30"),
    "week": ("Weekly", "/papers/week/2025-W09"),
    "month": ("Monthly", "/papers/month/2025-02"),
}


def _period_page(
    kind: str, text: str, request: Request, session: Any, settings: Any, sort: PageSort, page: int
) -> Response:
    """A day, week or month page; text that is not one gets a 404 saying what URLs look like."""
    try:
        period = parse_period(kind, text)
    except InvalidPeriod as error:
        name, example = PERIOD_EXAMPLES[kind]
        raise HTTPException(404, f"{error}. {name} pages look like {example}.") from None
    return _period_view(request, session, settings, period, sort, page)


def _period_view(
    request: Request,
    session: Any,
    settings: Any,
    period: Period,
    sort: PageSort,
    page_number: int,
    *,
    home: bool = False,
) -> Response:
    size = settings.page_size
    offset = (page_number - 1) * size
    result = feed.period_page(session, period, sort=SORT_FOR_FEED[sort], offset=offset, limit=size)
    return render_page(
        request,
        "feed.html",
        {
            "title": _period_title(period),
            "heading": _period_title(period),
            "view": period.kind,
            "period": period,
            "sort": sort,
            "page": result,
            "page_number": page_number,
            "pages": _page_count(result.total, size),
            "offset": offset,
            "home": home,
            "previous_url": _period_url(period.containing(result.previous))
            if result.previous
            else None,
            "next_url": _period_url(period.containing(result.next)) if result.next else None,
            "switch": {
                "date": _period_url(day_period(_anchor_day(period, result))),
                "week": _period_url(week_period(period.start)),
                "month": _period_url(month_period(period.start)),
            },
        },
    )


def _anchor_day(period: Period, result: feed.FeedPage) -> date:
    """The day to show when switching from a week or month to the daily view."""
    if period.kind == "date" or not result.items:
        return period.start
    return max(item.entry.featured_date for item in result.items)


def _period_title(period: Period) -> str:
    if period.kind == "date":
        return f"Daily Papers · {period.start.strftime('%A, %b %-d, %Y')}"
    if period.kind == "week":
        return (
            f"Week {period.label} · {period.start.strftime('%b %-d')} – "
            f"{period.end.strftime('%b %-d, %Y')}"
        )
    return f"Papers of {period.start.strftime('%B %Y')}"


def _period_url(period: Period) -> str:
    return f"/papers/{period.kind}/{period.label}"


def _page_count(total: int, size: int) -> int:
    return max((total + size - 1) // size, 1)
