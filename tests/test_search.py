"""Keyword search through the API, the page and the CLI, on the real HF Daily Papers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from dailypapers.leases import take_lease
from dailypapers.papers.importing import load_file
from dailypapers.search.keyword_tantivy import TantivyKeywordIndex
from dailypapers.search.query import query_terms

from .conftest import LiveServer, database_url_for, eventually, make_settings, prepare_database


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["paper"]["id"] for item in response.json()]


def search(client: httpx.Client, q: str, **params: Any) -> httpx.Response:
    return client.get("/api/papers/search", params={"q": q, **params})


def test_the_words_of_a_title_find_that_paper_first(client: httpx.Client) -> None:
    assert ids(search(client, "transformers learn multiplication reverse engineering"))[0] == (
        "2510.00184"
    )
    assert ids(search(client, "PeriodWave multi-period flow matching waveform"))[0] == "2408.07547"


def test_exact_arxiv_id_and_exact_title_are_pinned_first(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    for form in ("2510.00184", "arXiv:2510.00184v1", "https://arxiv.org/abs/2510.00184"):
        assert ids(search(client, form))[0] == "2510.00184"
    # a short, generic title whose words also appear in many other papers
    candidates = [r for r in hf_rows if r["abstract"] and 12 <= len(r["title"]) <= 40]
    row = min((r for r in candidates if "$" not in r["title"]), key=lambda r: len(r["title"]))
    assert ids(search(client, row["title"]))[0] == row["arxiv_id"]
    assert ids(search(client, row["title"].upper()))[0] == row["arxiv_id"]


def test_authors_are_searchable(client: httpx.Client, hf_rows: list[dict[str, Any]]) -> None:
    row = next(r for r in hf_rows if r["arxiv_id"] == "2510.00184")
    found = ids(search(client, f"{row['authors'][0]} {row['authors'][1]}", limit=50))
    assert "2510.00184" in found


def test_results_are_shaped_like_hugging_face(client: httpx.Client) -> None:
    item = search(client, "multiplication", limit=1).json()[0]
    assert set(item) >= {"paper", "title", "summary", "publishedAt", "numComments"}
    assert item["paper"]["title"] == item["title"]


def test_filters_are_applied(client: httpx.Client, hf_rows: list[dict[str, Any]]) -> None:
    by_id = {row["arxiv_id"]: row for row in hf_rows}
    query = "diffusion model image generation"
    coded = ids(search(client, query, hasCode="true", limit=50))
    assert coded and all(by_id[i]["github_url"] for i in coded)
    in_cv = ids(search(client, query, category="cs.CV", limit=50))
    assert in_cv and all("cs.CV" in (by_id[i]["categories"] or []) for i in in_cv)
    dated = ids(search(client, query, **{"from": "2025-01-01", "to": "2025-03-31"}, limit=50))
    assert dated and all("2025-01-01" <= by_id[i]["published"] <= "2025-03-31" for i in dated)
    featured = ids(search(client, query, featured="true", limit=50))
    assert featured and all(by_id[i]["featured_date"] for i in featured)


@pytest.mark.parametrize(
    "query",
    [
        "", "   ", "\x00\x01\x7f", '"', "*", "NEAR(a b)", "AND", "OR NOT", "(((", "a) OR (b",
        "'; DROP TABLE papers; --", "title:foo", "🙂🚀", "扩散模型", "$\\alpha$-divergence",
        "x" * 250, "^^^", "\\", "%_%",
    ],
)  # fmt: skip
def test_hostile_queries_never_fail(client: httpx.Client, query: str) -> None:
    response = search(client, query)
    assert response.status_code == 200
    assert isinstance(response.json(), list)


@pytest.mark.parametrize(
    ("params", "status", "name"),
    [
        ({"q": "x" * 2001}, 422, "q"),
        ({"q": "x" * 10_000}, 422, "q"),
        ({"q": "model", "limit": "0"}, 422, "limit"),
        ({"q": "model", "limit": "121"}, 422, "limit"),
        ({"q": "model", "category": "<script>"}, 400, "category"),
        ({"q": "model", "from": "2025-13-01"}, 422, "from"),
        ({"q": "model", "from": "2025-05-01", "to": "2025-01-01"}, 400, "from"),
        ({}, 422, "q"),
    ],
)
def test_bad_parameters_are_named(
    client: httpx.Client, params: dict[str, str], status: int, name: str
) -> None:
    response = client.get("/api/papers/search", params=params)
    assert response.status_code == status
    assert response.json()["error"].startswith(name)


def test_query_terms_never_carry_fts_syntax() -> None:
    assert query_terms('NEAR("a" * AND OR) 🙂 漢字 $\\alpha$') == ["near", "漢字", "alpha"]
    assert query_terms("the of and") == ["the", "of", "and"]  # only stopwords: keep them
    assert query_terms("Diffusion for CRYSTAL structures") == ["diffusion", "crystal", "structures"]


def test_search_page_marks_matches_and_escapes(client: httpx.Client) -> None:
    page = client.get("/papers", params={"q": "transformers multiplication <script>"})
    assert page.status_code == 200
    assert "<mark>Transformers</mark>" in page.text
    assert "<script>" not in page.text.split("<main", 1)[1]
    # (With "script" in the query, papers about scripts may come first: a rare word weighs more.)
    plain = client.get("/papers", params={"q": "transformers multiplication"})
    assert 'data-arxiv-id="2510.00184"' in plain.text
    assert "ranked by words only" in page.text  # this site has no vectors yet
    too_long = client.get("/papers", params={"q": "x" * 10_000})
    assert too_long.status_code == 422 and "at most 2,000" in too_long.text
    bad_date = client.get("/papers", params={"q": "model", "from": "2025-13-01", "to": ""})
    assert bad_date.status_code == 422 and "is not a date" in bad_date.text
    empty = client.get("/papers", params={"q": "zzzzqqqq"})
    assert empty.status_code == 200 and "No papers match" in empty.text


def test_new_papers_are_searchable_at_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    engine, factory = prepare_database(settings)
    with LiveServer(settings) as server, httpx.Client(base_url=server.url) as http:
        assert ids(http.get("/api/papers/search", params={"q": "quasicrystal"})) == []
        source = tmp_path / "new.jsonl"
        source.write_text(
            json.dumps({"arxiv_id": "2501.00001", "title": "Quasicrystal growth", "abstract": "A"})
            + "\n"
        )
        load_file(factory, source, settings.zone)

        def search(q: str) -> list[str]:
            return ids(http.get("/api/papers/search", params={"q": q}))

        # The server's keyword index catches up within about a second (`dailypapers load`
        # updates it before it exits).
        assert eventually(lambda: search("quasicrystal") == ["2501.00001"])
        source.write_text(
            json.dumps({"arxiv_id": "2501.00001", "title": "Icosahedral growth", "abstract": "A"})
            + "\n"
        )
        load_file(factory, source, settings.zone)  # a changed title is re-indexed
        assert eventually(lambda: search("icosahedral") == ["2501.00001"])
        assert search("quasicrystal") == []
    engine.dispose()


def test_cli_search(site_settings) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(
        DAILYPAPERS_DATA_DIR=str(site_settings.data_dir),
        DAILYPAPERS_DATABASE_URL=database_url_for(site_settings.data_dir),
        COLUMNS="200",
    )

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "dailypapers", "search", *args],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    as_json = cli("transformers learn multiplication reverse engineering", "--json", "--limit", "3")
    assert as_json.returncode == 0
    results = json.loads(as_json.stdout)
    assert len(results) == 3 and results[0]["paper"]["id"] == "2510.00184"
    table = cli("2510.00184")
    assert table.returncode == 0 and "2510.00184" in table.stdout
    too_long = cli("x" * 2001)
    assert too_long.returncode == 1 and "at most 2,000" in too_long.stderr


def test_keyword_index_recovers_from_a_crash_and_from_deletion(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    engine, factory = prepare_database(settings)
    source = tmp_path / "papers.jsonl"
    source.write_text(
        "".join(
            json.dumps(
                {"arxiv_id": f"2501.{i:05d}", "title": f"Crystal study {i}", "abstract": "A"}
            )
            + "\n"
            for i in range(1, 31)
        )
    )
    load_file(factory, source, settings.zone)
    index = TantivyKeywordIndex(settings.keyword_index_dir, factory)
    assert index.sync(factory) == 30 and len(index) == 30
    # A crash after the index commit but before the queue rows were deleted: redone, not doubled.
    with factory() as session, session.begin():
        session.execute(text("INSERT INTO search_queue(paper_id) SELECT id FROM papers"))
    assert index.sync(factory) == 30 and len(index) == 30
    assert len(index.search(["crystal"], limit=100)) == 30
    # The index folder deleted (or made by another version): rebuilt from the papers table.
    shutil.rmtree(settings.keyword_index_dir)
    rebuilt = TantivyKeywordIndex(settings.keyword_index_dir, factory)
    assert rebuilt.rebuild_needed and len(rebuilt) == 0
    assert rebuilt.sync(factory) == 30 and len(rebuilt.search(["crystal"], limit=100)) == 30
    engine.dispose()


def test_the_keyword_index_folder_is_made_by_one_process_at_a_time(tmp_path: Path) -> None:
    """Making (or replacing) the index folder takes the database lease "keyword-index-open": a
    process that finds another one at it waits (here, until that one's lease expires), while a
    complete index of this version is opened at once."""
    settings = make_settings(tmp_path)
    engine, factory = prepare_database(settings)
    assert take_lease(factory, "keyword-index-open", 0.5, holder="elsewhere:1")
    started = time.monotonic()
    made = TantivyKeywordIndex(settings.keyword_index_dir, factory)
    assert time.monotonic() - started >= 0.4
    assert made.rebuild_needed and len(made) == 0
    assert take_lease(factory, "keyword-index-open", 60, holder="elsewhere:1")
    started = time.monotonic()
    opened = TantivyKeywordIndex(settings.keyword_index_dir, factory)
    assert time.monotonic() - started < 0.4 and opened.rebuild_needed
    assert opened.sync(factory) == 0 and not made.rebuild_needed  # queued by whichever syncs
    engine.dispose()
