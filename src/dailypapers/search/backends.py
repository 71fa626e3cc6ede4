"""The one place that chooses the search backends, from the database the site runs on.

Keyword search (`KeywordSearch`): Tantivy files next to SQLite (`keyword_tantivy.py`), or
PostgreSQL's own weighted `tsvector` (`keyword_pg.py`). Dense search (`DenseSearch`): pgvector's
HNSW index where the database has the extension (`dense_pgvector.py`), otherwise every vector in
each process's memory, with an HNSW graph from 50k vectors (`dense_memory.py`); `MeaningSearch`
(`meaning.py`) puts a dense index together with the embedder.

The two seams are the Protocols of `protocols.py`, handed out from here (a module of their own,
so that `meaning.py` can name `DenseSearch` without importing this one). Both keyword backends
leave hidden papers out, and `MeaningSearch` leaves them out of either dense backend's results,
so the two sites answer alike. Nothing else asks which database it runs on.

A backend's modules are imported when it is chosen: faiss and onnxruntime take a third of a
second each to import, which a command that never searches by meaning does not pay.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.database import make_session_factory
from dailypapers.search.meaning import QUERY_EMBEDDING_BUDGET_SECONDS, MeaningSearch
from dailypapers.search.protocols import DenseSearch, KeywordSearch

__all__ = [
    "DenseSearch",
    "KeywordSearch",
    "MeaningSearch",
    "copied_vectors_made_searchable",
    "open_dense_index",
    "open_keyword_search",
    "open_meaning_search",
]


def open_keyword_search(engine: Engine, folder: Path) -> KeywordSearch:
    """The keyword search of the site on `engine`; Tantivy keeps its index in `folder`."""
    if engine.dialect.name == "postgresql":
        from dailypapers.search.keyword_pg import PostgresKeywordIndex

        return PostgresKeywordIndex(engine)
    from dailypapers.search.keyword_tantivy import TantivyKeywordIndex

    return TantivyKeywordIndex(folder, make_session_factory(engine))


def open_dense_index(engine: Engine, model: str, dimension: int = 384) -> DenseSearch:
    """The vectors of `model` (of `dimension` floats: 384 for the bundled model), searched by
    pgvector's index where the database has it, else held in memory."""
    from dailypapers.search.dense_pgvector import PgVectorIndex, has_pgvector

    if has_pgvector(engine):
        return PgVectorIndex(engine, model)
    from dailypapers.search.dense_memory import MemoryDenseIndex

    return MemoryDenseIndex(model, dimension)


def open_meaning_search(
    sessions: sessionmaker[Session],
    engine: Engine,
    *,
    ann_folder: Path | None = None,
    budget_seconds: float = QUERY_EMBEDDING_BUDGET_SECONDS,
    threads: int = 1,
) -> MeaningSearch:
    """Search by meaning: the bundled embedder (using `threads` threads per embedding) and the
    dense index of the site on `engine`. A query waits `budget_seconds` for its embedding
    before keyword results are served alone."""
    from dailypapers.search.embedder import Embedder

    embedder = Embedder.load(threads=threads)
    dense = open_dense_index(engine, embedder.model_name, embedder.dimension)
    return MeaningSearch(
        sessions, embedder, dense, ann_folder=ann_folder, budget_seconds=budget_seconds
    )


def copied_vectors_made_searchable(engine: Engine) -> int:
    """After `db copy` filled the database on `engine`: the dense backend's own copy of the
    copied vectors (pgvector's column; nothing where vectors are read into memory). Returns how
    many vectors were made searchable."""
    from dailypapers.search.dense_pgvector import fill_missing, has_pgvector

    return fill_missing(engine) if has_pgvector(engine) else 0
