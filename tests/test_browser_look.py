"""How the site looks and handles, in a real browser: density of the lists, the one-row header on
phones, no sideways scrolling anywhere, dark mode, the skip link, keyboard shortcuts, and axe's
WCAG 2.1 A/AA checks on every page type in both themes.

Pages and expectations come from the shared HF Daily Papers file (`hf_rows`) the site holds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from dailypapers.members.accounts import create_member
from dailypapers.settings import Settings

from .conftest import Community
from .test_accounts import PASSWORD, log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
# A theme changes colours only: in the dark theme, the rules about colour are the ones to run.
COLOURS = {"runOnly": {"type": "rule", "values": ["color-contrast", "link-in-text-block"]}}
SCROLL_WIDTH = "document.documentElement.scrollWidth"
# The deepest elements reaching past the right edge: what to fix when a page scrolls sideways.
WIDEST = """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right >
    document.documentElement.clientWidth + 1 && ![...e.children].some(c =>
    c.getBoundingClientRect().right > document.documentElement.clientWidth + 1))
    .slice(0, 5).map(e => e.outerHTML.slice(0, 100))"""
ROWS = "items => items.map(item => item.getBoundingClientRect()).map(box => [box.top, box.bottom])"
CARD_TOPS = "cards => cards.map(card => card.getBoundingClientRect().top)"


@dataclass(frozen=True)
class Site:
    """Paths of every kind of page, chosen from the shared file."""

    latest: date
    top_ids: list[str]  # the latest day's papers, best first
    longest_title_id: str  # the likeliest paper page to overflow
    author: str
    category: str
    submitter: str | None

    def pages(self) -> dict[str, str]:
        year, week, _ = self.latest.isocalendar()
        pages = {
            "home": "/",
            "day": f"/papers/date/{self.latest.isoformat()}",
            "week": f"/papers/week/{year}-W{week:02d}",
            "month": f"/papers/month/{self.latest:%Y-%m}",
            "trending": "/papers/trending",
            "paper": f"/papers/{self.longest_title_id}",
            "search": "/papers?q=" + quote("language models reasoning"),
            "login": "/login",
            "signup": "/signup",
            "subscribe": "/subscribe",
            "help": "/help",
            "about": "/about/trending",
            "missing paper": "/papers/2501.99999",
            "404": "/papers/date/2025-13-45",
            "calendar": "/calendar",
            "author": "/authors/" + quote(self.author, safe=""),
            "category": "/papers/category/" + self.category,
        }
        if self.submitter:
            pages["member"] = "/members/" + quote(self.submitter, safe="")
        return pages


@pytest.fixture(scope="module")
def site(hf_rows: list[dict[str, Any]], site_settings: Settings) -> Site:
    featured = [row for row in hf_rows if row["featured_date"]]
    days = {date.fromisoformat(row["featured_date"][:10]) for row in featured}
    today = datetime.now(UTC).date()
    latest = max((d for d in days if d <= today), default=max(days))
    on_latest = [row for row in featured if row["featured_date"][:10] == latest.isoformat()]
    on_latest.sort(key=lambda row: (-(row["upvotes"] or 0), row["arxiv_id"]))
    authors = Counter(name for row in featured for name in row["authors"] or [])
    categories = Counter(row["categories"][0] for row in featured if row.get("categories"))
    submitters = Counter(row["submitted_by"] for row in featured if row.get("submitted_by"))
    return Site(
        latest=latest,
        top_ids=[row["arxiv_id"] for row in on_latest][: site_settings.page_size],
        longest_title_id=max(on_latest, key=lambda row: len(row["title"]))["arxiv_id"],
        author=authors.most_common(1)[0][0],
        category=categories.most_common(1)[0][0],
        submitter=submitters.most_common(1)[0][0] if submitters else None,
    )


@pytest.fixture(scope="module")
def pages(live_server, site: Site) -> dict[str, str]:
    """Every page type a reader can open without an account."""
    kept = {}
    for name, path in site.pages().items():
        status = httpx.get(live_server.url + path, follow_redirects=True, timeout=30).status_code
        assert status == (404 if name in ("404", "missing paper") else 200), (name, status)
        kept[name] = path
    return kept


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE)
    yield context.new_page()
    context.close()


def background_luminance(page: Page) -> float:
    """Relative luminance (0 black .. 1 white) of the body's background colour."""
    rgb = page.evaluate(
        "getComputedStyle(document.body).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number)"
    )
    r, g, b = (c / 255 for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_lists_are_dense(page: Page, live_server, site: Site, artifacts_dir: Path) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + "/")
    cards = page.locator("article.card")
    assert cards.count() >= 6
    tops = cards.evaluate_all(CARD_TOPS)[:6]
    assert all(top < DESKTOP["height"] for top in tops), f"card tops at 1280x900: {tops}"
    # The abstract is one click away, not shown.
    first = cards.first
    expect(first.locator("details.abstract .abstract-rest")).to_be_hidden()
    first.locator("details.abstract summary").click()
    expect(first.locator("details.abstract .abstract-rest")).to_be_visible()
    first.locator("details.abstract summary").click()
    page.screenshot(path=artifacts_dir / "look-home-desktop.png")

    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/")
    tops = cards.evaluate_all(CARD_TOPS)[:2]
    assert len(tops) == 2 and all(top < PHONE["height"] for top in tops), tops
    page.screenshot(path=artifacts_dir / "look-home-phone.png")


