"""Time navigation over real HTTP: the month calendar (page, dropdown and API), periods named by
their dates, previous/next at the bottom, the home page's age notice, and the lists' edges
(pages past the end, bad sort or page) answered with a sentence."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from dailypapers.papers.importing import load_file
from dailypapers.papers.periods import (
    day_period,
    month_period,
    month_weeks,
    parse_month,
    span_name,
    week_period,
)

from .conftest import LiveServer, make_settings, prepare_database

STALE_AFTER_DAYS = 3  # the home page's notice shows when its newest day is older than this


def per_day(hf_rows: list[dict[str, Any]]) -> Counter[date]:
    """How many papers the data features on each day."""
    return Counter(
        date.fromisoformat(row["featured_date"][:10]) for row in hf_rows if row["featured_date"]
    )


def months_with_papers(hf_rows: list[dict[str, Any]]) -> list[date]:
    return sorted({day.replace(day=1) for day in per_day(hf_rows)})


def short(day: date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


class CalendarCells(HTMLParser):
    """The cells of each `table.calendar` in a page: day links (href, aria-label,
    aria-current) and the plain day numbers of days without papers."""

    def __init__(self) -> None:
        super().__init__()
        self.tables = 0
        self.links: list[dict[str, str | None]] = []
        self.plain_days: list[int] = []
        self.headers: list[str | None] = []
        self.caption = ""
        self._in_caption = False
        self._in_table = False
        self._cell_class: str | None = None
        self._in_day_number = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table" and "calendar" in (found.get("class") or "").split():
            self.tables += 1
            self._in_table = True
        if not self._in_table:
            return
        if tag == "caption":
            self._in_caption = True
        elif tag == "th":
            self.headers.append(found.get("scope"))
        elif tag == "td":
            self._cell_class = found.get("class") or ""
        elif tag == "a" and self._cell_class is not None:
            self.links.append(found)
        elif tag == "span" and found.get("class") == "day-number":
            self._in_day_number = "no-papers" in (self._cell_class or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_table = False
        elif tag == "caption":
            self._in_caption = False
        elif tag == "td":
            self._cell_class = None
        elif tag == "span":
            self._in_day_number = False

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self.caption += data
        if self._in_day_number and data.strip():
            self.plain_days.append(int(data))


def cells_of(html: str) -> CalendarCells:
    parser = CalendarCells()
    parser.feed(html)
    return parser


def linked_counts(cells: CalendarCells) -> dict[date, int]:
    """Day → count as the day links say it, checking each link's aria-label on the way."""
    counts = {}
    for link in cells.links:
        href = link.get("href") or ""
        day = date.fromisoformat(href.removeprefix("/papers/date/"))
        match = re.fullmatch(rf"{re.escape(short(day))}: (\d+) papers?", link["aria-label"] or "")
        assert match, link
        counts[day] = int(match[1])
    return counts


