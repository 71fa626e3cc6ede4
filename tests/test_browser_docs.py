"""The API's documentation in Chromium with the network cut off: Swagger UI (/docs) loads every
file from this server and runs under the site's strict Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import ConsoleMessage, Page, Route, expect

from .conftest import LiveServer, make_settings, prepare_database

pytestmark = pytest.mark.browser

CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', event => {
  window.__cspViolations.push(event.violatedDirective + ' ' + event.blockedURI);
});
"""


@pytest.fixture(scope="module")
def docs_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """An empty site: the documentation does not depend on the papers."""
    settings = make_settings(tmp_path_factory.mktemp("docs-site"))
    engine, _ = prepare_database(settings)
    with LiveServer(settings) as server:
        yield server
    engine.dispose()


class Offline:
    """A page that reaches this test's server and nothing else; what it tried, and what went
    wrong in it (console errors, uncaught exceptions, CSP violations, failed requests)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.failed: list[str] = []
        page.route("**/*", self._only_here)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("requestfailed", lambda request: self.failed.append(request.url))
        page.add_init_script(CSP_LISTENER)

    def _only_here(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith("data:"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def assert_clean(self) -> None:
        violations = self.page.evaluate("window.__cspViolations")
        assert violations == [], violations
        assert self.outside == [], self.outside
        assert self.errors == [], self.errors
        assert self.failed == [], self.failed


def test_swagger_ui_works_offline(page: Page, docs_site: LiveServer, artifacts_dir: Path) -> None:
    offline = Offline(page)
    response = page.goto(docs_site.url + "/docs")
    assert response is not None and response.status == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy

    daily = page.locator(".opblock-get .opblock-summary-path[data-path='/api/daily_papers']")
    expect(daily).to_be_visible(timeout=15_000)
    expect(page.locator(".opblock-get").first).to_contain_text("GET")
    # Every operation of the document is listed (its paths, as /openapi.json names them).
    paths = page.request.get(docs_site.url + "/openapi.json").json()["paths"]
    shown = set(
        page.locator(".opblock-summary-path").evaluate_all("els => els.map(e => e.dataset.path)")
    )
    assert shown == set(paths)
    # It runs: an operation opens to show its parameters.
    daily.click()
    opened = page.locator(".opblock.is-open")
    expect(opened.locator(".parameters-container")).to_contain_text("limit")
    # ... and calls this server: "Try it out", "Execute", a 200 with the (empty) list.
    opened.get_by_role("button", name="Try it out").click()
    opened.get_by_role("button", name="Execute").click()
    expect(opened.locator(".live-responses-table tr.response .response-col_status")).to_have_text(
        "200", timeout=15_000
    )
    page.screenshot(path=str(artifacts_dir / "docs-swagger.png"))
    offline.assert_clean()
