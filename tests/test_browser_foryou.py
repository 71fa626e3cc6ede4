"""For you in a real browser: sign in, save papers of an earlier day to the reading list from
their cards, open /for-you and read a reason naming that collection, click "Not interested":
the card goes without a reload, "Undo" brings it back, and a dismissed card stays gone after
a reload. Checked with axe-core (WCAG 2.1 AA) and on a phone's width."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from dailypapers.foryou.memo import window_of
from dailypapers.papers.models import DailyEntry

from .test_browser_library import PHONE, SCROLL_WIDTH, WIDEST, log_in, violations_of
from .test_foryou import ForYouSite, for_you_site

pytestmark = pytest.mark.browser
SAVED = 3


@pytest.fixture
def site(tmp_path: Path, hf_rows: list[dict[str, Any]]) -> Iterator[ForYouSite]:
    with for_you_site(tmp_path, hf_rows) as found:
        yield found


def test_for_you_reasons_and_not_interested(
    page: Page, site: ForYouSite, artifacts_dir: Path
) -> None:
    errors: list[Any] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    url = site.community.url
    log_in(page, site.community, "grace")  # type: ignore[arg-type]
    with site.factory() as session:
        start, _ = window_of(session, 7)
        day = session.scalar(
            select(func.max(DailyEntry.featured_date)).where(DailyEntry.featured_date < start)
        )
    assert day is not None  # a day before the window: what the member read earlier
    page.goto(f"{url}/papers/date/{day.isoformat()}")
    cards = page.locator("article.card")
    saved_titles = []
    for index in range(SAVED):
        card = cards.nth(index)
        saved_titles.append(card.locator(".card-title").inner_text())
        card.locator(".collect summary").click()
        reading = card.get_by_role("button", name="Reading list")
        reading.click()
        expect(reading).to_have_attribute("aria-pressed", "true")
        card.locator(".collect summary").click()  # close the menu

    page.get_by_role("link", name="For you").first.click()
    expect(page).to_have_url(f"{url}/for-you")
    picks = page.locator(".pick")
    expect(picks.first).to_be_visible()
    reasons = page.locator(".pick .reason").all_inner_texts()
    naming = [r for r in reasons if r.endswith("in your collection Reading list")]
    assert naming, reasons
    assert any(any(title.startswith(r[6:26]) for title in saved_titles) for r in naming)
    page.screenshot(path=artifacts_dir / "for-you.png", full_page=False)
    assert violations_of(page) == []

    page.evaluate("window.__notReloaded = true")
    first = picks.first
    first_id = first.get_attribute("data-arxiv-id")
    second_id = picks.nth(1).get_attribute("data-arxiv-id")
    first.get_by_role("button", name="Not interested").click()
    expect(page.locator(f'.pick[data-arxiv-id="{first_id}"]')).to_be_hidden()
    note = page.locator(".dismissed-note")
    expect(note).to_contain_text("in For you again")
    page.screenshot(path=artifacts_dir / "for-you-dismissed.png")
    assert violations_of(page) == []
    note.get_by_role("button", name="Undo").click()  # back again
    expect(page.locator(f'.pick[data-arxiv-id="{first_id}"]')).to_be_visible()
    expect(note).to_have_count(0)
    second = page.locator(f'.pick[data-arxiv-id="{second_id}"]')
    second.get_by_role("button", name="Not interested").click()
    expect(second).to_be_hidden()
    assert page.evaluate("window.__notReloaded") is True

    page.reload()
    expect(page.locator(".pick").first).to_be_visible()
    expect(page.locator(f'.pick[data-arxiv-id="{second_id}"]')).to_have_count(0)
    assert errors == []

    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    page.reload()
    assert page.evaluate(SCROLL_WIDTH) <= PHONE["width"], page.evaluate(WIDEST)
    page.screenshot(path=artifacts_dir / "for-you-phone.png")
