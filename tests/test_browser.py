"""Real browser tests: Debian's Chromium, driven by Playwright, against the live test server.

Every expectation is derived from the real rows of the shared HF Daily Papers file (`hf_rows`),
which is exactly what the `live_server` site was loaded from.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from dailypapers.settings import Settings

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# What the latex filter rewrites; a title free of these reads the same in the page as in the file.
LATEX_MARKS = ("$", "\\", "--", "~", "``", "''")


def collapse(text: str) -> str:
    return " ".join(text.split())


def is_plain(title: str) -> bool:
    return not any(mark in title for mark in LATEX_MARKS)


@dataclass(frozen=True)
class Expected:
    """What the site should show, computed from the shared file alone."""

    by_day: dict[date, list[dict[str, Any]]]  # each day's rows, in the site's "Top" order
    by_id: dict[str, dict[str, Any]]
    days: list[date]  # featured days, ascending
    latest: date  # the day the home page shows
    page_size: int
    trending_window_days: int

    def order(self, day: date) -> list[str]:
        return [row["arxiv_id"] for row in self.by_day[day]][: self.page_size]

    def previous_day(self, day: date) -> date:
        return max(d for d in self.days if d < day)

    def next_day(self, day: date) -> date:
        return min(d for d in self.days if d > day)

    def count_between(self, start: date, end: date) -> int:
        return sum(len(self.by_day[d]) for d in self.days if start <= d <= end)


def upvotes(row: dict[str, Any]) -> int:
    return row["upvotes"] or 0


@pytest.fixture(scope="module")
def expected(hf_rows: list[dict[str, Any]], site_settings: Settings) -> Expected:
    by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for row in hf_rows:
        if row["featured_date"]:
            by_day[date.fromisoformat(row["featured_date"][:10])].append(row)
    for rows in by_day.values():
        rows.sort(key=lambda row: (-upvotes(row), row["arxiv_id"]))
    days = sorted(by_day)
    today = datetime.now(UTC).date()  # the test site's time zone is UTC
    latest = max((d for d in days if d <= today), default=days[-1])
    return Expected(
        by_day=dict(by_day),
        by_id={row["arxiv_id"]: row for row in hf_rows},
        days=days,
        latest=latest,
        page_size=site_settings.page_size,
        trending_window_days=site_settings.trending_window_days,
    )


def card_ids(page: Page) -> list[str]:
    return page.locator("article.card").evaluate_all(
        "cards => cards.map(card => card.dataset.arxivId)"
    )


def shown_count(page: Page) -> int:
    text = page.locator("p.count").inner_text()
    match = re.fullmatch(r"(\d+) papers?", text.strip())
    assert match, f"unexpected count text {text!r}"
    return int(match[1])


def day_url(base: str, day: date) -> str:
    return f"{base}/papers/date/{day.isoformat()}"


def test_home_shows_latest_day(page: Page, live_server, expected: Expected, artifacts_dir: Path):
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + "/")
    want = expected.order(expected.latest)
    assert want, "the latest featured day has papers"

    expect(page.locator("article.card")).to_have_count(len(want))
    assert card_ids(page) == want
    assert shown_count(page) == len(expected.by_day[expected.latest])
    expect(page.locator("h1")).to_contain_text(expected.latest.strftime("%b %-d, %Y"))
    expect(page.locator('nav[aria-label="View"] a[aria-current="page"]')).to_have_text("Day")

    # The top paper's title (or the best-ranked one without LaTeX) is shown as written.
    index, row = next(
        (i, r)
        for i, r in enumerate(expected.by_day[expected.latest][: expected.page_size])
        if is_plain(r["title"])
    )
    card = page.locator("article.card").nth(index)
    expect(card.locator(".card-title a")).to_have_text(collapse(row["title"]))
    expect(card.locator(".vote-count")).to_have_text(str(upvotes(row)))
    page.screenshot(path=artifacts_dir / "home-desktop.png", full_page=True)


def test_day_navigation_previous_and_next(page: Page, live_server, expected: Expected):
    latest = expected.latest
    previous = expected.previous_day(latest)
    page.goto(live_server.url + "/")

    page.locator("a[rel=prev]").click()
    expect(page).to_have_url(day_url(live_server.url, previous))
    expect(page.locator("article.card")).to_have_count(len(expected.order(previous)))
    assert card_ids(page) == expected.order(previous)
    expect(page.locator("h1")).to_contain_text(previous.strftime("%b %-d, %Y"))

    page.locator("a[rel=next]").click()
    expect(page).to_have_url(day_url(live_server.url, latest))
    assert card_ids(page) == expected.order(latest)


def test_previous_skips_days_without_papers(page: Page, live_server, expected: Expected):
    # The most recent featured day whose calendar predecessor had no papers (e.g. a Monday).
    after_gap = next(
        d
        for d in reversed(expected.days)
        if d - timedelta(days=1) not in expected.by_day
        and any(earlier < d for earlier in expected.days)
    )
    before_gap = expected.previous_day(after_gap)
    empty_day = after_gap - timedelta(days=1)
    assert before_gap < empty_day

    page.goto(day_url(live_server.url, after_gap))
    page.locator("a[rel=prev]").click()
    expect(page).to_have_url(day_url(live_server.url, before_gap))
    assert card_ids(page) == expected.order(before_gap)
    page.locator("a[rel=next]").click()
    expect(page).to_have_url(day_url(live_server.url, after_gap))
    assert card_ids(page) == expected.order(after_gap)

    # A day without papers says so, and points at the featured days around it.
    page.goto(day_url(live_server.url, empty_day))
    expect(page.locator("article.card")).to_have_count(0)
    assert shown_count(page) == 0
    expect(page.locator(".empty")).to_contain_text("No papers were featured on this day")
    expect(page.locator("a[rel=prev]")).to_have_attribute(
        "href", f"/papers/date/{before_gap.isoformat()}"
    )
    expect(page.locator("a[rel=next]")).to_have_attribute(
        "href", f"/papers/date/{after_gap.isoformat()}"
    )


def test_week_and_month_tabs(page: Page, live_server, expected: Expected, artifacts_dir: Path):
    page.set_viewport_size(DESKTOP)
    latest = expected.latest
    page.goto(live_server.url + "/")
    tabs = page.locator('nav[aria-label="View"]')

    tabs.get_by_role("link", name="Week", exact=True).click()
    expect(page).to_have_url(re.compile(r"/papers/week/\d{4}-W\d{2}$"))
    year, week, _ = latest.isocalendar()
    assert page.url.endswith(f"/papers/week/{year}-W{week:02d}")
    monday = latest - timedelta(days=latest.weekday())
    in_week = expected.count_between(monday, monday + timedelta(days=6))
    assert shown_count(page) == in_week
    expect(page.locator("article.card")).to_have_count(min(in_week, expected.page_size))
    expect(tabs.locator('a[aria-current="page"]')).to_have_text("Week")
    # The week's cards are its most upvoted papers, best first.
    shown = [upvotes(expected.by_id[arxiv_id]) for arxiv_id in card_ids(page)]
    assert shown == sorted(shown, reverse=True)
    page.screenshot(path=artifacts_dir / "week-desktop.png", full_page=True)

    tabs.get_by_role("link", name="Month", exact=True).click()
    expect(page).to_have_url(re.compile(r"/papers/month/\d{4}-\d{2}$"))
    assert page.url.endswith(f"/papers/month/{latest:%Y-%m}")
    first = latest.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    in_month = expected.count_between(first, last)
    assert shown_count(page) == in_month
    expect(page.locator("article.card")).to_have_count(min(in_month, expected.page_size))

    # And back to the day view: the latest day of that month with papers.
    tabs.get_by_role("link", name="Day", exact=True).click()
    expect(page).to_have_url(day_url(live_server.url, latest))


def test_card_opens_paper_page(page: Page, live_server, expected: Expected, artifacts_dir: Path):
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + "/")
    first = page.locator("article.card").first
    arxiv_id = first.get_attribute("data-arxiv-id")
    assert arxiv_id == expected.order(expected.latest)[0]
    row = expected.by_id[arxiv_id]

    first.locator(".card-title a").click()
    expect(page).to_have_url(f"{live_server.url}/papers/{arxiv_id}")
    title = page.locator("h1.paper-title")
    expect(title).to_be_visible()
    if is_plain(row["title"]):
        expect(title).to_have_text(collapse(row["title"]))
    authors = [collapse(a) for a in row["authors"] or [] if collapse(a)]
    assert authors, "the top paper of the day has authors"
    expect(page.locator("p.paper-authors")).to_be_visible()
    expect(page.locator("p.paper-authors")).to_have_text(", ".join(authors))
    expect(page.locator("dd.paper-upvotes")).to_have_text(f"▲ {upvotes(row)}")
    crumbs = page.locator("p.crumbs a")
    expect(crumbs).to_have_attribute("href", f"/papers/date/{expected.latest.isoformat()}")
    page.screenshot(path=artifacts_dir / "paper-desktop.png", full_page=True)


def test_trending_page(page: Page, live_server, expected: Expected):
    page.goto(live_server.url + "/")
    page.locator('nav[aria-label="Main"]').get_by_role("link", name="Trending").click()
    expect(page).to_have_url(f"{live_server.url}/papers/trending")
    expect(page.locator("h1")).to_have_text("Trending")
    window_start = expected.latest - timedelta(days=expected.trending_window_days - 1)
    in_window = expected.count_between(window_start, expected.latest)
    assert in_window > 0
    assert shown_count(page) == in_window
    expect(page.locator("article.card")).to_have_count(min(in_window, expected.page_size))
    expect(page.locator('nav[aria-label="Main"] a[aria-current="page"]')).to_have_text("Trending")
    # Every trending card was featured inside the window.
    for arxiv_id in card_ids(page):
        featured = date.fromisoformat(expected.by_id[arxiv_id]["featured_date"][:10])
        assert window_start <= featured <= expected.latest


def test_header_weekly_and_monthly_lead_to_latest(page: Page, live_server, expected: Expected):
    latest = expected.latest
    year, week, _ = latest.isocalendar()
    page.goto(live_server.url + "/")
    header = page.locator('nav[aria-label="Main"]')
    expect(header.locator('a[aria-current="page"]')).to_have_text("Daily")

    header.get_by_role("link", name="Weekly").click()
    expect(page).to_have_url(f"{live_server.url}/papers/week/{year}-W{week:02d}")
    expect(header.locator('a[aria-current="page"]')).to_have_text("Weekly")
    header.get_by_role("link", name="Monthly").click()
    expect(page).to_have_url(f"{live_server.url}/papers/month/{latest:%Y-%m}")
    expect(header.locator('a[aria-current="page"]')).to_have_text("Monthly")


@pytest.mark.parametrize("where", ["home", "week", "paper"])
def test_phone_width_has_no_horizontal_scroll(
    page: Page, live_server, expected: Expected, artifacts_dir: Path, where: str
):
    page.set_viewport_size(PHONE)
    latest = expected.latest
    year, week, _ = latest.isocalendar()
    # The paper with the longest title of the day: the likeliest to overflow.
    longest = max(expected.by_day[latest], key=lambda row: len(row["title"]))["arxiv_id"]
    path = {"home": "/", "week": f"/papers/week/{year}-W{week:02d}", "paper": f"/papers/{longest}"}
    page.goto(live_server.url + path[where])

    if where == "paper":
        expect(page.locator("h1.paper-title")).to_be_visible()
    else:
        cards = page.locator("article.card")
        expect(cards.first).to_be_visible()
        box = cards.first.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"] + 1, f"{where} scrolls sideways: {scroll_width}px"
    page.screenshot(path=artifacts_dir / f"{where}-phone.png", full_page=True)
    if where == "home":  # what a phone shows first, at a readable size
        page.screenshot(path=artifacts_dir / "home-phone-top.png")


def test_long_abstract_expands(page: Page, live_server, expected: Expected):
    page.goto(live_server.url + "/")
    details = page.locator("article.card details.abstract").first
    expect(details).to_have_count(1)
    arxiv_id = details.evaluate("d => d.closest('article.card').dataset.arxivId")
    assert len(expected.by_id[arxiv_id]["abstract"] or "") > 280

    rest = details.locator(".abstract-rest")
    assert details.evaluate("d => d.open") is False
    expect(rest).to_be_hidden()
    details.locator("summary").click()
    assert details.evaluate("d => d.open") is True
    expect(rest).to_be_visible()
    expect(rest).not_to_have_text("")
    # Clicking the summary again folds it back.
    details.locator("summary").click()
    expect(rest).to_be_hidden()


def test_bad_date_is_a_helpful_404(page: Page, live_server, artifacts_dir: Path):
    response = page.goto(live_server.url + "/papers/date/2025-13-45")
    assert response is not None and response.status == 404
    message = page.locator(".error-page")
    expect(message.locator(".status")).to_have_text("404")
    expect(message.locator("h1")).to_have_text("Page not found")
    expect(message).to_contain_text("2025-13-45")
    expect(message).to_contain_text("YYYY-MM-DD")
    page.screenshot(path=artifacts_dir / "404-desktop.png", full_page=True)
    message.get_by_role("link", name="the latest daily papers").click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.locator("article.card").first).to_be_visible()


@pytest.mark.parametrize("day", ["2025-02-30", "2025-1-5", "yesterday"])
def test_other_bad_dates_404_name_the_format(page: Page, live_server, day: str):
    response = page.goto(f"{live_server.url}/papers/date/{day}")
    assert response is not None and response.status == 404
    expect(page.locator(".error-page")).to_contain_text("YYYY-MM-DD")
    expect(page.get_by_role("link", name="the latest daily papers")).to_have_attribute("href", "/")


CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', event => {
  window.__cspViolations.push(event.violatedDirective + ' ' + event.blockedURI);
});
"""


