"""In Chromium: from a card to its author's page, its category's page and its submitter's page,
and the member's own page with "My upvotes" (private until they say otherwise)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from dailypapers.members.accounts import create_member

from .conftest import LiveServer, make_settings, prepare_database
from .test_accounts import PASSWORD

pytestmark = pytest.mark.browser

SUBMITTER = "akhaliq"


def card_ids(page: Page) -> list[str]:
    return page.locator("article.card").evaluate_all(
        "cards => cards.map(card => card.dataset.arxivId)"
    )


@pytest.fixture
def site(tmp_path: Path, hf_rows: list[dict[str, Any]]) -> Iterator[tuple[str, Any, list]]:
    """The latest featured day of the data, imported as submitted by Hugging Face's akhaliq."""
    from dailypapers.papers.importing import load_file

    settings = make_settings(tmp_path)
    engine, factory = prepare_database(settings)
    featured = [row for row in hf_rows if row.get("featured_date")]
    latest = max(row["featured_date"] for row in featured)
    rows = [dict(row, submitted_by=SUBMITTER) for row in featured if row["featured_date"] == latest]
    source = tmp_path / "day.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    load_file(factory, source, settings.zone)
    with LiveServer(settings) as server:
        yield server.url, factory, rows
    engine.dispose()


def test_cards_lead_to_authors_categories_and_submitters(
    page: Page, site: tuple[str, Any, list], artifacts_dir: Path
) -> None:
    url, _, rows = site
    by_id = {row["arxiv_id"]: row for row in rows}
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url + "/")
    card = page.locator("article.card").first
    first_id = card.get_attribute("data-arxiv-id")
    assert first_id in by_id
    row = by_id[first_id]

    author = card.locator(".card-authors a").first
    name = author.inner_text()
    assert name == row["authors"][0]
    author.click()
    expect(page.locator("h1")).to_have_text(name)
    expected = [r["arxiv_id"] for r in rows if name in (r["authors"] or [])]
    assert sorted(card_ids(page)) == sorted(expected)
    page.screenshot(path=artifacts_dir / "connect-author.png", full_page=True)

    page.go_back()
    category = page.locator("article.card").first.locator(".primary-category a")
    if category.count() == 0:  # a card without its category: the paper's page names them all
        page.locator("article.card").first.locator(".card-title a").click()
        category = page.locator(f"a.category[href='/papers/category/{row['categories'][0]}']")
    assert category.inner_text() == row["categories"][0]
    category.click()
    expect(page).to_have_url(f"{url}/papers/category/{row['categories'][0]}")
    listed = [r["arxiv_id"] for r in rows if row["categories"][0] in (r["categories"] or [])]
    assert sorted(card_ids(page)) == sorted(listed)
    page.screenshot(path=artifacts_dir / "connect-category.png", full_page=True)

    page.goto(url + "/")
    page.locator("article.card").first.locator(".submitter a").click()
    expect(page).to_have_url(f"{url}/members/{SUBMITTER}")
    expect(page.locator("h1")).to_have_text(f"Papers submitted by {SUBMITTER} on Hugging Face")
    assert sorted(card_ids(page)) == sorted(by_id)
    page.screenshot(path=artifacts_dir / "connect-submitter.png")


def test_my_upvotes_are_mine_until_made_public(
    page: Page, site: tuple[str, Any, list], artifacts_dir: Path
) -> None:
    url, factory, rows = site
    with factory() as session, session.begin():
        create_member(session, "ada", "ada@example.org", PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url + "/login")
    page.fill("#login", "ada")
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.goto(url + "/")
    first = page.locator("article.card").first
    voted_id = first.get_attribute("data-arxiv-id")
    first.locator(".vote-button").click()
    expect(first.locator(".vote-button")).to_have_attribute("aria-pressed", "true")

    page.goto(url + "/members/ada")
    expect(page.locator("#upvotes")).to_have_text("My upvotes 1")
    expect(page.get_by_text("Only you can see this list.")).to_be_visible()
    assert card_ids(page) == [voted_id]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=artifacts_dir / "connect-my-upvotes-phone.png", full_page=True)

    page.get_by_role("link", name="Make your upvotes public").click()
    page.get_by_label("Show my upvotes on my public page").check()
    page.locator("form[action='/settings/privacy'] button").click()
    expect(page.get_by_label("Show my upvotes on my public page")).to_be_checked()
    visitor = page.context.browser.new_page()  # type: ignore[union-attr]
    visitor.goto(url + "/members/ada")
    expect(visitor.locator("#upvotes")).to_have_text("Upvotes 1")
    assert card_ids(visitor) == [voted_id]
    visitor.close()
