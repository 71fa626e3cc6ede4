"""Parts of pages kept per site revision (cards, the calendar, the days with papers) are never
shown after the data behind them changed, and are computed once while it stays the same."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

from dailypapers.papers.importing import load_file
from dailypapers.web.fragments import Fragments

from .conftest import LiveServer, make_settings, prepare_database


def fake_request() -> Any:
    return SimpleNamespace(state=SimpleNamespace())


def test_kept_until_the_revision_changes() -> None:
    revision = [1]
    reads = []

    def read() -> int:
        reads.append(revision[0])
        return revision[0]

    fragments = Fragments(read, max_entries=2)
    computed: list[str] = []

    def compute(value: str) -> Any:
        return lambda: computed.append(value) or value

    request = fake_request()
    assert fragments.get(request, "a", compute("a1")) == "a1"
    assert fragments.get(request, "a", compute("a2")) == "a1"  # kept
    assert reads == [1]  # the revision is read once per request
    revision[0] = 2
    assert fragments.get(request, "a", compute("a3")) == "a1"  # the same request: one revision
    later = fake_request()
    assert fragments.get(later, "a", compute("a4")) == "a4"  # a new revision: computed again
    assert reads == [1, 2]
    fragments.get(later, "b", compute("b"))
    fragments.get(later, "c", compute("c"))
    assert len(fragments) == 2  # bounded: the least recently used goes first
    assert fragments.get(later, "a", compute("a5")) == "a5"
    assert computed == ["a1", "a4", "b", "c", "a5"]


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_pages_rendered_afresh_show_changes_at_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    engine, factory = prepare_database(settings)
    first = {"arxiv_id": "2501.00001", "title": "First title", "featured_date": "2025-01-03",
             "upvotes": 1, "authors": ["Ada Lovelace"]}  # fmt: skip
    load_file(factory, write(tmp_path / "a.jsonl", [first]), settings.zone)
    signed_in = {"Cookie": "session=x"}  # never answered from the shared response cache

    with LiveServer(settings) as server, httpx.Client(base_url=server.url) as http:
        week = http.get("/papers/week/2025-W01", headers=signed_in).text
        assert "First title" in week and "Ada Lovelace" in week
        assert re.search(r"Jan 3, 2025: 1 paper\b", week)  # the calendar's day
        assert "/papers/week/2025-W02" not in week  # no later week with papers yet

        renamed = dict(first, title="Second title", authors=["Grace Hopper"])
        later = {"arxiv_id": "2501.00002", "title": "Another", "featured_date": "2025-01-08"}
        same_day = {"arxiv_id": "2501.00003", "title": "Third", "featured_date": "2025-01-03"}
        load_file(factory, write(tmp_path / "b.jsonl", [renamed, later, same_day]), settings.zone)

        week = http.get("/papers/week/2025-W01", headers=signed_in).text
        assert "Second title" in week and "Grace Hopper" in week
        assert "First title" not in week and "Ada Lovelace" not in week
        assert re.search(r"Jan 3, 2025: 2 papers", week)
        assert "/papers/week/2025-W02" in week  # the next week with papers is linked
        home = http.get("/", headers=signed_in).text
        assert "Another" in home  # the newest day moved on
    engine.dispose()
