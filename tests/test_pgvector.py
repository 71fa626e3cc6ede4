"""Dense search on pgvector (PostgreSQL's HNSW index) agrees with exact search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import insert

from dailypapers.papers.models import Paper
from dailypapers.search.models import PaperEmbedding
from dailypapers.search.vectors import DenseIndex
from dailypapers.search.vectors_pg import PgVectorIndex, has_pgvector, store_vectors

from .conftest import eventually, fresh_database_url, make_settings, prepare_database

PAPERS = 3_000


def test_pgvector_hnsw_finds_what_exact_search_finds(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url=fresh_database_url())
    engine, factory = prepare_database(settings)
    assert has_pgvector(engine)  # the migration made the column and its HNSW index
    rng = np.random.default_rng(7)
    # Clustered unit vectors, like embeddings of papers on a few hundred topics.
    centres = rng.standard_normal((300, 384)).astype(np.float32)
    vectors = centres[rng.integers(0, 300, PAPERS)] + 0.6 * rng.standard_normal((PAPERS, 384))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    with factory() as session, session.begin():
        session.execute(insert(Paper), [
            {"id": i + 1, "arxiv_id": f"2601.{i:05d}", "title": f"Paper {i}", "authors": [],
             "categories": []} for i in range(PAPERS)
        ])  # fmt: skip
        session.execute(insert(PaperEmbedding), [
            {"paper_id": i + 1, "model": "m", "content_hash": "h", "vector": v.tobytes()}
            for i, v in enumerate(vectors)
        ])  # fmt: skip
        store_vectors(session, [(i + 1, v) for i, v in enumerate(vectors)])
    exact = DenseIndex("m")
    with factory() as session:
        exact.refresh(session)
    index = PgVectorIndex(engine, "m")
    assert len(index) == PAPERS and index.loaded
    recalls = []
    for query in vectors[rng.choice(PAPERS, 50, replace=False)] + 0.1 * rng.standard_normal(384):
        query = (query / np.linalg.norm(query)).astype(np.float32)
        want = [paper_id for paper_id, _ in exact.search(query, 10)]
        got = index.search(query, 10)
        recalls.append(len(set(want) & {paper_id for paper_id, _ in got}) / 10)
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
    assert float(np.mean(recalls)) >= 0.95, recalls
    neighbours = index.similar(1, 5)
    assert len(neighbours) == 5 and 1 not in {paper_id for paper_id, _ in neighbours}
    stored = index.vector_of(1)
    assert stored is not None and np.array_equal(stored, vectors[0])
    engine.dispose()


def test_the_vector_count_is_exact_after_refresh_and_never_blocks_when_stale(
    tmp_path: Path,
) -> None:
    """Every cached answer's key reads the count: a stale one is answered at once and counted
    again in the background; `refresh` (after new vectors) makes the next answer exact."""
    settings = make_settings(tmp_path, database_url=fresh_database_url())
    engine, factory = prepare_database(settings)
    vector = np.ones(384, dtype=np.float32) / np.sqrt(384)

    def add(first: int, count: int) -> None:
        with factory() as session, session.begin():
            session.execute(insert(Paper), [
                {"id": i, "arxiv_id": f"2601.{i:05d}", "title": f"Paper {i}", "authors": [],
                 "categories": []} for i in range(first, first + count)
            ])  # fmt: skip
            session.execute(insert(PaperEmbedding), [
                {"paper_id": i, "model": "m", "content_hash": "h", "vector": vector.tobytes()}
                for i in range(first, first + count)
            ])  # fmt: skip
            store_vectors(session, [(i, vector) for i in range(first, first + count)])

    add(1, 3)
    index = PgVectorIndex(engine, "m")
    assert len(index) == 3  # the first count is made before answering
    add(4, 2)
    assert len(index) == 3  # fresh enough: not counted again
    with factory() as session:
        index.refresh(session)
    assert len(index) == 5  # told to: counted before answering
    add(6, 1)
    index._counted_at -= 60  # stale: answered at once, counted again beside
    assert len(index) == 5
    assert eventually(lambda: len(index) == 6)
    engine.dispose()