def h1_of(html: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert found, "the page has a heading"
    return " ".join(found[1].split())


def title_of(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found
    return " ".join(found[1].split())


# The calendar page


@pytest.mark.parametrize("which", ["first", "busiest", "latest"])
def test_calendar_counts_are_the_datas_per_day_counts(
    client: httpx.Client, hf_rows: list[dict[str, Any]], which: str
) -> None:
    days = per_day(hf_rows)
    months = months_with_papers(hf_rows)
    by_month = Counter(
        {m: sum(n for d, n in days.items() if d.replace(day=1) == m) for m in months}
    )
    month = {"first": months[0], "latest": months[-1], "busiest": by_month.most_common(1)[0][0]}[
        which
    ]
    period = month_period(month)
    response = client.get(f"/calendar/{month:%Y-%m}")
    assert response.status_code == 200
    cells = cells_of(response.text)
    assert cells.tables == 1
    want = {day: n for day, n in days.items() if period.start <= day <= period.end}
    assert linked_counts(cells) == want
    # Every other day of the month is shown, not linked.
    every_day = {d for week in month_weeks(period) for d in week if d is not None}
    assert sorted(cells.plain_days) == sorted(d.day for d in every_day - set(want))
    assert cells.headers == ["col"] * 7
    total = sum(want.values())
    assert f"{period.name}" in cells.caption and f"{total:,} paper" in cells.caption
    assert h1_of(response.text) == period.name
    assert f'href="/papers/month/{month:%Y-%m}"' in response.text


def test_calendar_steps_to_months_with_papers(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    months = months_with_papers(hf_rows)
    first, middle, last = months[0], months[len(months) // 2], months[-1]
    html = client.get(f"/calendar/{middle:%Y-%m}").text
    before = months[months.index(middle) - 1]
    after = months[months.index(middle) + 1]
    assert f'rel="prev" href="/calendar/{before:%Y-%m}"' in html
    assert f'rel="next" href="/calendar/{after:%Y-%m}"' in html
    assert 'rel="prev"' not in client.get(f"/calendar/{first:%Y-%m}").text
    assert 'rel="next"' not in client.get(f"/calendar/{last:%Y-%m}").text

    # A month without papers (before the first): an empty grid that says so and leads on.
    empty = (first - timedelta(days=1)).replace(day=1)
    response = client.get(f"/calendar/{empty:%Y-%m}")
    assert response.status_code == 200
    assert cells_of(response.text).links == []
    assert f"No papers were featured in {month_period(empty).name}." in response.text
    assert f'rel="next" href="/calendar/{first:%Y-%m}"' in response.text
    # Months far apart: "next" jumps over the months without papers.
    gap = (last + timedelta(days=400)).replace(day=1)
    assert f'rel="prev" href="/calendar/{last:%Y-%m}"' in client.get(f"/calendar/{gap:%Y-%m}").text


def test_calendar_shows_the_months_of_its_year(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    month = months_with_papers(hf_rows)[-1]
    html = client.get(f"/calendar/{month:%Y-%m}").text
    days = per_day(hf_rows)
    for number in range(1, 13):
        other = date(month.year, number, 1)
        count = sum(n for d, n in days.items() if d.replace(day=1) == other)
        link = f'<a href="/calendar/{other:%Y-%m}"'
        assert (link in html) == (count > 0 or other == month), other
    assert f'<a href="/calendar/{month:%Y-%m}" aria-current="page">' in html


def test_calendar_leads_to_the_latest_month(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    today = datetime.now(UTC).date()
    latest = max(d for d in per_day(hf_rows) if d <= today)
    response = client.get("/calendar")
    assert response.status_code == 302
    assert response.headers["location"] == f"/calendar/{latest:%Y-%m}"


@pytest.mark.parametrize(
    ("month", "hint"),
    [
        ("2025-13", "is not a month"),
        ("2025-1", "is not a month"),
        ("october", "is not a month"),
        ("9999-12", "out of range"),
        ("0001-01", "out of range"),
    ],
)
def test_a_bad_month_is_a_404_with_a_sentence(client: httpx.Client, month: str, hint: str) -> None:
    response = client.get(f"/calendar/{month}")
    assert response.status_code == 404
    assert hint in response.text and "Calendar pages look like /calendar/2025-10." in response.text
    assert "Traceback" not in response.text


# The calendar on the lists


def test_every_list_has_the_calendar_of_its_month(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    days = per_day(hf_rows)
    today = datetime.now(UTC).date()
    latest = max(d for d in days if d <= today)
    day = sorted(days)[len(days) // 2]
    year, week, _ = day.isocalendar()
    lists = {
        "/": latest,
        f"/papers/date/{day}": day,
        f"/papers/month/{day:%Y-%m}": day,
        "/papers/trending": latest,
    }
    for path, shown in lists.items():
        html = client.get(path).text
        assert '<details class="calendar-menu">' in html, path
        assert f'href="/calendar/{shown:%Y-%m}"' in html, path
        month = month_period(shown)
        want = {d: n for d, n in days.items() if month.start <= d <= month.end}
        assert linked_counts(cells_of(html)) == want, path
    # The day shown is marked as the current date; on a week or month page, none is.
    html = client.get(f"/papers/date/{day}").text
    assert re.findall(r'href="/papers/date/([\d-]+)"[^>]*aria-current="date"', html) == [str(day)]
    week_html = client.get(f"/papers/week/{year}-W{week:02d}").text
    assert '<details class="calendar-menu">' in week_html
    assert 'aria-current="date"' not in week_html


# Periods named by their dates


def test_periods_are_named_by_their_dates(client: httpx.Client) -> None:
    names = {
        "/papers/week/2025-W40": "Sep 29 – Oct 5, 2025",
        "/papers/week/2025-W41": "Oct 6 – 12, 2025",
        "/papers/week/2025-W01": "Dec 30, 2024 – Jan 5, 2025",
        "/papers/month/2025-10": "October 2025",
        "/papers/date/2026-08-21": "Friday, Aug 21, 2026",
        "/papers/date/2025-09-29": "Monday, Sep 29, 2025",
    }
    for path, name in names.items():
        html = client.get(path).text
        assert h1_of(html) == name, path
        assert title_of(html).startswith(name), path
        assert "Week 20" not in html and "W40" not in h1_of(html)


@pytest.mark.parametrize("week", ["2025-W40", "2025-W01", "2026-W34", "2024-W09", "2020-W53"])
def test_week_names_follow_the_calendar(week: str) -> None:
    year, number = int(week[:4]), int(week[-2:])
    monday = date.fromisocalendar(year, number, 1)
    sunday = monday + timedelta(days=6)
    name = span_name(monday, sunday)
    assert name.endswith(f"{sunday.day}, {sunday.year}")
    assert name.startswith(f"{monday:%b} {monday.day}")
    assert (f"{monday.year}" in name.split("–")[0]) == (monday.year != sunday.year)


@pytest.mark.parametrize(
    ("start", "end", "name"),
    [
        (date(2025, 9, 29), date(2025, 10, 5), "Sep 29 – Oct 5, 2025"),
        (date(2025, 10, 6), date(2025, 10, 12), "Oct 6 – 12, 2025"),
        (date(2025, 12, 29), date(2026, 1, 4), "Dec 29, 2025 – Jan 4, 2026"),
    ],
)
def test_span_names(start: date, end: date, name: str) -> None:
    assert span_name(start, end) == name


def test_period_names() -> None:
    assert month_period(date(2025, 10, 17)).name == "October 2025"
    assert day_period(date(2026, 8, 21)).name == "Friday, Aug 21, 2026"
    assert week_period(date(2025, 10, 1)).name == "Sep 29 – Oct 5, 2025"


@pytest.mark.parametrize("month", ["2025-10", "2026-02", "2021-02", "2024-09", "2100-12"])
def test_month_weeks_start_on_monday_and_hold_every_day_once(month: str) -> None:
    period = parse_month(month)
    weeks = month_weeks(period)
    assert all(len(week) == 7 for week in weeks)
    days = [day for week in weeks for day in week if day is not None]
    every = [period.start + timedelta(days=n) for n in range((period.end - period.start).days + 1)]
    assert days == every
    for week in weeks:
        for weekday, day in enumerate(week):
            assert day is None or day.weekday() == weekday
    assert weeks[0][period.start.weekday()] == period.start  # no week without a day of the month
    assert any(day is not None for day in weeks[-1])


# Previous and next at the bottom


def test_previous_and_next_are_also_at_the_bottom(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    days = sorted(per_day(hf_rows))
    day = days[len(days) // 2]
    html = client.get(f"/papers/date/{day}").text
    bottom = html[html.index('class="cards"') :]
    pager = re.search(r'<nav class="pager period-pager"[^>]*>(.*?)</nav>', bottom, re.S)
    assert pager, "a pager after the cards"
    before, after = days[days.index(day) - 1], days[days.index(day) + 1]
    assert f'href="/papers/date/{before}">← {before:%A}, {short(before)}</a>' in pager[1]
    assert f'href="/papers/date/{after}">{after:%A}, {short(after)} →</a>' in pager[1]

    months = months_with_papers(hf_rows)
    month = months[len(months) // 2]
    html = client.get(f"/papers/month/{month:%Y-%m}").text
    pager = re.search(r'<nav class="pager period-pager"[^>]*>(.*?)</nav>', html, re.S)
    assert pager
    previous = months[months.index(month) - 1]
    assert f'href="/papers/month/{previous:%Y-%m}">← {month_period(previous).name}' in pager[1]


def test_the_last_day_has_no_next_at_the_bottom(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    last = max(per_day(hf_rows))
    html = client.get(f"/papers/date/{last}").text
    pager = re.search(r'<nav class="pager period-pager"[^>]*>(.*?)</nav>', html, re.S)
    assert pager and "→" not in pager[1] and "←" in pager[1]


# The home page says how old its papers are


def test_the_home_page_says_when_its_papers_are_old(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    today = datetime.now(UTC).date()  # the test site's time zone is UTC
    latest = max(d for d in per_day(hf_rows) if d <= today)
    age = (today - latest).days
    html = client.get("/").text
    notice = f"The newest papers here are from {short(latest)} ({age} days ago)."
    assert (notice in html) == (age > STALE_AFTER_DAYS)


def small_site(tmp_path: Path, hf_rows: list[dict[str, Any]], featured: date, **settings: Any):  # type: ignore[no-untyped-def]
    """A site whose only papers (three of the data's) were featured on `featured`."""
    site_settings = make_settings(tmp_path, **settings)
    engine, factory = prepare_database(site_settings)
    rows = [dict(row, featured_date=featured.isoformat()) for row in hf_rows[:3]]
    source = tmp_path / "papers.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert load_file(factory, source, site_settings.zone).counts.new == 3
    engine.dispose()
    return LiveServer(site_settings)


@pytest.mark.parametrize("age", [0, STALE_AFTER_DAYS, STALE_AFTER_DAYS + 1, 40])
def test_the_age_notice_shows_after_a_few_days(
    tmp_path: Path, hf_rows: list[dict[str, Any]], age: int
) -> None:
    # Kiritimati is 14 hours ahead of UTC: "today" is the site's day, not the server's.
    zone = "Pacific/Kiritimati"
    today = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo(zone)).date()
    newest = today - timedelta(days=age)
    with small_site(tmp_path, hf_rows, newest, timezone=zone) as server:
        html = httpx.get(server.url + "/").text
    assert h1_of(html) == f"{newest:%A}, {short(newest)}"
    notice = f"The newest papers here are from {short(newest)} ({age} days ago)."
    assert (notice in html) == (age > STALE_AFTER_DAYS)
    assert ("stale-notice" in html) == (age > STALE_AFTER_DAYS)


# Edges: pages past the end, bad sort or page


def test_a_page_past_the_end_is_a_404_that_names_the_last_page(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    monday = date.fromisocalendar(2025, 40, 1)
    total = sum(n for d, n in per_day(hf_rows).items() if monday <= d <= monday + timedelta(6))
    size = 50
    last = -(-total // size)
    assert last > 1, "the week needs more than one page for this test"
    response = client.get("/papers/week/2025-W40", params={"page": 99})
    assert response.status_code == 404
    assert f"There is no page 99 here: Sep 29 – Oct 5, 2025 has {last} pages of papers." in (
        response.text
    )
    assert f'href="?sort=upvotes&amp;page={last}">Go to page {last}</a>' in response.text
    assert "Page 99 of" not in response.text and "No papers were featured" not in response.text
    assert f'<p class="count">{total} papers</p>' in response.text
    # The last page itself is there, and the one after it is not.
    assert client.get("/papers/week/2025-W40", params={"page": last}).status_code == 200
    assert client.get("/papers/week/2025-W40", params={"page": last + 1}).status_code == 404


def test_an_empty_period_has_page_one_only(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    first = min(per_day(hf_rows))
    empty = first - timedelta(days=30)
    response = client.get(f"/papers/date/{empty}", params={"page": 1})
    assert response.status_code == 200
    assert '<p class="count">0 papers</p>' in response.text
    assert "No papers were featured on this day." in response.text
    past = client.get(f"/papers/date/{empty}", params={"page": 2})
    assert past.status_code == 404 and "has 1 page of papers" in past.text


def test_trending_past_its_last_page_is_a_404(client: httpx.Client) -> None:
    response = client.get("/papers/trending", params={"page": 99})
    assert response.status_code == 404 and "There is no page 99 here: this list has" in (
        response.text
    )
    assert client.get("/papers/trending", params={"page": 1}).status_code == 200


@pytest.mark.parametrize("path", ["/", "/papers/date/2025-10-01", "/papers/week/2025-W40"])
def test_a_bad_sort_is_a_400_with_a_sentence(client: httpx.Client, path: str) -> None:
    response = client.get(path, params={"sort": "bogus"})
    assert response.status_code == 400
    assert "sort must be one of top/upvotes, trending, newest (not &#39;bogus&#39;)." in (
        response.text
    )
    assert "<html" in response.text and "Input should be" not in response.text


@pytest.mark.parametrize(
    "path", ["/", "/papers/month/2025-10", "/papers/week/2025-W40", "/papers/trending"]
)
@pytest.mark.parametrize("page", ["0", "abc", "-1", "1.5", "10001", "99999999999999999999", ""])
def test_a_bad_page_is_a_400_with_a_sentence(client: httpx.Client, path: str, page: str) -> None:
    response = client.get(path, params={"page": page})
    assert response.status_code == 400, (path, page)
    assert "page must be a whole number from 1 to 10,000" in response.text
    assert "Traceback" not in response.text


def test_top_is_the_same_as_upvotes(client: httpx.Client) -> None:
    top = client.get("/papers/week/2025-W40", params={"sort": "top"})
    upvotes = client.get("/papers/week/2025-W40", params={"sort": "upvotes"})
    assert top.status_code == 200
    order = re.compile(r'<article class="card" data-arxiv-id="([^"]+)"')
    assert order.findall(top.text) == order.findall(upvotes.text) != []
    assert re.search(r'<a href="\?sort=upvotes" aria-current="page">Top</a>', top.text)


# The API


def test_api_calendar_gives_the_days_and_counts(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    days = per_day(hf_rows)
    month = months_with_papers(hf_rows)[-2]
    period = month_period(month)
    answer = client.get("/api/calendar", params={"month": f"{month:%Y-%m}"})
    assert answer.status_code == 200
    want = [
        {"date": d.isoformat(), "count": n}
        for d, n in sorted(days.items())
        if period.start <= d <= period.end
    ]
    assert answer.json() == want
    today = datetime.now(UTC).date()
    latest = max(d for d in days if d <= today)
    latest_month = client.get("/api/calendar").json()
    assert latest_month[-1]["date"] == latest.isoformat()
    assert client.get("/api/calendar", params={"month": "1991-02"}).json() == []


@pytest.mark.parametrize("month", ["2025-13", "9999-12", "x"])
def test_api_calendar_refuses_a_bad_month(client: httpx.Client, month: str) -> None:
    answer = client.get("/api/calendar", params={"month": month})
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("month: ")