def test_card_links(page: Page, live_server, site: Site, hf_rows: list[dict[str, Any]]) -> None:
    page.goto(live_server.url + "/")
    card = page.locator("article.card").first
    arxiv_id = card.get_attribute("data-arxiv-id")
    assert arxiv_id == site.top_ids[0]
    row = next(row for row in hf_rows if row["arxiv_id"] == arxiv_id)
    first_author = row["authors"][0]
    expect(card.locator(".card-authors a").first).to_have_attribute(
        "href", "/authors/" + quote(first_author, safe="")
    )
    expect(card.locator(".comments a")).to_have_attribute("href", f"/papers/{arxiv_id}#comments")
    expect(card.locator(".date a")).to_have_count(0)  # the day's own list: no featured date
    page.goto(live_server.url + "/papers/trending")
    expect(page.locator("article.card").first.locator(".date a")).to_have_attribute(
        "href", f"/papers/date/{site.latest.isoformat()}"
    )


def test_page_titles_name_the_site_once(page: Page, live_server, site: Site) -> None:
    page.goto(live_server.url + "/")
    assert page.title().count("Daily Papers") == 1, page.title()
    page.goto(live_server.url + "/help")
    assert page.title() == "Help · Daily Papers"


def test_one_subscribe_form_a_page_and_room_for_long_searches(page: Page, live_server) -> None:
    page.goto(live_server.url + "/")
    expect(page.locator('form[action="/subscribe"]')).to_have_count(1)
    expect(page.locator("#site-search")).to_have_attribute("maxlength", "2000")
    expect(page.locator("footer")).to_contain_text("Help and shortcuts")
    page.goto(live_server.url + "/subscribe")
    expect(page.locator('form[action="/subscribe"]')).to_have_count(1)  # the page's own
    expect(page.locator("footer form")).to_have_count(0)


