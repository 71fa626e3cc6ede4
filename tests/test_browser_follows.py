"""Following in a real browser: follow an author from the author's page without a reload (the
button turns, the page stays), see the author on /following and unfollow there, follow a
category from a paper's page; the pages pass axe's checks and fit a phone."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dailypapers.follows.service import followed_keys
from dailypapers.members.models import Member
from dailypapers.papers.models import Paper

from .conftest import Community
from .test_browser_library import PHONE, SCROLL_WIDTH, WIDEST, log_in, violations_of

pytestmark = pytest.mark.browser


def busiest_author(site: Community) -> tuple[str, Paper]:
    """The author with the most papers on the site, and one of their papers."""
    with site.factory() as session:
        papers = list(session.scalars(select(Paper).order_by(Paper.arxiv_id)))
        session.expunge_all()
    counts = Counter(name for paper in papers for name in paper.authors or ())
    author = min(counts, key=lambda name: (-counts[name], name))
    return author, next(paper for paper in papers if author in (paper.authors or ()))


def follows_of(site: Community, name: str) -> set[tuple[str, str]]:
    with site.factory() as session:
        member_id = session.scalar(select(Member.id).where(Member.username == name))
        assert member_id is not None
        return followed_keys(session, member_id)


def test_follow_an_author_without_a_reload_then_unfollow_on_following(
    page: Page, community: Community, artifacts_dir: Path
) -> None:
    site = community
    errors: list[Any] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    author, paper = busiest_author(site)
    log_in(page, site, "nora")

    page.goto(f"{site.url}/authors/{quote(author, safe='')}")
    page.evaluate("window.__notReloaded = true")
    button = page.locator("section.connect-head .follow-button")
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(button).to_have_text(f"Follow {author}")  # "Follow", and for screen readers, who
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button.locator(".follow-text")).to_have_text("Following")
    assert page.evaluate("window.__notReloaded") is True
    assert follows_of(site, "nora") == {("author", author)}
    page.screenshot(path=artifacts_dir / "follows-author.png")
    assert violations_of(page) == []

    # The account menu (behind the member's name) leads to /following, which lists the author.
    following = page.locator('.account-nav a[href="/following"]')
    expect(following).to_be_hidden()  # the menu is closed until opened
    page.locator(".account-menu > summary").click()
    following.click()
    expect(page).to_have_url(f"{site.url}/following")
    entry = page.locator(".follow-list li", has_text=author)
    expect(entry.get_by_role("link", name=author)).to_have_attribute(
        "href", f"/authors/{quote(author, safe='')}"
    )
    page.screenshot(path=artifacts_dir / "follows-following.png", full_page=True)
    assert violations_of(page) == []
    page.evaluate("window.__notReloaded = true")
    unfollow = entry.locator(".follow-button")
    expect(unfollow.locator(".follow-text")).to_have_text("Unfollow")
    unfollow.click()
    expect(unfollow).to_have_attribute("aria-pressed", "false")
    expect(unfollow.locator(".follow-text")).to_have_text("Follow")
    assert page.evaluate("window.__notReloaded") is True
    assert follows_of(site, "nora") == set()

    # From a paper's page: its first category, in the "Follow its authors" list.
    category = paper.categories[0]
    page.goto(f"{site.url}/papers/{paper.arxiv_id}")
    page.locator(".follow-authors summary").click()
    row = page.locator(
        ".follow-authors li", has=page.get_by_role("link", name=category, exact=True)
    )
    row.locator(".follow-button").click()
    expect(row.locator(".follow-button")).to_have_attribute("aria-pressed", "true")
    assert follows_of(site, "nora") == {("category", category)}
    page.screenshot(path=artifacts_dir / "follows-paper.png")
    assert violations_of(page) == []
    page.goto(f"{site.url}/papers/category/{category}")
    expect(page.locator("section.connect-head .follow-button")).to_have_attribute(
        "aria-pressed", "true"
    )

    page.set_viewport_size(PHONE)
    for path in ("/following", f"/authors/{quote(author, safe='')}", f"/papers/{paper.arxiv_id}"):
        page.goto(site.url + path)
        assert page.evaluate(SCROLL_WIDTH) <= PHONE["width"], (path, page.evaluate(WIDEST))
    page.screenshot(path=artifacts_dir / "follows-following-phone.png", full_page=True)
    assert errors == []


def test_following_without_javascript(browser: Any, community: Community) -> None:
    """With scripts off, the button is a form: it posts, and the page comes back followed."""
    site = community
    author, _ = busiest_author(site)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, site, "otto")
    page.goto(f"{site.url}/authors/{quote(author, safe='')}")
    page.locator("section.connect-head .follow-button").click()
    expect(page).to_have_url(f"{site.url}/authors/{quote(author, safe='')}")
    expect(page.locator("section.connect-head .follow-button")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert follows_of(site, "otto") == {("author", author)}
    context.close()
