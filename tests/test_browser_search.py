"""Search in a real browser (issue 16): an arXiv URL typed in the header's box opens the paper,
and a search that finds nothing says so, with suggestions and filters to relax."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}


def test_an_arxiv_url_in_the_search_box_opens_the_paper(
    page: Page, live_server: Any, hf_rows: list[dict[str, Any]], artifacts_dir: Path
) -> None:
    row = next(r for r in hf_rows if r["arxiv_id"] == "2510.00184")
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + "/papers")
    box = page.locator("form.search-filters input[name=q]")
    box.fill("https://arxiv.org/pdf/2510.00184v1")
    box.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/papers/2510.00184")
    expect(page.locator("h1").first).to_contain_text(row["title"].split(":")[0])


def test_a_search_that_finds_nothing_says_so_and_offers_a_way_on(
    page: Page, live_server: Any, artifacts_dir: Path
) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + "/papers?q=xqzzyv+plorbington")
    expect(page.locator(".no-match-title")).to_have_text("No papers match “xqzzyv plorbington”.")
    expect(page.locator("[data-arxiv-id]")).to_have_count(0)
    page.screenshot(path=artifacts_dir / "search-nothing-desktop.png", full_page=True)

    # a misspelt word and filters that leave nothing: a suggestion, and filters to drop
    page.goto(live_server.url + "/papers?q=multiplcation&category=astro-ph.GA&code=true")
    expect(page.locator(".no-match-title")).to_contain_text("with these filters")
    expect(page.locator(".suggestions a")).to_have_text("multiplication")
    chips = page.locator(".relax-filters a")
    expect(chips).to_have_count(2)
    page.screenshot(path=artifacts_dir / "search-relax-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=artifacts_dir / "search-relax-phone.png", full_page=True)
    page.set_viewport_size(DESKTOP)
    chips.filter(has_text="astro-ph.GA").click()
    expect(page).to_have_url(f"{live_server.url}/papers?q=multiplcation&code=true")
    page.locator(".suggestions a").click()
    expect(page).to_have_url(f"{live_server.url}/papers?q=multiplication&code=true")
    expect(page.locator("[data-arxiv-id]").first).to_be_visible()


def test_results_can_be_sorted_and_paged(page: Page, live_server: Any, artifacts_dir: Path) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + "/papers?q=quantization")
    first = page.locator("[data-arxiv-id]").first.get_attribute("data-arxiv-id")
    page.locator(".search-sort a", has_text="Newest").click()
    expect(page).to_have_url(f"{live_server.url}/papers?q=quantization&sort=newest")
    expect(page.locator(".search-sort strong")).to_have_text("Newest")
    page.locator(".pager a[rel=next]").click()
    expect(page).to_have_url(f"{live_server.url}/papers?q=quantization&sort=newest&page=2")
    expect(page.locator(".count")).to_contain_text("31–60 of")
    page.screenshot(path=artifacts_dir / "search-page2-desktop.png", full_page=False)
    assert first
