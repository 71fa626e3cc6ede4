"""RSS 2.0 and Atom feeds: the daily list, trending, any search (a topic) and each arXiv
category. Each paper's GUID / Atom id is a tag URI built from the site's host and the arXiv
id, so it never changes. Responses carry `Last-Modified` (and, through the response cache, an
`ETag`); `If-Modified-Since` and `If-None-Match` get 304 when nothing changed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, HTTPException, Query, Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from starlette.responses import Response

from dailypapers.display.filters import TEMPLATES_DIR
from dailypapers.papers import feed as daily
from dailypapers.papers.feed import PaperItem, paper_items
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.records import xml_safe
from dailypapers.search.query import SearchFilters
from dailypapers.search.service import MAX_QUERY_CHARS, QueryTooLong, search_papers
from dailypapers.web.deps import SearchCounted, SessionDep, SettingsDep, SiteDep

router = APIRouter(include_in_schema=False)
ITEMS = 50
TOPIC_DAYS = 90  # a topic feed lists matching papers published in the last 90 days
Format = Literal["rss", "atom"]
MEDIA_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
}


def _xml_text(value: Any) -> Any:
    """Every value a feed prints, without characters XML 1.0 forbids: papers stored before
    records were cleaned of them must not make the whole feed unreadable."""
    return xml_safe(value) if isinstance(value, str) else value


_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR / "feeds"),
    autoescape=select_autoescape(["rss", "atom"]),
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=_xml_text,
)


def _rfc822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _moment(day: date | None) -> datetime:
    return datetime.combine(day or date(1991, 8, 14), time(), tzinfo=UTC)


def _render(
    request: Request,
    settings: SettingsDep,
    kind: Format,
    title: str,
    path: str,
    items: list[tuple[PaperItem, datetime]],
) -> Response:
    updated = max((moment for _, moment in items), default=_moment(None))
    modified_since = request.headers.get("if-modified-since")
    if modified_since:
        try:
            if parsedate_to_datetime(modified_since) >= updated.replace(microsecond=0):
                return Response(status_code=304, headers={"Last-Modified": _rfc822(updated)})
        except (TypeError, ValueError):
            pass  # a malformed date: answer in full
    host = urlsplit(settings.base_url).hostname or "localhost"
    body = _env.get_template(f"feed.{kind}").render(
        title=f"{settings.site_name} — {title}",
        site_url=settings.base_url,
        self_url=settings.base_url + path,
        updated=updated,
        host=host,
        items=items,
        rfc822=_rfc822,
        iso=_iso,
    )
    return Response(body, media_type=MEDIA_TYPES[kind], headers={"Last-Modified": _rfc822(updated)})


def _with_entries(items: list[PaperItem]) -> list[tuple[PaperItem, datetime]]:
    """Each item with the moment it appeared: its featured date, else its publication date."""
    return [
        (item, _moment(item.entry.featured_date if item.entry else item.paper.published_date))
        for item in items
    ]


@router.get("/feeds/daily.{kind}")
def daily_feed(
    request: Request, session: SessionDep, settings: SettingsDep, kind: Format
) -> Response:
    """The newest featured papers, newest day first, best first within a day."""
    rows = session.execute(
        select(Paper.id)
        .join(DailyEntry, DailyEntry.paper_id == Paper.id)
        .where(Paper.hidden.is_(False))
        .order_by(
            DailyEntry.featured_date.desc(),
            (Paper.imported_upvotes + Paper.vote_count).desc(),
            Paper.arxiv_id,
        )
        .limit(ITEMS)
    ).all()
    ids = [paper_id for (paper_id,) in rows]
    found = paper_items(session, ids)
    items = [found[i] for i in ids if i in found]
    return _render(
        request, settings, kind, "Daily Papers", f"/feeds/daily.{kind}", _with_entries(items)
    )


@router.get("/feeds/trending.{kind}")
def trending_feed(
    request: Request, session: SessionDep, settings: SettingsDep, kind: Format
) -> Response:
    today = datetime.now(settings.zone).date()
    page = daily.trending_page(
        session, today=today, window_days=settings.trending_window_days, offset=0, limit=ITEMS
    )
    items = [PaperItem(item.paper, item.entry) for item in page.items]
    return _render(
        request, settings, kind, "Trending", f"/feeds/trending.{kind}", _with_entries(items)
    )


@router.get("/feeds/search.{kind}")
def topic_feed(
    _: SearchCounted,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    site: SiteDep,
    kind: Format,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS)],
) -> Response:
    """A topic: the papers of the last 90 days that best match the search, newest first."""
    today = datetime.now(settings.zone).date()
    filters = SearchFilters(published_from=today - timedelta(days=TOPIC_DAYS))
    try:
        results = search_papers(
            session, q, keyword=site.keyword, limit=ITEMS, filters=filters, meaning=site.meaning
        )
    except QueryTooLong as error:
        raise HTTPException(422, str(error)) from None
    items = sorted(
        (hit.item for hit in results.hits),
        key=lambda item: item.paper.published_date or date.min,
        reverse=True,
    )
    path = f"/feeds/search.{kind}?{urlencode({'q': q})}"
    return _render(request, settings, kind, f"“{results.query}”", path, _with_entries(items))


@router.get("/feeds/category/{category}.{kind}")
def category_feed(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    site: SiteDep,
    category: str,
    kind: Format,
) -> Response:
    """The newest papers of one arXiv category (e.g. cs.LG), by publication date."""
    try:
        SearchFilters(category=category)
    except ValueError as error:
        raise HTTPException(404, str(error)) from None
    ids = site.keyword.newest_in_category(category, ITEMS)
    found = paper_items(session, ids)
    items = [found[i] for i in ids if i in found]
    return _render(
        request,
        settings,
        kind,
        category,
        f"/feeds/category/{category}.{kind}",
        [(item, _moment(item.paper.published_date)) for item in items],
    )