def test_phone_header_is_one_row_with_search_and_menu(
    phone: Page, live_server, artifacts_dir: Path
) -> None:
    phone.goto(live_server.url + "/")
    header = phone.locator("header.site-header")
    box = header.bounding_box()
    assert box is not None and box["height"] <= 64, box
    search = phone.locator("#site-search")
    expect(search).to_be_visible()
    nav = phone.locator('nav[aria-label="Main"]')
    expect(nav).to_be_hidden()
    phone.locator(".menu-toggle summary").click()
    expect(nav.get_by_role("link", name="Trending")).to_be_visible()
    phone.screenshot(path=artifacts_dir / "look-phone-menu.png")
    phone.keyboard.press("Escape")  # closes it, as does a click elsewhere
    expect(nav).to_be_hidden()
    phone.locator(".menu-toggle summary").click()
    phone.mouse.click(4, PHONE["height"] - 40)  # the page margin, below the open menu
    expect(nav).to_be_hidden()
    phone.locator(".menu-toggle summary").click()
    nav.get_by_role("link", name="Trending").click()
    expect(phone).to_have_url(live_server.url + "/papers/trending")


def test_no_page_is_wider_than_a_phone(phone: Page, live_server, pages: dict[str, str]) -> None:
    wide = {}
    for name, path in pages.items():
        phone.goto(live_server.url + path)
        width = phone.evaluate(SCROLL_WIDTH)
        if width > PHONE["width"]:
            wide[name] = width
    assert wide == {}, f"pages scrolling sideways at 390 px: {wide}"


def test_phone_feed_tools_fit_one_scrolling_row(phone: Page, live_server, site: Site) -> None:
    phone.goto(live_server.url + site.pages()["week"])
    tools = phone.locator(".feed-tools")
    boxes = tools.locator(":scope > *").evaluate_all(ROWS)
    assert len(boxes) >= 2, boxes
    # One row: every control starts above where every other one ends.
    assert max(top for top, _ in boxes) < min(bottom for _, bottom in boxes), boxes
    assert tools.evaluate("tools => tools.scrollWidth") >= tools.evaluate(
        "tools => tools.clientWidth"
    )


def test_dark_mode_follows_the_system_and_the_toggle_is_remembered(
    browser: Browser, live_server, site: Site, artifacts_dir: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP, color_scheme="dark")
    page = context.new_page()
    page.goto(live_server.url + "/")
    assert background_luminance(page) < 0.1
    page.screenshot(path=artifacts_dir / "look-home-desktop-dark.png")
    toggle = page.locator(".theme-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.click()  # the reader prefers light, whatever the system says
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert background_luminance(page) > 0.8
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert background_luminance(page) > 0.8
    page.locator(".theme-toggle").click()
    page.goto(live_server.url + f"/papers/{site.top_ids[0]}")
    assert background_luminance(page) < 0.1
    page.screenshot(path=artifacts_dir / "look-paper-desktop-dark.png")
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/")
    page.screenshot(path=artifacts_dir / "look-home-phone-dark.png")
    context.close()


def test_skip_link_is_the_first_tab_stop(page: Page, live_server) -> None:
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.className, document.activeElement.href]")
    assert focused[0] == "skip-link" and focused[1].endswith("#main")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_anchors_land_below_the_sticky_header(page: Page, live_server, site: Site) -> None:
    page.set_viewport_size({"width": 1280, "height": 500})
    page.goto(f"{live_server.url}/papers/{site.longest_title_id}#comments")
    header = page.locator("header.site-header").bounding_box()
    comments = page.locator("#comments").bounding_box()
    assert header is not None and comments is not None
    assert page.evaluate("window.scrollY") > 0, "the page scrolled to the discussion"
    assert comments["y"] >= header["y"] + header["height"], (comments, header)


def test_keyboard_shortcuts(page: Page, live_server, site: Site) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + "/")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "site-search"
    page.keyboard.type("jk")  # typing in the box is typing, not shortcuts
    expect(page.locator("#site-search")).to_have_value("jk")
    expect(page.locator("article.card.current")).to_have_count(0)
    page.locator("#site-search").blur()
    page.keyboard.press("Control+j")  # the browser's, not ours
    expect(page.locator("article.card.current")).to_have_count(0)
    page.keyboard.press("j")
    page.keyboard.press("j")
    current = page.locator("article.card.current")
    expect(current).to_have_attribute("data-arxiv-id", site.top_ids[1])
    page.keyboard.press("k")
    expect(current).to_have_attribute("data-arxiv-id", site.top_ids[0])
    page.keyboard.press("j")
    page.keyboard.press("o")
    expect(page).to_have_url(f"{live_server.url}/papers/{site.top_ids[1]}")
    page.keyboard.press("?")
    expect(page).to_have_url(f"{live_server.url}/help")
    expect(page.locator("table.shortcuts kbd")).to_have_count(6)


