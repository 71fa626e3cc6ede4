"""Reading the daily list: a day, week or month of featured papers, trending, and single papers."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session, selectinload

from dailypapers.papers.models import DailyEntry, Paper, PaperCounts
from dailypapers.papers.periods import (
    FIRST_DAY,
    LAST_DAY,
    Period,
    month_period,
    month_weeks,
    short_day_name,
)
from dailypapers.papers.trending import trending_score

FeedSort = Literal["upvotes", "publishedAt", "trending"]
UPVOTES = Paper.imported_upvotes + Paper.vote_count


# The columns a card or an API item shows; reading just these as plain rows (not ORM objects)
# makes a page of 50 papers about four times cheaper to load.
CARD_COLUMNS = (
    Paper.id,
    Paper.arxiv_id,
    Paper.version,
    Paper.title,
    Paper.abstract,
    Paper.authors,
    Paper.categories,
    Paper.primary_category,
    Paper.published_date,
    Paper.comment,
    Paper.github_url,
    Paper.github_url_source,
    Paper.github_stars,
    Paper.project_page,
    Paper.ai_summary,
    Paper.ai_keywords,
    Paper.imported_upvotes,
    Paper.vote_count,
    Paper.imported_comments,
    Paper.comment_count,
    Paper.withdrawn,
    DailyEntry.featured_date,
    DailyEntry.submitter_name,
)


@dataclass(slots=True)
class PaperCard(PaperCounts):
    """A paper as a card or API item shows it (the same attribute names as `Paper`)."""

    id: int
    arxiv_id: str
    version: int | None
    title: str
    abstract: str | None
    authors: list[str]
    categories: list[str]
    primary_category: str | None
    published_date: date | None
    comment: str | None
    github_url: str | None
    github_url_source: str | None
    github_stars: int | None
    project_page: str | None
    ai_summary: str | None
    ai_keywords: list[str] | None
    imported_upvotes: int
    vote_count: int
    imported_comments: int
    comment_count: int
    withdrawn: bool


@dataclass(slots=True)
class EntryCard:
    featured_date: date
    submitter_name: str | None


@dataclass(slots=True)
class FeedItem:
    """A paper as it stands on the daily list."""

    paper: PaperCard
    entry: EntryCard
    trending_score: float | None = None


@dataclass(slots=True)
class PaperItem:
    """Any paper, featured (with its entry) or not."""

    paper: PaperCard
    entry: EntryCard | None


def _item(row: Any) -> FeedItem:
    *paper, featured_date, submitter_name = row
    return FeedItem(PaperCard(*paper), EntryCard(featured_date, submitter_name))


def paper_items(session: Session, paper_ids: list[int]) -> dict[int, PaperItem]:
    """Cards for the given papers (featured or not), by paper id."""
    if not paper_ids:
        return {}
    query = (
        select(*CARD_COLUMNS)
        .join_from(Paper, DailyEntry, DailyEntry.paper_id == Paper.id, isouter=True)
        .where(Paper.id.in_(paper_ids), Paper.hidden.is_(False))
    )
    items = {}
    for *paper, featured_date, submitter_name in session.execute(query):
        entry = EntryCard(featured_date, submitter_name) if featured_date else None
        card = PaperCard(*paper)
        items[card.id] = PaperItem(card, entry)
    return items


@dataclass(slots=True)
class FeedPage:
    items: list[FeedItem]
    total: int
    previous: date | None = None  # nearest earlier featured date outside the period
    next: date | None = None  # nearest later featured date outside the period


def latest_featured_date(session: Session, on_or_before: date | None = None) -> date | None:
    bound = min(on_or_before or LAST_DAY, LAST_DAY)
    return session.scalar(
        select(func.max(DailyEntry.featured_date)).where(DailyEntry.featured_date <= bound)
    )


def _entries() -> Select:  # type: ignore[type-arg]
    return select(*CARD_COLUMNS).join_from(DailyEntry, Paper, DailyEntry.paper_id == Paper.id)


def period_page(
    session: Session,
    period: Period,
    *,
    sort: FeedSort = "upvotes",
    offset: int = 0,
    limit: int = 50,
    submitter: str | None = None,
    days: FeaturedDays | None = None,
) -> FeedPage:
    """The featured papers of a period, with the nearest featured dates before and after it.
    With the site's `days` (kept per revision), the count and the neighbours come from them."""
    where = [DailyEntry.featured_date >= period.start, DailyEntry.featured_date <= period.end]
    if submitter is not None:
        where.append(DailyEntry.submitter_name == submitter)
    if days is not None and submitter is None:
        total = days.total(period.start, period.end)
    else:
        total = session.scalar(select(func.count()).select_from(DailyEntry).where(*where)) or 0
    if sort == "trending":
        everything = _ranked_by_trending(session, session.execute(_entries().where(*where)))
        items = everything[offset : offset + limit]
    else:
        order = (
            (UPVOTES.desc(), DailyEntry.featured_date.desc())
            if sort == "upvotes"
            else (DailyEntry.featured_date.desc(), UPVOTES.desc())
        )
        query = (
            _entries().where(*where).order_by(*order, Paper.arxiv_id).offset(offset).limit(limit)
        )
        items = [_item(row) for row in session.execute(query)]
    if days is not None:
        previous, following = days.before(period.start), days.after(period.end)
    else:
        previous, following = _neighbours(session, period)
    return FeedPage(items, total, previous=previous, next=following)


