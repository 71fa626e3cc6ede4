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
    page.get_by_label("Email").fill("marie@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    [message] = site.mail.wait_for("marie@example.org")
    page.goto(site.mail.link(message, f"{site.url}/confirm/"))
    expect(page.get_by_text("Your address is confirmed")).to_be_visible()
    expect(page.get_by_label("Email or user name")).to_have_value("marie")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="marie")).to_be_visible()

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