def violations_of(page: Page, theme: str = "light") -> list[str]:
    result = Axe().run(page, options=WCAG if theme == "light" else COLOURS)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}x, e.g. {v['nodes'][0]['html'][:120]})"
        for v in result.response["violations"]
    ]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_nothing(
    browser: Browser, live_server, pages: dict[str, str], theme: str
) -> None:
    context: BrowserContext = browser.new_context(viewport=DESKTOP, color_scheme=theme)  # type: ignore[arg-type]
    page = context.new_page()
    found = {}
    for name, path in pages.items():
        page.goto(live_server.url + path)
        if name == "home":  # an unfolded abstract is checked too
            page.locator("article.card details.abstract summary").first.click()
        if problems := violations_of(page, theme):
            found[name] = problems
    context.close()
    assert found == {}, found


@pytest.fixture
def curator(community: Community) -> Iterator[Community]:
    with community.factory() as session, session.begin():
        create_member(session, "curie", "curie@example.org", PASSWORD, "curator")
    yield community


def log_in_browser(context: BrowserContext, community: Community, login: str) -> None:
    with httpx.Client(base_url=community.url) as http:
        log_in(http, login)
        cookie = http.cookies.get("dp_session")
    assert cookie
    context.add_cookies([{"name": "dp_session", "value": cookie, "url": community.url}])


def test_signed_in_pages_upvote_shortcut_admin_on_a_phone_and_axe(
    browser: Browser, curator: Community, artifacts_dir: Path
) -> None:
    for theme in ("light", "dark"):
        context = browser.new_context(viewport=DESKTOP, color_scheme=theme)  # type: ignore[arg-type]
        log_in_browser(context, curator, "curie")
        page = context.new_page()
        page.goto(curator.url + "/")
        header = page.locator("header.site-header").bounding_box()
        assert header is not None and header["height"] <= 64, "a signed-in header is one row"
        if theme == "light":  # u upvotes the current card, without leaving the page
            page.keyboard.press("j")
            current = page.locator("article.card.current")
            card = page.locator(
                f'article.card[data-arxiv-id="{current.get_attribute("data-arxiv-id")}"]'
            )
            before = int(card.locator(".vote-count").inner_text())
            page.keyboard.press("u")
            expect(card.locator(".vote-button")).to_have_attribute("aria-pressed", "true")
            expect(card.locator(".vote-count")).to_have_text(str(before + 1))
            page.keyboard.press("u")
            expect(card.locator(".vote-button")).to_have_attribute("aria-pressed", "false")
        found = {}
        signed_in_pages = ("/", "/admin", "/settings", "/submit", "/members/curie")
        for path in (*signed_in_pages, f"/papers/{curator.arxiv_ids[0]}"):
            page.goto(curator.url + path)
            if problems := violations_of(page, theme):
                found[path] = problems
        assert found == {}, f"{theme}: {found}"
        page.set_viewport_size(PHONE)
        for path in signed_in_pages:
            page.goto(curator.url + path)
            wide = page.evaluate(WIDEST)
            assert page.evaluate(SCROLL_WIDTH) <= PHONE["width"], (path, wide)
        header = page.locator("header.site-header").bounding_box()
        assert header is not None and header["height"] <= 64
        page.goto(curator.url + "/admin")
        page.screenshot(path=artifacts_dir / f"look-admin-phone-{theme}.png", full_page=True)
        context.close()
