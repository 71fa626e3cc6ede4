"""Which digest is due when.

A daily digest goes out on each digest day (Monday to Friday by default: arXiv announces
Sunday to Thursday evenings, so the mornings after are the days with news) and covers the
featured papers since the previous digest day: Tuesday's covers Monday, Monday's covers Friday
to Sunday. A weekly digest goes out on the weekly day (Monday) and covers the previous ISO week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dailypapers.settings import DAY_NAMES, parse_days

__all__ = ["DAY_NAMES", "DigestPeriod", "daily_period", "parse_days", "weekly_period"]


@dataclass(frozen=True, slots=True)
class DigestPeriod:
    frequency: str  # daily or weekly
    key: str  # "daily:2026-11-27" (the sending day) or "weekly:2026-W47" (the week covered)
    start: date  # featured papers from this day …
    end: date  # … to this day, inclusive
    sent_on: date


def daily_period(today: date, days: frozenset[int]) -> DigestPeriod | None:
    """Today's daily digest, or None when today is not a digest day."""
    if today.weekday() not in days:
        return None
    previous = today - timedelta(days=1)
    while previous.weekday() not in days:
        previous -= timedelta(days=1)
    # From the previous digest day (which its own digest did not cover) to yesterday.
    end = today - timedelta(days=1)
    return DigestPeriod("daily", f"daily:{today.isoformat()}", previous, end, today)


def weekly_period(today: date, weekday: int) -> DigestPeriod | None:
    if today.weekday() != weekday:
        return None
    end = today - timedelta(days=today.weekday() + 1)  # last Sunday
    start = end - timedelta(days=6)
    year, week, _ = start.isocalendar()
    return DigestPeriod("weekly", f"weekly:{year}-W{week:02d}", start, end, today)
