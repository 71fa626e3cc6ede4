"""Following from a paper card (issue 17, point 1): beside "Save", a signed-in member's card
has a "Follow" menu of the card's shown authors and its primary category. Without JavaScript
each is a form that follows and comes back to the page; in a browser it turns without a
reload, and every card's button for the same author turns with it. Signed-out readers (and the
cards' kept fragments, shared by every reader) get none of it.

Expectations come from the papers the small community site holds."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dailypapers.follows.service import followed_keys
from dailypapers.members.models import Member
from dailypapers.papers.models import DailyEntry, Paper

from .conftest import Community, MailSink, running_community
from .test_browser_library import PHONE, SCROLL_WIDTH, WIDEST, violations_of
from .test_browser_library import log_in as browser_log_in
from .test_library import member_client


@pytest.fixture
def site(
    tmp_path: Path, hf_rows: list[dict[str, Any]], mail_sink: MailSink, arxiv_replay: Any
) -> Iterator[Community]:
    with running_community(tmp_path, hf_rows, mail_sink, arxiv_replay) as community:
        yield community


def papers_by_id(site: Community) -> dict[str, Paper]:
    with site.factory() as session:
        papers = list(session.scalars(select(Paper)))
        session.expunge_all()
    return {paper.arxiv_id: paper for paper in papers}


def shown_authors(paper: Paper) -> list[str]:
    """The authors a card names (all up to four, else the first three), short enough to follow."""
    authors = list(paper.authors or ())
    shown = authors if len(authors) <= 4 else authors[:3]
    return [name for name in shown if len(name) <= 200]


def cards_of(page_html: str) -> dict[str, str]:
    """Each card's markup by its arXiv id, in page order."""
    found = re.findall(
        r'<article class="card" data-arxiv-id="([^"]+)">(.*?)</article>', page_html, flags=re.S
    )
    return dict(found)


def follow_menu(card_html: str) -> str:
    found = re.search(r'<details class="card-follow">.*?</details>', card_html, flags=re.S)
    assert found, "no Follow menu on the card"
    return found.group(0)


def follow_forms(markup: str) -> list[dict[str, str]]:
    """The follow forms in the markup: their hidden fields and their button's aria-pressed."""
    forms = []
    for form in re.findall(r'<form class="follow-form".*?</form>', markup, flags=re.S):
        fields = {
            name: html.unescape(value)
            for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', form)
        }
        pressed = re.search(r'aria-pressed="(true|false)"', form)
        assert pressed
        fields["pressed"] = pressed.group(1)
        forms.append(fields)
    return forms


def form_for(markup: str, kind: str, value: str) -> dict[str, str] | None:
    return next(
        (f for f in follow_forms(markup) if f["kind"] == kind and f["value"] == value), None
    )


def post_form(http: httpx.Client, form: dict[str, str]) -> httpx.Response:
    fields = ("csrf_token", "kind", "value", "action", "next")
    return http.post("/following", data={name: form[name] for name in fields})


def follows_of(site: Community, name: str) -> set[tuple[str, str]]:
    with site.factory() as session:
        member_id = session.scalar(select(Member.id).where(Member.username == name))
        assert member_id is not None
        return followed_keys(session, member_id)


