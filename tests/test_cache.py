"""Cached anonymous reads are never stale: any write that changes the data invalidates them."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from dailypapers.papers.importing import load_file

from .conftest import LiveServer, make_settings, prepare_database


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_a_load_into_a_running_site_shows_at_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    engine, factory = prepare_database(settings)
    first = {"arxiv_id": "2501.00001", "title": "First title", "featured_date": "2025-01-03",
             "upvotes": 1}  # fmt: skip
    load_file(factory, write(tmp_path / "a.jsonl", [first]), settings.zone)

    with LiveServer(settings) as server, httpx.Client(base_url=server.url) as http:
        before = http.get("/api/daily_papers")
        etag = before.headers["etag"]
        assert [i["title"] for i in before.json()] == ["First title"]
        assert http.get("/api/daily_papers", headers={"If-None-Match": etag}).status_code == 304
        assert "First title" in http.get("/").text

        renamed = dict(first, title="Second title", upvotes=5)
        second = {"arxiv_id": "2501.00002", "title": "Another", "featured_date": "2025-01-03"}
        load_file(factory, write(tmp_path / "b.jsonl", [renamed, second]), settings.zone)

        after = http.get("/api/daily_papers", headers={"If-None-Match": etag})
        assert after.status_code == 200 and after.headers["etag"] != etag
        assert [i["title"] for i in after.json()] == ["Second title", "Another"]
        home = http.get("/").text
        assert "Second title" in home and "First title" not in home

        # The daily list's API is the same for everyone: signed in or not, one cached answer.
        shared = http.get("/api/daily_papers", headers={"Cookie": "session=x"})
        assert shared.headers["etag"] == after.headers["etag"] and shared.json() == after.json()
        # A page with a cookie is never served from (or stored in) the shared cache.
        private = http.get("/", headers={"Cookie": "session=x"})
        assert "etag" not in private.headers and "Second title" in private.text
    engine.dispose()


def make_counting_app(revision: list[int]):  # type: ignore[no-untyped-def]
    """A tiny app behind the cache that counts how often it really runs."""
    from datetime import date

    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from dailypapers.web.cache import ResponseCacheMiddleware

    calls = {"n": 0}

    def page(request):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        status = 404 if request.url.path.endswith("missing") else 200
        response = PlainTextResponse(f"body {calls['n']}", status_code=status)
        if "cookie" in request.query_params:
            response.set_cookie("session", "x")
        return response

    app = Starlette(routes=[Route("/papers/{rest:path}", page, methods=["GET", "POST"])])
    app.add_middleware(
        ResponseCacheMiddleware, revision=lambda: revision[0], today=lambda: date(2026, 1, 1)
    )
    return app, calls


def test_cache_rules() -> None:
    from starlette.testclient import TestClient

    revision = [1]
    app, calls = make_counting_app(revision)
    with TestClient(app) as http:
        assert http.get("/papers/a").text == "body 1"
        assert http.get("/papers/a").text == "body 1"  # served from memory
        assert http.get("/papers/a?x=1").text == "body 2"  # another URL
        revision[0] = 2
        assert http.get("/papers/a").text == "body 3"  # the data changed
        assert http.post("/papers/a").text == "body 4"  # never cached
        assert http.get("/papers/missing").status_code == 404
        assert http.get("/papers/missing").text == "body 6"  # errors are not kept
        http.get("/papers/c?cookie=1")
        http.cookies.clear()  # so the next request is anonymous again
        assert http.get("/papers/c?cookie=1").text == "body 8"  # responses setting cookies neither
        assert calls["n"] == 8
