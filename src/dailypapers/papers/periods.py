"""Days, ISO weeks and months of the daily list, parsed from what users type in URLs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$", re.ASCII)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)

# The days the site knows: arXiv opened in August 1991; 2100 leaves room for any real list.
# Beyond them a week or month would run past `date.max` (year 9999) and nothing is listed.
FIRST_DAY = date(1991, 1, 1)
LAST_DAY = date(2100, 12, 31)


class InvalidPeriod(ValueError):
    """Text that is not a day, week or month; the message says what was expected."""


def check_day(day: date, text: str | None = None) -> date:
    """`day`, if the site knows it (FIRST_DAY to LAST_DAY); InvalidPeriod otherwise."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidPeriod(
            f"{text or day.isoformat()} is out of range "
            f"(dates from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()})"
        )
    return day


@dataclass(frozen=True, slots=True)
class Period:
    kind: str  # "date", "week" or "month"
    start: date
    end: date  # inclusive

    @property
    def label(self) -> str:
        if self.kind == "date":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return self.start.strftime("%Y-%m")

    @property
    def name(self) -> str:
        """What headings call it: "Friday, Aug 21, 2026", "Sep 29 – Oct 5, 2025", "October
        2025"."""
        return period_name(self)

    def containing(self, day: date) -> Period:
        """The period of the same kind that contains `day`."""
        return {"date": day_period, "week": week_period, "month": month_period}[self.kind](day)


def parse_day(text: str) -> date:
    if not _DAY.match(text):
        raise InvalidPeriod(f"{text[:40]!r} is not a date (expected YYYY-MM-DD, e.g. 2025-09-30)")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidPeriod(f"{text!r} is not a date on the calendar (YYYY-MM-DD)") from None
    return check_day(day)


def parse_week(text: str) -> Period:
    match = _WEEK.match(text)
    if not match:
        raise InvalidPeriod(f"{text[:40]!r} is not a week (expected YYYY-Www, e.g. 2025-W09)")
    year, week = int(match[1]), int(match[2])
    try:
        start = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise InvalidPeriod(f"{text!r}: {year} has no week {week}") from None
    # A week counts when one of its days is in range (1991-W01 starts on 1990-12-31).
    if start > LAST_DAY or start + timedelta(days=6) < FIRST_DAY:
        check_day(start, text)
    return week_period(start)


def parse_month(text: str) -> Period:
    match = _MONTH.match(text)
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1:
        raise InvalidPeriod(f"{text[:40]!r} is not a month (expected YYYY-MM, e.g. 2025-02)")
    return month_period(check_day(date(int(match[1]), int(match[2]), 1), text))


def day_period(day: date) -> Period:
    return Period("date", day, day)


def week_period(day: date) -> Period:
    start = day - timedelta(days=day.weekday())
    return Period("week", start, start + timedelta(days=6))


def month_period(day: date) -> Period:
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return Period("month", start, following - timedelta(days=1))


def parse_period(kind: str, text: str) -> Period:
    """A day ("date"), ISO week ("week") or month ("month") from its URL or query text."""
    if kind == "date":
        return day_period(parse_day(text))
    if kind == "week":
        return parse_week(text)
    if kind == "month":
        return parse_month(text)
    raise ValueError(f"unknown period kind {kind!r}")


def day_name(day: date) -> str:
    """A day as readers say it: "Friday, Aug 21, 2026"."""
    return f"{day:%A}, {day:%b} {day.day}, {day.year}"


def short_day_name(day: date) -> str:
    """A day without its weekday: "Aug 21, 2026"."""
    return f"{day:%b} {day.day}, {day.year}"


def span_name(start: date, end: date) -> str:
    """A run of days by its first and last: "Sep 29 – Oct 5, 2025", "Oct 6 – 12, 2025",
    "Dec 29, 2025 – Jan 4, 2026"."""
    if start.year != end.year:
        return f"{short_day_name(start)} – {short_day_name(end)}"
    if start.month != end.month:
        return f"{start:%b} {start.day} – {end:%b} {end.day}, {end.year}"
    return f"{start:%b} {start.day} – {end.day}, {end.year}"


def period_name(period: Period) -> str:
    """What a heading calls a period: the day, the week by its dates, or "October 2025"."""
    if period.kind == "date":
        return day_name(period.start)
    if period.kind == "week":
        return span_name(period.start, period.end)
    return f"{period.start:%B} {period.start.year}"


def month_weeks(month: Period) -> list[list[date | None]]:
    """The weeks of a month as a calendar shows them, Monday first; None pads the days of the
    months before and after."""
    first = month.start - timedelta(days=month.start.weekday())
    weeks: list[list[date | None]] = []
    while first <= month.end:
        days = (first + timedelta(days=offset) for offset in range(7))
        weeks.append([day if month.start <= day <= month.end else None for day in days])
        first += timedelta(days=7)
    return weeks