def test_follow_an_author_and_a_category_from_cards_without_javascript(site: Community) -> None:
    papers = papers_by_id(site)
    with member_client(site, "ada") as ada:
        home = ada.get("/").text
        cards = cards_of(home)
        assert cards, "the home page lists no papers"
        for arxiv_id, card in cards.items():
            paper = papers[arxiv_id]
            menu = follow_menu(card)
            expected = [("author", name) for name in shown_authors(paper)]
            if paper.primary_category:
                expected.append(("category", paper.primary_category))
            forms = follow_forms(menu)
            assert [(f["kind"], f["value"]) for f in forms] == expected, arxiv_id
            assert all(f["pressed"] == "false" and f["action"] == "follow" for f in forms)
            assert all(f["next"] == "/" for f in forms)
            for hidden in (paper.authors or [])[len(shown_authors(paper)) :]:
                assert form_for(menu, "author", hidden) is None  # "and N more" are not offered
            # Follow sits beside Save, outside the kept fragments.
            assert card.index('class="collect"') < card.index('class="card-follow"')

        # The first card's first author, followed from the card's form: back to the page.
        first_id, first_card = next(iter(cards.items()))
        author = shown_authors(papers[first_id])[0]
        form = form_for(follow_menu(first_card), "author", author)
        assert form is not None
        followed = post_form(ada, form)
        assert followed.status_code == 303 and followed.headers["location"] == "/"
        assert follows_of(site, "ada") == {("author", author)}

        # Every card that names the author now shows the button pressed; the others do not.
        again = cards_of(ada.get("/").text)
        by_author = [i for i in again if author in shown_authors(papers[i])]
        assert first_id in by_author
        for arxiv_id, card in again.items():
            mine = form_for(follow_menu(card), "author", author)
            label = re.search(r'class="card-follow-label">([^<]+)<', card)
            assert label is not None
            if arxiv_id in by_author:
                assert mine is not None and mine["pressed"] == "true", arxiv_id
                assert mine["action"] == "unfollow" and ">Following<" in card
                assert label.group(1) == "Following"  # the menu says it holds a follow
            else:
                assert mine is None and label.group(1) == "Follow"
            # Only the author is followed: the category buttons stay as they were.
            assert all(
                f["pressed"] == "false"
                for f in follow_forms(follow_menu(card))
                if f["kind"] == "category"
            )

        # A day page: follow the primary category of its first card, back to that day.
        day_path = f"/papers/date/{featured_date(site, papers[first_id].id)}"
        day_cards = cards_of(ada.get(day_path).text)
        assert first_id in day_cards
        category = papers[first_id].primary_category
        assert category
        category_form = form_for(follow_menu(day_cards[first_id]), "category", category)
        assert category_form is not None and category_form["next"] == day_path
        followed = post_form(ada, category_form)
        assert followed.status_code == 303 and followed.headers["location"] == day_path
        day_again = cards_of(ada.get(day_path).text)
        for arxiv_id, card in day_again.items():
            button = form_for(follow_menu(card), "category", category)
            if papers[arxiv_id].primary_category == category:
                assert button is not None and button["pressed"] == "true", arxiv_id
            else:
                assert button is None or button["pressed"] == "false"
        assert follows_of(site, "ada") == {("author", author), ("category", category)}

        # Ada's follows are hers: the cards are kept per site revision, the menu is not.
        with member_client(site, "bob") as bob:
            for card in cards_of(bob.get("/").text).values():
                assert all(f["pressed"] == "false" for f in follow_forms(follow_menu(card)))

    # Signed out (and after members have seen the pages): no Follow menu at all.
    with httpx.Client(base_url=site.url, timeout=60) as reader:
        for path in ("/", day_path):
            page = reader.get(path)
            assert page.status_code == 200 and 'class="card"' in page.text
            assert "card-follow" not in page.text and "follow-form" not in page.text


def featured_date(site: Community, paper_id: int) -> str:
    """The date a paper was featured on (its day page's)."""
    with site.factory() as session:
        featured = session.scalar(
            select(DailyEntry.featured_date).where(DailyEntry.paper_id == paper_id)
        )
    assert featured is not None
    return featured.isoformat()


