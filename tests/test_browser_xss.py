"""Stored XSS: hostile titles, abstracts, author names and comments never run in Chromium."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from dailypapers.discussion.service import add_comment
from dailypapers.members.accounts import create_member
from dailypapers.papers.importing import load_file
from dailypapers.papers.models import Paper

from .conftest import Community, eventually
from .test_accounts import PASSWORD, log_in
from .xss_payloads import PAYLOADS

pytestmark = pytest.mark.browser
DAY = "2026-02-02"


def hostile_papers(community: Community, folder: Path) -> list[str]:
    rows = [
        {"arxiv_id": f"2602.{i + 1:05d}", "title": f"Hostile {i} {payload}",
         "abstract": f"Abstract with {payload} and $x<y$ math", "authors": [payload, "Ada"],
         "featured_date": DAY, "github_url": "https://github.com/a/b", "upvotes": i}
        for i, payload in enumerate(PAYLOADS)
    ]  # fmt: skip
    source = folder / "hostile.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = load_file(community.factory, source, community.settings.zone)
    assert result.counts.new == len(PAYLOADS) and result.counts.rejected == 0
    with community.factory() as session, session.begin():
        curator = create_member(session, "curie", "curie@example.org", PASSWORD, "curator")
        first = session.scalar(select(Paper.id).where(Paper.arxiv_id == rows[0]["arxiv_id"]))
        for payload in PAYLOADS:
            add_comment(session, curator, first, f"Comment {payload}")
    return [row["arxiv_id"] for row in rows]


def assert_nothing_ran(page: Page, dialogs: list[str]) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert dialogs == []
    # Only our own script, and no element carries an event handler or a javascript: link.
    assert page.evaluate(
        "[...document.scripts].map(s => s.src.split('?')[0].split('/').pop())"
    ) == ["theme.js", "app.js"]
    handlers = page.evaluate(
        """[...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a =>
            a.name.startsWith('on') || /^\\s*javascript:/i.test(a.value))).length"""
    )
    assert handlers == 0
    assert page.locator("iframe, object, embed, base, meta[http-equiv]").count() == 0


def test_stored_xss_never_executes(
    page: Page, community: Community, tmp_path: Path, artifacts_dir: Path
) -> None:
    ids = hostile_papers(community, tmp_path)
    assert len(PAYLOADS) >= 30
    with httpx.Client(base_url=community.url) as http:
        log_in(http, "curie")
        cookie = http.cookies.get("dp_session")
    page.context.add_cookies([{"name": "dp_session", "value": cookie, "url": community.url}])
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    def search_ready() -> Any:
        hits = httpx.get(f"{community.url}/api/papers/search", params={"q": "hostile"}).json()
        return len(hits) >= 20

    assert eventually(search_ready)
    for path in (f"/papers/date/{DAY}", f"/papers/{ids[0]}", f"/papers/{ids[8]}",
                 f"/papers/{ids[29]}", "/papers?q=hostile+script+img", "/admin",
                 "/papers?q=%3Cscript%3Ewindow.__xss%3D99%3C%2Fscript%3E"):  # fmt: skip
        page.goto(community.url + path)
        page.wait_for_load_state("load")
        assert_nothing_ran(page, dialogs)
    # The payloads are shown as text, not dropped.
    page.goto(f"{community.url}/papers/date/{DAY}")
    assert "<img src=x onerror=window.__xss=2>" in page.locator("body").inner_text()
    page.goto(f"{community.url}/papers/{ids[0]}")
    body = page.locator("#comments").inner_text()
    assert "Comment" in body and "window.__xss" in body
    page.screenshot(path=artifacts_dir / "xss-paper.png", full_page=False)
