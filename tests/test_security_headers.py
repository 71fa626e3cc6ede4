"""Headers on every answer: the security headers even on a 500, HSTS when the site is https,
and no documentation page whose script the Content-Security-Policy would block."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from .conftest import LiveServer, make_settings, prepare_database

HSTS = "max-age=31536000; includeSubDomains"


def add_failing_routes(app: FastAPI) -> None:
    """Test-only routes with a bug: the exception no handler expects."""

    def fail() -> None:
        raise RuntimeError("a bug in a route")

    app.add_api_route("/api/test-only-failure", fail)
    app.add_api_route("/test-only-failure", fail)


@pytest.fixture
def https_site(tmp_path: Path) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path, base_url="https://papers.example.org")
    engine, _ = prepare_database(settings)
    server = LiveServer(settings)
    add_failing_routes(server.app)
    with server:
        yield server
    engine.dispose()


def assert_security_headers(headers: httpx.Headers) -> None:
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_an_unexpected_error_gets_500_with_the_security_headers(https_site: LiveServer) -> None:
    with httpx.Client(base_url=https_site.url, timeout=30) as client:
        for path in ("/api/test-only-failure", "/test-only-failure"):
            response = client.get(path)
            assert response.status_code == 500
            assert_security_headers(response.headers)
            assert response.headers["strict-transport-security"] == HSTS
            # the server closes the connection after an unexpected error, and says so
            assert response.headers["connection"] == "close"
        assert response.headers["content-type"].startswith("text/html")
        assert "Something went wrong" in response.text and "RuntimeError" not in response.text
        api = client.get("/api/test-only-failure")
        assert api.json() == {"error": "The error has been logged. Please try again shortly."}
        # and the site goes on answering
        assert client.get("/healthz").status_code == 200


def test_hsts_when_the_base_url_is_https(https_site: LiveServer, client: httpx.Client) -> None:
    for path in ("/", "/api/daily_papers?limit=1", "/no-such-page", "/healthz"):
        response = httpx.get(https_site.url + path, timeout=30)
        assert response.headers["strict-transport-security"] == HSTS, path
        assert_security_headers(response.headers)
        # the shared site's base URL is http: no HSTS (a browser would keep it for a year)
        assert "strict-transport-security" not in client.get(path).headers, path


def test_no_documentation_page_needs_a_blocked_script(client: httpx.Client) -> None:
    # ReDoc is not served: it needs inline styles and loads a logo from its CDN
    assert client.get("/redoc").status_code == 404
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    assert "https:" not in docs.headers["content-security-policy"]
    assert "/redoc" not in client.get("/").text
