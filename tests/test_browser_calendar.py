"""The calendar in a real browser, with and without JavaScript: from the home page's "Calendar"
dropdown to the month's calendar and on to a day; the dropdown on a day page; axe's WCAG 2.1
A/AA checks on the calendar in both themes.

Every expectation is derived from the shared HF Daily Papers file (`hf_rows`)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from dailypapers.papers.periods import month_period
from dailypapers.settings import Settings

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture(scope="module")
def days(hf_rows: list[dict[str, Any]]) -> Counter[date]:
    """Papers per featured day, as the data has them."""
    return Counter(
        date.fromisoformat(row["featured_date"][:10]) for row in hf_rows if row["featured_date"]
    )


def short(day: date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def papers(count: int) -> str:
    return f"{count} paper{'' if count == 1 else 's'}"


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_from_home_to_the_calendar_and_a_day(
    browser: Browser,
    live_server,
    site_settings: Settings,
    days: Counter[date],
    artifacts_dir: Path,
    javascript: bool,
) -> None:
    today = datetime.now(UTC).date()  # the test site's time zone is UTC
    latest = max(d for d in days if d <= today)
    month = month_period(latest)
    in_month = sorted(d for d in days if month.start <= d <= month.end)
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(live_server.url + "/")

    menu = page.locator("details.calendar-menu")
    grid = menu.locator("table.calendar")
    expect(grid).to_be_hidden()
    menu.locator("summary").click()
    expect(grid).to_be_visible()
    expect(grid.locator("caption")).to_contain_text(month.name)
    expect(grid.locator("td.has-papers a")).to_have_count(len(in_month))
    current = grid.locator('a[aria-current="date"]')
    expect(current).to_have_attribute("href", f"/papers/date/{latest.isoformat()}")
    expect(current).to_have_attribute("aria-label", f"{short(latest)}: {papers(days[latest])}")
    page.screenshot(path=artifacts_dir / f"calendar-dropdown-{'js' if javascript else 'nojs'}.png")

    menu.get_by_role("link", name="Open the calendar").click()
    expect(page).to_have_url(f"{live_server.url}/calendar/{month.label}")
    expect(page.locator("h1")).to_have_text(month.name)
    page.screenshot(path=artifacts_dir / "calendar-page.png", full_page=True)

    # The month's first day with papers: a link named by its date and count.
    day = in_month[0]
    page.get_by_role("link", name=f"{short(day)}: {papers(days[day])}").click()
    expect(page).to_have_url(f"{live_server.url}/papers/date/{day.isoformat()}")
    expect(page.locator("h1")).to_have_text(f"{day:%A}, {short(day)}")
    expect(page.locator("p.count")).to_have_text(papers(days[day]))
    expect(page.locator("article.card")).to_have_count(min(days[day], site_settings.page_size))

    # The calendar's previous month, then a day of it from the day page's own dropdown.
    page.goto(f"{live_server.url}/calendar/{month.label}")
    earlier = max(d for d in days if d < month.start)
    page.locator('nav[aria-label="Months"] a[rel="prev"]').click()
    expect(page).to_have_url(f"{live_server.url}/calendar/{month_period(earlier).label}")
    page.get_by_role("link", name=f"{short(earlier)}: {papers(days[earlier])}").click()
    expect(page).to_have_url(f"{live_server.url}/papers/date/{earlier.isoformat()}")
    page.locator("details.calendar-menu summary").click()
    before = max(d for d in days if d < earlier)
    dropdown = page.locator("details.calendar-menu table.calendar")
    if before >= month_period(earlier).start:  # a day of the same month is in the dropdown
        dropdown.get_by_role("link", name=f"{short(before)}: {papers(days[before])}").click()
        expect(page).to_have_url(f"{live_server.url}/papers/date/{before.isoformat()}")
        expect(page.locator("p.count")).to_have_text(papers(days[before]))
    context.close()


def test_the_calendar_fits_a_phone(
    browser: Browser, live_server, days: Counter[date], artifacts_dir: Path
) -> None:
    busiest = Counter({d.replace(day=1): 0 for d in days})
    for day, count in days.items():
        busiest[day.replace(day=1)] += count
    month = month_period(busiest.most_common(1)[0][0])
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/calendar/{month.label}")
    expect(page.locator("table.calendar td.has-papers a")).to_have_count(
        sum(1 for d in days if month.start <= d <= month.end)
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=artifacts_dir / "calendar-phone.png", full_page=True)
    page.goto(live_server.url + "/")
    page.locator("details.calendar-menu summary").click()
    expect(page.locator("details.calendar-menu table.calendar")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=artifacts_dir / "calendar-dropdown-phone.png")
    context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_nothing_on_the_calendar(
    browser: Browser, live_server, days: Counter[date], theme: str
) -> None:
    latest = max(days)
    context = browser.new_context(viewport=DESKTOP, color_scheme=theme)  # type: ignore[arg-type]
    page: Page = context.new_page()
    found = {}
    for path in (f"/calendar/{latest:%Y-%m}", f"/papers/date/{latest.isoformat()}"):
        page.goto(live_server.url + path)
        if path.startswith("/papers"):
            page.locator("details.calendar-menu summary").click()
        result = Axe().run(page, options=WCAG)
        problems = [
            f"{v['id']}: {v['help']} (e.g. {v['nodes'][0]['html'][:120]})"
            for v in result.response["violations"]
        ]
        if problems:
            found[path] = problems
    context.close()
    assert found == {}, found