@pytest.mark.browser
def test_follow_from_a_card_in_a_browser(
    page: Page, community: Community, artifacts_dir: Path
) -> None:
    site = community
    papers = papers_by_id(site)
    errors: list[Any] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_log_in(page, site, "nora")
    page.goto(site.url + "/")
    card = page.locator("article.card").first
    arxiv_id = card.get_attribute("data-arxiv-id")
    assert arxiv_id
    author = shown_authors(papers[arxiv_id])[0]

    page.evaluate("window.__notReloaded = true")
    menu = card.locator("details.card-follow")
    expect(menu.locator(".card-follow-menu")).to_be_hidden()
    menu.locator("summary").click()
    row = menu.locator(".card-follow-menu li").first
    expect(row.locator(".follow-name")).to_have_text(author)
    button = row.locator(".follow-button")
    expect(button).to_have_attribute("aria-pressed", "false")
    # "Name [Follow]" on one row: the name and the button side by side.
    name_box = row.locator(".follow-name").bounding_box()
    button_box = button.bounding_box()
    assert name_box and button_box
    assert button_box["x"] > name_box["x"] + name_box["width"] - 1
    assert (
        abs((button_box["y"] + button_box["height"] / 2) - (name_box["y"] + name_box["height"] / 2))
        < button_box["height"]
    )
    page.screenshot(path=artifacts_dir / "card-follow-menu.png")
    assert violations_of(page) == []

    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button.locator(".follow-text")).to_have_text("Following")
    assert page.evaluate("window.__notReloaded") is True
    expect(menu).to_have_attribute("open", "")  # the menu stays open
    expect(menu.locator(".card-follow-label")).to_have_text("Following")
    assert follows_of(site, "nora") == {("author", author)}
    # Every button of the page for that author turned with it (also in closed menus).
    states = page.evaluate(
        """(name) => [...document.querySelectorAll('form.follow-form')].map((form) => {
            const field = (key) => form.querySelector(`input[name=${key}]`).value;
            if (field('kind') !== 'author' || field('value') !== name) return null;
            return [form.querySelector('button').getAttribute('aria-pressed'), field('action')];
        }).filter(Boolean)""",
        author,
    )
    expected_cards = [i for i in cards_of(page.content()) if author in shown_authors(papers[i])]
    assert len(states) == len(expected_cards) >= 1
    assert all(state == ["true", "unfollow"] for state in states)
    page.screenshot(path=artifacts_dir / "card-follow-followed.png")

    # Escape closes it; a click elsewhere too, and opening Save closes Follow.
    page.keyboard.press("Escape")
    expect(page.locator("details.card-follow[open]")).to_have_count(0)
    menu.locator("summary").click()
    expect(menu).to_have_attribute("open", "")
    card.locator("details.collect > summary").click()
    expect(page.locator("details.card-follow[open]")).to_have_count(0)
    page.keyboard.press("Escape")

    # A phone: the open menu takes the card's width and stays on the screen.
    page.set_viewport_size(PHONE)
    menu.locator("summary").click()
    expect(menu.locator(".card-follow-menu")).to_be_visible()
    assert page.evaluate(SCROLL_WIDTH) <= PHONE["width"], page.evaluate(WIDEST)
    box = menu.locator(".card-follow-menu").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    card.screenshot(path=artifacts_dir / "card-follow-menu-phone-card.png")
    page.screenshot(path=artifacts_dir / "card-follow-menu-phone.png")
    assert violations_of(page) == []

    # /following lists the author.
    page.goto(site.url + "/following")
    expect(page.locator(".follow-list li", has_text=author).first).to_be_visible()

    # A week's cards name their day too (the longest lines): open, every menu stays on screen.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(site.url + "/")
    page.locator(".feed-tools").get_by_role("link", name="Week", exact=True).click()
    expect(page.locator("article.card .date").first).to_be_visible()
    widest = page.evaluate(
        """() => [...document.querySelectorAll('article.card')].reduce((best, card, i, all) =>
            card.querySelector('.card-follow > summary').getBoundingClientRect().right >
            all[best].querySelector('.card-follow > summary').getBoundingClientRect().right
            ? i : best, 0)"""
    )
    widest_card = page.locator("article.card").nth(widest)
    widest_card.locator("details.card-follow > summary").click()
    expect(widest_card.locator(".card-follow-menu")).to_be_visible()
    assert page.evaluate(SCROLL_WIDTH) <= 1280, page.evaluate(WIDEST)
    widest_card.scroll_into_view_if_needed()
    page.screenshot(path=artifacts_dir / "card-follow-menu-week.png")
    assert errors == []