def _neighbours(session: Session, period: Period) -> tuple[date | None, date | None]:
    """The nearest featured dates before and after a period.

    Only within the days the site knows: a stray date stored before they were checked
    (9999-12-31) would otherwise make the link to its week overflow `date.max`."""
    previous = session.scalar(
        select(func.max(DailyEntry.featured_date)).where(
            DailyEntry.featured_date < period.start, DailyEntry.featured_date >= FIRST_DAY
        )
    )
    following = session.scalar(
        select(func.min(DailyEntry.featured_date)).where(
            DailyEntry.featured_date > period.end, DailyEntry.featured_date <= LAST_DAY
        )
    )
    return previous, following


def featured_counts(session: Session, start: date, end: date) -> dict[date, int]:
    """How many papers were featured on each day from `start` to `end` (days with none are
    left out). One GROUP BY on the indexed featured date; hidden papers have no entry."""
    query = (
        select(DailyEntry.featured_date, func.count())
        .where(DailyEntry.featured_date >= start, DailyEntry.featured_date <= end)
        .group_by(DailyEntry.featured_date)
    )
    return {day: count for day, count in session.execute(query)}


@dataclass(frozen=True, slots=True)
class FeaturedDays:
    """Every day with featured papers and its count, oldest first: one GROUP BY over the
    featured-date index (a few hundred rows a year), which the pages keep per site revision
    (web/fragments.py) and answer the calendar, the newest day and the neighbours from."""

    days: list[date]
    tallies: list[int]

    @classmethod
    def read(cls, session: Session) -> FeaturedDays:
        query = (
            select(DailyEntry.featured_date, func.count())
            .where(DailyEntry.featured_date >= FIRST_DAY, DailyEntry.featured_date <= LAST_DAY)
            .group_by(DailyEntry.featured_date)
            .order_by(DailyEntry.featured_date)
        )
        rows = session.execute(query).all()
        return cls([day for day, _ in rows], [count for _, count in rows])

    def latest(self, on_or_before: date | None = None) -> date | None:
        """The newest day with papers, on or before a day when one is given."""
        at = (
            len(self.days) if on_or_before is None else bisect.bisect_right(self.days, on_or_before)
        )
        return self.days[at - 1] if at else None

    def before(self, day: date) -> date | None:
        """The nearest day with papers before `day`."""
        at = bisect.bisect_left(self.days, day)
        return self.days[at - 1] if at else None

    def after(self, day: date) -> date | None:
        """The nearest day with papers after `day`."""
        at = bisect.bisect_right(self.days, day)
        return self.days[at] if at < len(self.days) else None

    def counts(self, start: date, end: date) -> dict[date, int]:
        low, high = bisect.bisect_left(self.days, start), bisect.bisect_right(self.days, end)
        return dict(zip(self.days[low:high], self.tallies[low:high], strict=True))

    def total(self, start: date, end: date) -> int:
        low, high = bisect.bisect_left(self.days, start), bisect.bisect_right(self.days, end)
        return sum(self.tallies[low:high])


@dataclass(slots=True)
class CalendarDay:
    day: date
    count: int  # papers featured that day; 0 when none

    @property
    def name(self) -> str:
        return short_day_name(self.day)


