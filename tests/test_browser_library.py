"""Collections in a real browser: save papers from the cards without a page reload, open the
collection, export it as BibTeX (parsed back), and import a Zotero-style BibTeX file through
the upload form, seeing the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bibtexparser
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dailypapers.members.accounts import create_member
from dailypapers.papers.models import Paper

from .conftest import Community
from .test_accounts import PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
SCROLL_WIDTH = "document.documentElement.scrollWidth"
WIDEST = """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right >
    document.documentElement.clientWidth + 1).slice(-5).map(e => e.outerHTML.slice(0, 100))"""


def violations_of(page: Page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA findings on the page as it is now."""
    result = Axe().run(page, options=WCAG)
    found = result.response["violations"]
    return [f"{v['id']}: {v['help']} ({v['nodes'][0]['html'][:120]})" for v in found]


def log_in(page: Page, site: Community, name: str) -> None:
    with site.factory() as session:
        create_member(session, name, f"{name}@example.org", PASSWORD)
        session.commit()
    page.goto(site.url + "/login")
    page.get_by_label("Email or user name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator('.account-nav a[href="/collections"]')).to_have_count(1)


def test_save_from_cards_open_export_and_import(
    page: Page, community: Community, artifacts_dir: Path
) -> None:
    site = community
    errors: list[Any] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, site, "rosa")
    page.goto(site.url + "/")
    cards = page.locator("article.card")
    first, second = cards.nth(0), cards.nth(1)
    first_id = first.get_attribute("data-arxiv-id")
    second_id = second.get_attribute("data-arxiv-id")
    assert first_id and second_id
    page.evaluate("window.__notReloaded = true")

    # No collection yet: "Save" offers the reading list, made on the first click.
    first.locator(".collect summary").click()
    reading = first.get_by_role("button", name="Reading list")
    expect(reading).to_have_attribute("aria-pressed", "false")
    page.screenshot(path=artifacts_dir / "library-save-menu.png")
    assert violations_of(page) == []
    reading.click()
    expect(reading).to_have_attribute("aria-pressed", "true")
    expect(first.locator(".collect-label")).to_have_text("Saved")
    assert page.evaluate("window.__notReloaded") is True
    # Another card of the same page saves to the list just made, and out again.
    third = cards.nth(2)
    third.locator(".collect summary").click()
    also = third.get_by_role("button", name="Reading list")
    also.click()
    expect(also).to_have_attribute("aria-pressed", "true")
    also.click()
    expect(also).to_have_attribute("aria-pressed", "false")
    expect(third.locator(".collect-label")).to_have_text("Save")
    expect(first.locator(".collect-label")).to_have_text("Saved")
    assert page.evaluate("window.__notReloaded") is True

    # A second collection, made on /collections; both offered on the next card.
    page.goto(site.url + "/collections")
    page.get_by_label("Name").fill("Robots")
    page.get_by_role("button", name="Make collection").click()
    expect(page.get_by_role("heading", name="Robots")).to_be_visible()
    page.goto(site.url + "/")
    page.evaluate("window.__notReloaded = true")
    second = page.locator(f'article.card[data-arxiv-id="{second_id}"]')
    second.locator(".collect summary").click()
    for name in ("Robots", "Reading list"):
        button = second.get_by_role("button", name=name)
        button.click()
        expect(button).to_have_attribute("aria-pressed", "true")
    robots = second.get_by_role("button", name="Robots")
    robots.click()  # and out again
    expect(robots).to_have_attribute("aria-pressed", "false")
    expect(second.locator(".collect-label")).to_have_text("Saved")  # still in the reading list
    assert page.evaluate("window.__notReloaded") is True
    assert errors == []

    # The paper's own page has the same menu, and knows where the paper is.
    page.goto(f"{site.url}/papers/{first_id}")
    control = page.locator(".paper details.collect")
    expect(control.locator(".collect-label")).to_have_text("Saved")
    control.locator("summary").click()
    expect(control.get_by_role("button", name="Reading list")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(control.get_by_role("button", name="Robots")).to_have_attribute("aria-pressed", "false")
    page.screenshot(path=artifacts_dir / "library-paper-page.png")

    # The reading list: both papers, the latest saved first.
    page.goto(site.url + "/collections")
    page.screenshot(path=artifacts_dir / "library-collections.png", full_page=True)
    page.get_by_role("link", name="Reading list").click()
    expect(page.get_by_role("heading", name="Reading list")).to_be_visible()
    shown = page.locator("article.card")
    expect(shown).to_have_count(2)
    assert [shown.nth(i).get_attribute("data-arxiv-id") for i in range(2)] == [second_id, first_id]
    page.screenshot(path=artifacts_dir / "library-collection.png", full_page=True)
    page.locator("details.collection-settings summary").click()
    assert violations_of(page) == []

    with page.expect_download() as download:
        page.get_by_role("link", name="BibTeX").click()
    library = bibtexparser.parse_string(Path(download.value.path()).read_text())
    assert {entry.fields_dict["eprint"].value for entry in library.entries} == {first_id, second_id}
    with site.factory() as session:
        titles = {
            arxiv_id: title
            for arxiv_id, title in session.execute(select(Paper.arxiv_id, Paper.title))
        }
    for entry in library.entries:
        assert entry.fields_dict["title"].value == " ".join(
            titles[entry.fields_dict["eprint"].value].split()
        )

    # Import a Zotero-style file into a new collection.
    known = [arxiv_id for arxiv_id in site.arxiv_ids if arxiv_id not in (first_id, second_id)]
    bib = (
        f"@misc{{one, title = {{{{A}} Title}}, url = {{http://arxiv.org/abs/{known[0]}}}}}\n"
        f"@misc{{two, title = {{{titles[known[1]].upper()}}}}}\n"
        "@book{three, title = {A Book This Site Does Not Have}, year = {1987}}\n"
    )
    page.goto(site.url + "/collections/import")
    assert violations_of(page) == []
    page.get_by_label("File").set_input_files(
        {"name": "zotero.bib", "mimeType": "application/x-bibtex", "buffer": bib.encode()}
    )
    page.get_by_label("Into").select_option("new")
    page.get_by_label("Name of the new collection").fill("From Zotero")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Import report")).to_be_visible()
    expect(page.locator("ul.import-matched li")).to_have_count(2)
    expect(page.locator("ul.import-unmatched li")).to_have_count(1)
    expect(page.locator("ul.import-unmatched")).to_contain_text("A Book This Site Does Not Have")
    expect(page.locator("ul.import-matched")).to_contain_text("arXiv id in url")
    expect(page.locator("ul.import-matched")).to_contain_text("same title")
    page.screenshot(path=artifacts_dir / "library-import-report.png", full_page=True)
    assert violations_of(page) == []
    page.get_by_role("link", name="From Zotero").click()
    expect(page.locator("article.card")).to_have_count(2)


def test_the_save_menu_fits_a_phone(page: Page, community: Community, artifacts_dir: Path) -> None:
    page.set_viewport_size(PHONE)
    log_in(page, community, "tomas")
    page.goto(community.url + "/")
    for index in range(3):
        card = page.locator("article.card").nth(index)
        card.locator(".collect summary").click()
        expect(card.get_by_role("button", name="Reading list")).to_be_visible()
        assert page.evaluate(SCROLL_WIDTH) <= PHONE["width"], page.evaluate(WIDEST)
    page.screenshot(path=artifacts_dir / "library-save-menu-phone.png")
    page.keyboard.press("Escape")
    expect(page.locator("details.collect[open]")).to_have_count(0)
