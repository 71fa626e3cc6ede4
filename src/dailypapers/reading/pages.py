"""HTML pages of the daily list: day, week, month, trending and each paper's own page."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
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
    parse_month,
    parse_period,
    week_period,
)
from dailypapers.papers.trending import AGE_OFFSET_DAYS, GRAVITY, STARS_WEIGHT
from dailypapers.search.similar import similar_papers
from dailypapers.web.deps import SessionDep, SettingsDep, SiteDep, ViewerDep
from dailypapers.web.fragments import kept
from dailypapers.web.pages import render_page

router = APIRouter(include_in_schema=False)

SIMILAR_PAPERS = 5
LAST_PAGE = 10_000
# The home page says how old its papers are when the newest day is older than this.
STALE_AFTER_DAYS = 3
PageSort = Literal["upvotes", "trending", "newest"]
SORTS: dict[str, PageSort] = {
    "top": "upvotes",
    "upvotes": "upvotes",
    "trending": "trending",
    "newest": "newest",
}
SORT_FOR_FEED: dict[str, feed.FeedSort] = {
    "upvotes": "upvotes",
    "trending": "trending",
    "newest": "publishedAt",
}


# Read as text and checked here, so that a bad value gets the error page with a sentence
# (400), not the validator's list of problems.
def sort_param(
    sort: Annotated[str, Query(description="top (or upvotes), trending or newest")] = "upvotes",
) -> PageSort:
    if sort not in SORTS:
        raise HTTPException(
            400, f"sort must be one of top/upvotes, trending, newest (not {sort[:40]!r})."
        )
    return SORTS[sort]


def page_param(
    page: Annotated[str, Query(description=f"Page number, 1 to {LAST_PAGE:,}")] = "1",
) -> int:
    text = page.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 6 and 1 <= int(text) <= LAST_PAGE):
        raise HTTPException(
            400, f"page must be a whole number from 1 to {LAST_PAGE:,} (not {page[:40]!r})."
        )
    return int(text)


SortParam = Annotated[PageSort, Depends(sort_param)]
PageParam = Annotated[int, Depends(page_param)]


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    sort: SortParam,
    page: PageParam,
) -> Response:
    today = datetime.now(settings.zone).date()
    latest = newest_day(request, session, today)
    if latest is None:
        return render_page(request, "empty.html", {"title": "No papers yet"})
    age = (today - latest).days
    return _period_view(
        request,
        session,
        settings,
        day_period(latest),
        sort,
        page,
        home=True,
        days_old=age if age > STALE_AFTER_DAYS else None,
    )


@router.get("/papers/week")
@router.get("/papers/month")
def latest_period(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """/papers/week and /papers/month lead to the latest week or month with papers."""
    today = datetime.now(settings.zone).date()
    latest = newest_day(request, session, today) or today
    kind = request.url.path.rsplit("/", 1)[-1]
    period = week_period(latest) if kind == "week" else month_period(latest)
    return RedirectResponse(_period_url(period), status_code=302)


@router.get("/papers/date/{day}", response_class=HTMLResponse)
def day_page(
    day: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    sort: SortParam,
    page: PageParam,
) -> Response:
    return _period_page("date", day, request, session, settings, sort, page)


@router.get("/papers/week/{week}", response_class=HTMLResponse)
def week_page(
    week: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    sort: SortParam,
    page: PageParam,
) -> Response:
    return _period_page("week", week, request, session, settings, sort, page)


@router.get("/papers/month/{month}", response_class=HTMLResponse)
def month_page(
    month: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    sort: SortParam,
    page: PageParam,
) -> Response:
    return _period_page("month", month, request, session, settings, sort, page)


@router.get("/papers/trending", response_class=HTMLResponse)
def trending(
    request: Request, session: SessionDep, settings: SettingsDep, page: PageParam
) -> Response:
    size = settings.page_size
    result = feed.trending_page(
        session, offset=(page - 1) * size, limit=size, window_days=settings.trending_window_days
    )
    today = datetime.now(settings.zone).date()
    days = featured_days(request, session)
    latest = newest_day(request, session, today)
    pages = _page_count(result.total, size)
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
            "pages": pages,
            "offset": (page - 1) * size,
            "period": None,
            "calendar": feed.calendar_month(month_period(latest or today), days),
            "shown_day": None,
        },
        status_code=404 if page > pages else 200,
    )


@router.get("/calendar")
def latest_calendar(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """/calendar leads to the latest month with papers."""
    today = datetime.now(settings.zone).date()
    latest = newest_day(request, session, today) or today
    return RedirectResponse(f"/calendar/{month_period(latest).label}", status_code=302)


@router.get("/calendar/{month}", response_class=HTMLResponse)
def calendar_page(month: str, request: Request, session: SessionDep) -> Response:
    """A month's days with papers and how many, Monday first, and the months of its year."""
    try:
        period = parse_month(month)
    except InvalidPeriod as error:
        raise HTTPException(404, f"{error}. Calendar pages look like /calendar/2025-10.") from None
    calendar = feed.calendar_month(period, featured_days(request, session))
    return render_page(
        request,
        "calendar.html",
        {
            "title": f"Calendar · {period.name}",
            "view": "calendar",
            "calendar": calendar,
            "year": feed.year_months(session, period.start.year),
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
    similar = similar_papers(
        session,
        paper.id,
        keyword=site.keyword,
        meaning=site.meaning,
        limit=SIMILAR_PAPERS,
        memo=site.similar_memo,
    )
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
    days_old: int | None = None,
) -> Response:
    size = settings.page_size
    offset = (page_number - 1) * size
    days = featured_days(request, session)
    result = feed.period_page(
        session, period, sort=SORT_FOR_FEED[sort], offset=offset, limit=size, days=days
    )
    previous = period.containing(result.previous) if result.previous else None
    following = period.containing(result.next) if result.next else None
    pages = _page_count(result.total, size)
    anchor = _anchor_day(period, result)
    return render_page(
        request,
        "feed.html",
        {
            "title": period.name,
            "heading": period.name,
            "view": period.kind,
            "period": period,
            "sort": sort,
            "page": result,
            "page_number": page_number,
            "pages": pages,
            "offset": offset,
            "home": home,
            "days_old": days_old,
            "previous": previous,
            "next": following,
            "previous_url": _period_url(previous) if previous else None,
            "next_url": _period_url(following) if following else None,
            "switch": {
                "date": _period_url(day_period(anchor)),
                "week": _period_url(week_period(period.start)),
                "month": _period_url(month_period(period.start)),
            },
            "calendar": feed.calendar_month(month_period(anchor), days),
            "shown_day": period.start if period.kind == "date" else None,
        },
        # Past the last page: the list's heading and a link to its last page, as a 404.
        status_code=404 if page_number > pages else 200,
    )


def featured_days(request: Request, session: Session) -> feed.FeaturedDays:
    """The days with papers and their counts, read once per site revision."""
    return kept(request, "featured-days", lambda: feed.FeaturedDays.read(session))


def newest_day(request: Request, session: Session, today: date) -> date | None:
    """The newest day with papers up to today (a stray later one aside), or the newest of all
    when none is that old; None on a site without papers."""
    days = featured_days(request, session)
    return days.latest(today) or days.latest()


def _anchor_day(period: Period, result: feed.FeedPage) -> date:
    """The day to show when switching from a week or month to the daily view."""
    if period.kind == "date" or not result.items:
        return period.start
    return max(item.entry.featured_date for item in result.items)


def _period_url(period: Period) -> str:
    return f"/papers/{period.kind}/{period.label}"


def _page_count(total: int, size: int) -> int:
    return max((total + size - 1) // size, 1)