@pytest.mark.parametrize("where", ["home", "paper", "trending"])
def test_no_console_errors_or_csp_violations(
    page: Page, live_server, expected: Expected, where: str
):
    errors: list[str] = []
    failed: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on(
        "response",
        lambda response: (
            failed.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    page.add_init_script(CSP_LISTENER)
    top = expected.order(expected.latest)[0]
    path = {"home": "/", "paper": f"/papers/{top}", "trending": "/papers/trending"}[where]
    response = page.goto(live_server.url + path)
    assert response is not None and response.status == 200
    page.wait_for_load_state("load")
    assert "content-security-policy" in response.headers

    # The stylesheet and the icon really loaded (a CSP or path slip would leave them out).
    assert page.evaluate("document.styleSheets.length") >= 1
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.site-header')).position")
        == "sticky"
    )
    assert page.evaluate("document.querySelector('img.brand-mark').naturalWidth") > 0

    violations = page.evaluate("window.__cspViolations")
    assert violations == [], violations
    assert errors == [], errors
    assert failed == [], failed


def test_search_from_the_header_and_open_a_result(
    page: Page, live_server, expected: Expected, artifacts_dir: Path
):
    page.goto(live_server.url + "/")
    box = page.locator("header input[name=q]")
    box.fill("transformers learn multiplication reverse engineering")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/papers\?q=transformers"))
    first = page.locator("article.card").first
    expect(first).to_have_attribute("data-arxiv-id", "2510.00184")
    expect(first.locator("mark").first).to_be_visible()
    page.screenshot(path=artifacts_dir / "search-desktop.png", full_page=True)
    first.locator("h2 a").click()
    expect(page).to_have_url(live_server.url + "/papers/2510.00184")
    expect(page.locator("h1.paper-title")).to_contain_text(
        collapse(expected.by_id["2510.00184"]["title"])
    )


def test_search_filters_narrow_the_results(page: Page, live_server, expected: Expected):
    page.goto(live_server.url + "/papers?q=diffusion+image+generation")
    everything = len(card_ids(page))
    page.locator("form.search-filters input[name=code]").check()
    page.locator("form.search-filters button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"code=true"))
    coded = card_ids(page)
    assert 0 < len(coded) <= everything
    assert all(expected.by_id[arxiv_id]["github_url"] for arxiv_id in coded)
