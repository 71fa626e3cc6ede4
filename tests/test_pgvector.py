"""Dense search on pgvector (PostgreSQL's HNSW index) agrees with exact search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from alembic import command
from sqlalchemy import insert, text
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.database import alembic_config
from dailypapers.papers.models import Paper
from dailypapers.search.dense_memory import MemoryDenseIndex
from dailypapers.search.dense_pgvector import PgVectorIndex, has_pgvector, store_vectors
from dailypapers.search.models import PaperEmbedding

from .conftest import eventually, fresh_database_url, make_settings, prepare_database

PAPERS = 3_000


def store(factory: sessionmaker[Session], vectors: dict[int, np.ndarray]) -> None:
    """Papers with these ids, each with its vector stored as the indexer stores it."""
    with factory() as session, session.begin():
        session.execute(insert(Paper), [
            {"id": i, "arxiv_id": f"2601.{i:05d}", "title": f"Paper {i}", "authors": [],
             "categories": []} for i in vectors
        ])  # fmt: skip
        session.execute(insert(PaperEmbedding), [
            {"paper_id": i, "model": "m", "content_hash": "h", "vector": v.tobytes()}
            for i, v in vectors.items()
        ])  # fmt: skip
        store_vectors(session, list(vectors.items()))


def test_pgvector_hnsw_finds_what_exact_search_finds(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url=fresh_database_url())
    engine, factory = prepare_database(settings)
    assert has_pgvector(engine)  # the migration made the column and its HNSW index
    rng = np.random.default_rng(7)
    # Clustered unit vectors, like embeddings of papers on a few hundred topics.
    centres = rng.standard_normal((300, 384)).astype(np.float32)
    vectors = centres[rng.integers(0, 300, PAPERS)] + 0.6 * rng.standard_normal((PAPERS, 384))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    store(factory, {i + 1: v for i, v in enumerate(vectors)})
    exact = MemoryDenseIndex("m")
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
        for paper_id, similarity in got:  # the cosine similarity, computed from the bytes
            assert abs(similarity - float(vectors[paper_id - 1] @ query)) < 1e-5
    assert float(np.mean(recalls)) >= 0.95, recalls
    neighbours = index.similar(1, 5)
    assert len(neighbours) == 5 and 1 not in {paper_id for paper_id, _ in neighbours}
    stored = index.vector_of(1)
    assert stored is not None and np.array_equal(stored, vectors[0])
    engine.dispose()


def test_the_vector_count_is_exact_after_refresh_and_never_blocks_when_stale(
    tmp_path: Path,
) -> None:
    """/healthz shows the count: a stale one is answered at once, and `refresh` (run by each
    process's dense upkeep job, after new vectors) counts again. Cached answers key on the
    generation instead, which follows new vectors within a second, and at once after
    `refresh`."""
    settings = make_settings(tmp_path, database_url=fresh_database_url())
    engine, factory = prepare_database(settings)
    vector = np.ones(384, dtype=np.float32) / np.sqrt(384)

    def add(first: int, count: int) -> None:
        store(factory, {i: vector for i in range(first, first + count)})

    index = PgVectorIndex(engine, "m")
    assert index.generation == 0 and len(index) == 0
    add(1, 3)
    with factory() as session:
        index.refresh(session)
    assert len(index) == 3  # counted before answering
    first = index.generation
    assert first > 0
    add(4, 2)
    assert len(index) == 3  # fresh enough: not counted again
    assert eventually(lambda: index.generation > first)  # within a second
    with factory() as session:
        index.refresh(session)
    assert len(index) == 5  # told to: counted before answering
    second = index.generation
    add(6, 1)
    with factory() as session:
        index.refresh(session)
    assert index.generation > second  # at once after refresh
    assert len(index) == 6
    add(7, 1)
    index._counted_at -= 3600  # stale: answered at once, counted again by the next refresh
    assert len(index) == 6
    with factory() as session:
        index.refresh(session)
    assert len(index) == 7
    engine.dispose()


def test_search_reads_the_pgvector_column_from_the_row_after_migration_0013(
    tmp_path: Path,
) -> None:
    """The distance a search orders by is computed from the row: the pgvector column is kept in
    it and the bytes go out of line, for vectors stored before the migration (rewritten, the
    HNSW index rebuilt) as after it."""
    settings = make_settings(tmp_path, database_url=fresh_database_url())
    engine, factory = prepare_database(settings)
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((40, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)

    def add(first: int, count: int) -> None:
        store(factory, {i: vectors[i - 1] for i in range(first, first + count)})

    def layout() -> set[tuple[bool, bool]]:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT pg_column_toast_chunk_id(embedding) IS NULL, "
                "pg_column_toast_chunk_id(vector) IS NULL FROM paper_embeddings"
            ))  # fmt: skip
            return {(bool(a), bool(b)) for a, b in rows}

    command.downgrade(alembic_config(engine), "0012")
    add(1, 20)
    assert layout() == {(False, True)}  # before: the pgvector column out of line
    command.upgrade(alembic_config(engine), "head")
    add(21, 20)
    assert layout() == {(True, False)}  # rewritten, and so are new rows
    with engine.connect() as connection:
        assert connection.execute(text(
            "SELECT 1 FROM pg_indexes WHERE indexname = 'ix_paper_embeddings_embedding'"
        )).first() is not None  # fmt: skip
    index = PgVectorIndex(engine, "m")
    for paper_id in (5, 33):
        nearest, similarity = index.search(vectors[paper_id - 1], 3)[0]
        assert nearest == paper_id and abs(similarity - 1.0) < 1e-5
    assert [hit for hit, _ in index.similar(5, 39)] == [
        hit for hit, _ in index.search(vectors[4], 40)
    ][1:]
    engine.dispose()
