"""The community in a real browser: sign up, confirm from the received email, log in, upvote
without a page reload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import Community
from .test_accounts import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def site(community: Community) -> Iterator[Community]:
    yield community


def test_sign_up_confirm_log_in_and_upvote(
    page: Page, site: Community, artifacts_dir: Path
) -> None:
    errors: list[Any] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.goto(site.url + "/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("User name").fill("marie")
    page.get_by_label("Email", exact=True).fill("marie@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    [message] = site.mail.wait_for("marie@example.org")
    link = site.mail.link(message, f"{site.url}/confirm/")
    page.goto(link)  # the first click confirms and logs in
    expect(page.get_by_text("Your address is confirmed")).to_be_visible()
    expect(page.locator(".account-menu > summary")).to_contain_text("marie")  # logged in
    page.goto(site.url + "/")

    card = page.locator("article.card").first
    count = card.locator(".vote-count")
    before = int(count.inner_text())
    page.evaluate("window.__notReloaded = true")
    card.get_by_role("button", name="upvotes").click()
    expect(count).to_have_text(str(before + 1))
    expect(card.locator(".vote-button")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.__notReloaded") is True  # no page load happened
    page.screenshot(path=artifacts_dir / "voted-desktop.png")
    card.get_by_role("button", name="upvotes").click()
    expect(count).to_have_text(str(before))
    page.reload()
    expect(page.locator("article.card").first.locator(".vote-count")).to_have_text(str(before))
    assert errors == []


def test_subscribe_from_the_footer_and_confirm_from_the_email(
    page: Page, site: Community, artifacts_dir: Path
) -> None:
    page.goto(site.url + "/")
    page.get_by_label("Get trending papers in your email inbox").fill("rosalind@example.org")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_label("Email", exact=True)).to_have_value("rosalind@example.org")
    page.get_by_label("How often").select_option("weekly")
    page.get_by_label("Topics to follow").fill("protein structure\ncrystallography")
    page.locator("main").get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    [message] = site.mail.wait_for("rosalind@example.org")
    page.goto(site.mail.link(message, f"{site.url}/subscribe/confirm/"))
    expect(page.get_by_role("heading", name="You are subscribed")).to_be_visible()
    expect(page.get_by_text("The weekly digest will come to rosalind@example.org")).to_be_visible()
    page.get_by_role("link", name="Manage your digest").click()
    expect(page.get_by_label("Topics")).to_have_value("protein structure\ncrystallography")
    page.screenshot(path=artifacts_dir / "digest-settings.png")
