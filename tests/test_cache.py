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

        # A request with a cookie is never served from (or stored in) the shared cache.
        private = http.get("/api/daily_papers", headers={"Cookie": "session=x"})
        assert "etag" not in private.headers
    engine.dispose()