@dataclass(slots=True)
class CalendarMonth:
    """A month's grid of days with their paper counts, and the months with papers around it."""

    month: Period
    weeks: list[list[CalendarDay | None]]  # Monday first; None pads other months' days
    total: int
    previous: Period | None  # the nearest earlier month with papers
    next: Period | None  # the nearest later month with papers


def calendar_month(month: Period, days: FeaturedDays) -> CalendarMonth:
    """A month's grid from the site's days with papers (`FeaturedDays`, kept per revision)."""
    counts = days.counts(month.start, month.end)
    previous, following = days.before(month.start), days.after(month.end)
    weeks = [
        [None if day is None else CalendarDay(day, counts.get(day, 0)) for day in week]
        for week in month_weeks(month)
    ]
    return CalendarMonth(
        month,
        weeks,
        sum(counts.values()),
        previous=month_period(previous) if previous else None,
        next=month_period(following) if following else None,
    )


def latest_page(
    session: Session,
    *,
    sort: FeedSort = "publishedAt",
    offset: int = 0,
    limit: int = 50,
    submitter: str | None = None,
    window_days: int = 14,
) -> FeedPage:
    """The whole list, newest featured first; or, sorted by trending, the trending window."""
    if sort == "trending":
        return trending_page(
            session, offset=offset, limit=limit, submitter=submitter, window_days=window_days
        )
    where = [] if submitter is None else [DailyEntry.submitter_name == submitter]
    total = session.scalar(select(func.count()).select_from(DailyEntry).where(*where)) or 0
    order = (
        (DailyEntry.featured_date.desc(), UPVOTES.desc())
        if sort == "publishedAt"
        else (UPVOTES.desc(), DailyEntry.featured_date.desc())
    )
    query = _entries().where(*where).order_by(*order, Paper.arxiv_id).offset(offset).limit(limit)
    return FeedPage([_item(row) for row in session.execute(query)], total)


def trending_page(
    session: Session,
    *,
    offset: int = 0,
    limit: int = 50,
    submitter: str | None = None,
    window_days: int = 14,
    today: date | None = None,
) -> FeedPage:
    """Papers featured within the trending window, highest trending score first."""
    anchor = latest_featured_date(session, today)
    if anchor is None:
        return FeedPage([], 0)
    where = [DailyEntry.featured_date > anchor - timedelta(days=window_days)]
    where.append(DailyEntry.featured_date <= anchor)
    if submitter is not None:
        where.append(DailyEntry.submitter_name == submitter)
    ranked = _ranked_by_trending(session, session.execute(_entries().where(*where)), anchor)
    return FeedPage(ranked[offset : offset + limit], len(ranked))


def _ranked_by_trending(
    session: Session, rows: Iterable[Any], anchor: date | None = None
) -> list[FeedItem]:
    items = [_item(row) for row in rows]
    if anchor is None:
        anchor = latest_featured_date(session) or date.today()
    for item in items:
        item.trending_score = trending_score(
            item.paper.upvotes, item.paper.github_stars, item.entry.featured_date, anchor
        )
    items.sort(key=lambda item: (-(item.trending_score or 0.0), item.paper.arxiv_id))
    return items


def papers_by_publication(
    session: Session, *, after: tuple[date, str] | None, limit: int
) -> list[Paper]:
    """Papers newest publication first, keyset-paginated on (publication date, arXiv id)."""
    query = (
        select(Paper)
        .where(Paper.published_date.is_not(None), Paper.hidden.is_(False))
        .options(selectinload(Paper.daily_entry))
        .order_by(Paper.published_date.desc(), Paper.arxiv_id.desc())
        .limit(limit)
    )
    if after is not None:
        query = query.where(tuple_(Paper.published_date, Paper.arxiv_id) < after)
    return list(session.scalars(query))


def count_papers(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Paper)) or 0


@dataclass(slots=True)
class MonthCount:
    month: Period
    count: int  # papers featured in the month


def year_months(session: Session, year: int) -> list[MonthCount]:
    """The twelve months of a year with how many papers each had (one GROUP BY by day)."""
    counts = featured_counts(session, max(date(year, 1, 1), FIRST_DAY), date(year, 12, 31))
    totals = [0] * 12
    for day, count in counts.items():
        totals[day.month - 1] += count
    return [
        MonthCount(month_period(date(year, number, 1)), totals[number - 1])
        for number in range(1, 13)
    ]
