"""arXiv's announcement calendar: new papers are announced Sunday to Thursday at 20:00 US
Eastern time; nothing is announced on Friday or Saturday evenings or on arXiv's holidays.

arXiv publishes its holiday schedule each year (https://info.arxiv.org/help/availability.html).
The rule below knows the holidays it keeps every year (New Year's Day, US Thanksgiving,
Christmas Day); other dates are added with the `ARXIV_HOLIDAYS` setting.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
ANNOUNCEMENT_TIME = time(20, 0)
ANNOUNCEMENT_WEEKDAYS = frozenset({6, 0, 1, 2, 3})  # Sunday to Thursday (Monday is 0)


def thanksgiving(year: int) -> date:
    """The fourth Thursday of November."""
    first = date(year, 11, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 21)


def is_holiday(day: date, extra: Collection[date] = ()) -> bool:
    return (
        (day.month, day.day) in {(1, 1), (12, 25)}
        or day == thanksgiving(day.year)
        or (day in extra)
    )


def is_announcement_day(day: date, extra_holidays: Collection[date] = ()) -> bool:
    """Whether arXiv announces new papers on the evening (US Eastern) of `day`."""
    return day.weekday() in ANNOUNCEMENT_WEEKDAYS and not is_holiday(day, extra_holidays)


def latest_announcement(now: datetime, extra_holidays: Collection[date] = ()) -> datetime:
    """The most recent announcement at or before `now` (an aware datetime, US Eastern)."""
    local = now.astimezone(EASTERN)
    day = local.date()
    if local.time() < ANNOUNCEMENT_TIME:
        day -= timedelta(days=1)
    while not is_announcement_day(day, extra_holidays):
        day -= timedelta(days=1)
    return datetime.combine(day, ANNOUNCEMENT_TIME, tzinfo=EASTERN)


def quiet_reason(since: date, until: date, extra_holidays: Collection[date] = ()) -> str | None:
    """Why arXiv announced nothing for a harvest window of UTC days (inclusive), if its calendar
    explains it: an evening's announcement (US Eastern) is dated the next day in UTC, so the
    evenings that count are those before each day of the window."""
    days = [since + timedelta(days=n - 1) for n in range((until - since).days + 1)]
    if any(is_announcement_day(day, extra_holidays) for day in days):
        return None
    reasons = []
    for day in days:
        if is_holiday(day, extra_holidays):
            reasons.append(f"{day.isoformat()} is an arXiv holiday")
        else:
            reasons.append(f"{day.isoformat()} was a {day.strftime('%A')}")
    return (
        "no announcement in this window: "
        + "; ".join(reasons)
        + " (arXiv announces new papers Sunday to Thursday evenings, US Eastern)"
    )
