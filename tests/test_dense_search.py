"""Dense and hybrid search with the bundled model, on real papers: indexing, fusion, similar."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import func, select, update

from dailypapers.leases import release_lease, take_lease
from dailypapers.papers.importing import load_file
from dailypapers.papers.models import Paper
from dailypapers.search.backends import (
    MeaningSearch,
    open_dense_index,
    open_keyword_search,
    open_meaning_search,
)
from dailypapers.search.dense_memory import MemoryDenseIndex
from dailypapers.search.embedder import Embedder
from dailypapers.search.fusion import fuse
from dailypapers.search.indexing import count_pending, index_papers
from dailypapers.search.keyword_tantivy import TantivyKeywordIndex
from dailypapers.search.models import PaperEmbedding
from dailypapers.search.query import query_terms
from dailypapers.search.service import search_papers

from .conftest import LiveServer, database_url_for, make_settings, prepare_database

KNOWN = ("2510.00184", "2408.07547")  # the multiplication paper and PeriodWave


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder.load(threads=2)


@pytest.fixture(scope="module")
def small_site(tmp_path_factory, hf_rows: list[dict[str, Any]], embedder: Embedder):
    """120 real papers with abstracts, embedded."""
    folder = tmp_path_factory.mktemp("dense")
    settings = make_settings(folder)
    engine, factory = prepare_database(settings)
    rows = [r for r in hf_rows if r["abstract"] and r["arxiv_id"] in KNOWN]
    rows += [r for r in hf_rows if r["abstract"] and r["arxiv_id"] not in KNOWN][-118:]
    source = folder / "papers.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    load_file(factory, source, settings.zone)
    counts = index_papers(factory, embedder)
    assert counts.embedded == len(rows)
    keyword = TantivyKeywordIndex(settings.keyword_index_dir, factory)
    assert keyword.sync(factory) == len(rows)
    yield settings, factory, rows, keyword
    engine.dispose()


def test_embedder_gives_unit_vectors_that_mean_something(embedder: Embedder) -> None:
    vectors = embedder.embed(
        ["diffusion models for image synthesis", "denoising diffusion generates images",
         "tax law in medieval Venice"]
    )  # fmt: skip
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    # int8 activations are scaled per batch, so a text alone comes out very close, not equal
    assert embedder.embed(["diffusion models for image synthesis"])[0] @ vectors[0] > 0.98


def test_indexing_is_incremental_by_content_hash(small_site, embedder: Embedder) -> None:
    settings, factory, rows, _ = small_site
    assert index_papers(factory, embedder).embedded == 0  # nothing new
    with factory() as session, session.begin():
        # a changed title is re-embedded; a change elsewhere (upvotes) is not
        session.execute(update(Paper).where(Paper.arxiv_id == KNOWN[0]).values(title="Renamed"))
        session.execute(update(Paper).where(Paper.arxiv_id == KNOWN[1]).values(github_stars=7))
    with factory() as session:
        assert count_pending(session, embedder.model_name) == 2
    counts = index_papers(factory, embedder)
    assert (counts.embedded, counts.unchanged) == (1, 1)
    with factory() as session:
        assert count_pending(session, embedder.model_name) == 0
        total = session.scalar(select(func.count()).select_from(PaperEmbedding))
    assert total == len(rows)
    with factory() as session, session.begin():
        title = next(r["title"] for r in rows if r["arxiv_id"] == KNOWN[0])
        session.execute(update(Paper).where(Paper.arxiv_id == KNOWN[0]).values(title=title))
    assert index_papers(factory, embedder).embedded == 1


def test_an_interrupted_index_run_resumes(tmp_path: Path, hf_rows, embedder: Embedder) -> None:
    settings = make_settings(tmp_path)
    engine, factory = prepare_database(settings)
    rows = [r for r in hf_rows if r["abstract"]][:40]
    source = tmp_path / "p.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    load_file(factory, source, settings.zone)
    batches = []
    first = index_papers(
        factory, embedder, batch_size=16, on_batch=batches.append, should_stop=lambda: bool(batches)
    )
    assert first.embedded == 16
    second = index_papers(factory, embedder, batch_size=16)
    assert second.embedded == 24
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(PaperEmbedding)) == 40
    engine.dispose()


def test_dense_index_refresh_and_similar(small_site, embedder: Embedder) -> None:
    _, factory, rows, _ = small_site
    index = MemoryDenseIndex(embedder.model_name)
    with factory() as session:
        assert index.refresh(session) == len(rows)
        assert index.refresh(session) == 0
        paper_id = session.scalar(select(Paper.id).where(Paper.arxiv_id == KNOWN[0]))
    similar = index.similar(paper_id, 5)
    assert len(similar) == 5 and paper_id not in [hit for hit, _ in similar]
    scores = [score for _, score in similar]
    assert scores == sorted(scores, reverse=True)


def test_hybrid_finds_papers_by_meaning(small_site) -> None:
    _, factory, _, keyword = small_site
    meaning = open_meaning_search(factory, factory.kw["bind"], budget_seconds=5.0)
    meaning.refresh()
    with factory() as session:
        # no word of the query is in the PeriodWave title; its meaning is
        results = search_papers(session, "periodic inductive bias for waveform generation",
                                keyword=keyword, limit=3, meaning=meaning)  # fmt: skip
        assert results.mode == "hybrid"
        assert KNOWN[1] in [hit.item.paper.arxiv_id for hit in results.hits]
        multiplication = search_papers(
            session,
            "why transformers fail at multiplication",
            keyword=keyword,
            limit=1,
            meaning=meaning,
        )
        assert multiplication.hits[0].item.paper.arxiv_id == KNOWN[0]
    meaning.close()


def test_slow_query_embedding_falls_back_to_keyword(small_site) -> None:
    _, factory, _, keyword = small_site
    meaning = open_meaning_search(factory, factory.kw["bind"], budget_seconds=0.05)
    meaning.refresh()
    embed = meaning.embedder.embed

    def slow_embed(texts: list[str]) -> np.ndarray:  # a loaded machine: slower than the budget
        time.sleep(0.5)
        return embed(texts)

    meaning.embedder.embed = slow_embed  # type: ignore[method-assign]
    with factory() as session:
        results = search_papers(
            session,
            "transformers multiplication",
            keyword=keyword,
            limit=3,
            meaning=meaning,
        )
    assert results.mode == "keyword" and results.hits
    meaning.close()


def test_rrf_fusion_rewards_agreement() -> None:
    fused = [paper_id for paper_id, _ in fuse([1, 2, 3], [3, 4, 1])]
    assert fused[:2] == [1, 3]
    assert set(fused) == {1, 2, 3, 4}


def test_api_and_pages_use_dense_search(small_site) -> None:
    settings, factory, rows, _ = small_site
    with LiveServer(settings) as server, httpx.Client(base_url=server.url) as http:
        server.app.state.site.meaning.refresh()
        found = http.get("/api/papers/search", params={"q": "multi-digit arithmetic"}).json()
        assert KNOWN[0] in [item["paper"]["id"] for item in found[:5]]
        similar = http.get(f"/api/papers/{KNOWN[0]}/similar").json()
        assert len(similar) == 5 and KNOWN[0] not in [i["paper"]["id"] for i in similar]
        assert http.get("/api/papers/2501.99999/similar").status_code == 404
        assert http.get("/api/papers/nonsense/similar").status_code == 400
        page = http.get(f"/papers/{KNOWN[0]}").text
        assert "Similar papers" in page
        assert similar[0]["paper"]["id"] in page


def test_index_command_embeds_then_has_nothing_to_do(tmp_path: Path, hf_rows) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env["DAILYPAPERS_DATA_DIR"] = str(tmp_path / "var")
    env["DAILYPAPERS_DATABASE_URL"] = database_url_for(tmp_path / "var")
    source = tmp_path / "p.jsonl"
    rows = [row for row in hf_rows if row["abstract"]][:3]
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "dailypapers", *args],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    assert cli("load", str(source)).returncode == 0
    first = cli("index")
    assert first.returncode == 0 and "Embedded 3 papers" in first.stderr
    again = cli("index")
    assert again.returncode == 0 and "nothing to embed" in again.stderr


def test_hnsw_graph_serves_large_corpora_with_exact_rescoring(tmp_path: Path) -> None:
    # Like real embeddings, vectors near a low-dimensional manifold (32 latent directions).
    rng = np.random.default_rng(3)
    mix = rng.normal(size=(32, 384))
    vectors = rng.normal(size=(3000, 32)) @ mix + rng.normal(0, 0.3, (3000, 384))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    rows = [(i + 1, 10_000 + i, vectors[i].tobytes()) for i in range(3000)]

    engine, factory = prepare_database(make_settings(tmp_path))  # for the lease on building it
    exact, approximate = MemoryDenseIndex("m"), MemoryDenseIndex("m")
    exact._add(rows)
    approximate._add(rows)
    approximate.maintain_ann(factory, tmp_path, min_vectors=100_000)
    assert not approximate.uses_ann  # too small: exact search
    approximate.maintain_ann(factory, tmp_path, min_vectors=1_000)
    assert approximate.uses_ann and (tmp_path / "m.faiss").exists()

    queries = rng.normal(size=(50, 32)) @ mix
    recall = np.mean(
        [
            len({p for p, _ in exact.search(q, 10)} & {p for p, _ in approximate.search(q, 10)})
            / 10
            for q in queries.astype(np.float32)
        ]
    )
    assert recall >= 0.95
    # Scores are exact cosines, best first.
    hits = approximate.search(vectors[7], 5)
    assert hits[0] == (10_007, pytest.approx(1.0, abs=1e-5))
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)

    # A vector added after the graph was built is found at once (scanned exactly until added);
    # a re-embedded paper is found by its new vector.
    newcomer = -vectors[0]
    approximate._add([(5001, 99_999, newcomer.tobytes()), (5002, 10_001, (-vectors[1]).tobytes())])
    assert approximate.search(newcomer, 1)[0][0] == 99_999
    assert approximate.search(-vectors[1], 1)[0][0] == 10_001
    approximate.maintain_ann(factory, tmp_path, min_vectors=1_000)
    assert approximate.search(newcomer, 1)[0][0] == 99_999

    # Another process loads the saved graph instead of building it again.
    restarted = MemoryDenseIndex("m")
    restarted._add(rows)
    saved = (tmp_path / "m.faiss").stat().st_mtime_ns
    restarted.maintain_ann(factory, tmp_path, min_vectors=1_000)
    assert restarted.uses_ann and (tmp_path / "m.faiss").stat().st_mtime_ns == saved
    assert restarted.search(vectors[42], 1)[0][0] == 10_042
    engine.dispose()


def test_the_hnsw_graph_is_built_by_one_process_at_a_time(tmp_path: Path) -> None:
    """Building or saving the graph takes the database lease "dense-ann": while another
    process holds it, searches stay exact and the graph is built at a later round."""
    engine, factory = prepare_database(make_settings(tmp_path))
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(1200, 384)).astype(np.float32)
    index = MemoryDenseIndex("m")
    index._add([(i + 1, 10_000 + i, vectors[i].tobytes()) for i in range(1200)])
    assert take_lease(factory, "dense-ann", 60, holder="elsewhere:1")
    index.maintain_ann(factory, tmp_path, min_vectors=1_000)
    assert not index.uses_ann and not (tmp_path / "m.faiss").exists()
    release_lease(factory, "dense-ann", holder="elsewhere:1")
    index.maintain_ann(factory, tmp_path, min_vectors=1_000)
    assert index.uses_ann and (tmp_path / "m.faiss").exists()
    assert take_lease(factory, "dense-ann", 60, holder="elsewhere:1")  # released once saved
    engine.dispose()


def test_hidden_papers_are_left_out_of_keyword_dense_and_hybrid_search(
    tmp_path: Path, hf_rows: list[dict[str, Any]], embedder: Embedder
) -> None:
    """The same queries on the backends of this run (Tantivy and vectors in memory on SQLite;
    PostgreSQL's own search and pgvector with DAILYPAPERS_TEST_BACKEND=postgresql): hiding a
    paper takes out exactly that paper, from every kind of search; showing it brings it back."""
    settings = make_settings(tmp_path)
    engine, factory = prepare_database(settings)
    rows = [r for r in hf_rows if r["abstract"] and r["categories"]][-30:]
    source = tmp_path / "papers.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    load_file(factory, source, settings.zone)
    index_papers(factory, embedder)
    keyword = open_keyword_search(engine, settings.keyword_index_dir)
    dense = open_dense_index(engine, embedder.model_name, embedder.dimension)
    meaning = MeaningSearch(factory, embedder, dense, budget_seconds=30.0)
    hidden = rows[0]  # found by its words, its meaning, its category and its arXiv id
    query, category = hidden["title"], hidden["categories"][0]
    with factory() as session:
        by_arxiv_id = select(Paper.id).where(Paper.arxiv_id == hidden["arxiv_id"])
        paper_id = session.scalars(by_arxiv_id).one()
        neighbour = session.scalars(select(Paper.id).where(Paper.id != paper_id)).first()

    def found() -> dict[str, set[int]]:
        keyword.sync(factory)
        meaning.refresh()
        dense_hits = meaning.start_search(query, 50).result()
        assert dense_hits is not None
        with factory() as session:
            hybrid = search_papers(session, query, keyword=keyword, limit=50, meaning=meaning)
            by_id = search_papers(session, hidden["arxiv_id"], keyword=keyword, meaning=meaning)
        assert hybrid.mode == "hybrid"
        return {
            "keyword": {hit for hit, _ in keyword.search(query_terms(query), limit=50)},
            "category": set(keyword.newest_in_category(category, 50)),
            "dense": {hit for hit, _ in dense_hits},
            "similar": {hit for hit, _ in meaning.similar(neighbour, 50)},
            "hybrid": {hit.item.paper.id for hit in hybrid.hits},
            "pinned": {hit.item.paper.id for hit in by_id.hits if hit.pinned},
        }

    def show(visible: bool) -> None:
        with factory() as session, session.begin():
            session.execute(update(Paper).where(Paper.id == paper_id).values(hidden=not visible))

    shown = found()
    assert all(paper_id in ids for ids in shown.values()), shown
    show(False)
    assert found() == {kind: ids - {paper_id} for kind, ids in shown.items()}
    show(True)
    assert found() == shown
    meaning.close()
    keyword.close()
    engine.dispose()
