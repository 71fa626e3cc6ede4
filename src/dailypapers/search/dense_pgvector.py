"""Dense search on PostgreSQL with pgvector: the vectors in a `vector(384)` column with an HNSW
index (cosine), searched by the database, so web processes on several machines share one index
and hold no copy of the vectors in memory.

Used when the database has the `vector` extension (migration 0011 creates the column and index
where it can); otherwise each process keeps its vectors in memory as on SQLite
(`dense_memory.py`). The `bytea` column stays the source of truth; `index_papers` writes both.
`PgVectorIndex` answers `search.protocols.DenseSearch`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.search.ann import ANN_MIN_VECTORS

HNSW_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_paper_embeddings_embedding ON paper_embeddings "
    "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
)  # as made by migration 0011
EF_SEARCH = 200  # candidates the HNSW search keeps (pgvector's default is 40)
GENERATION_SECONDS = 1.0  # how stale the newest vector's id may be (cached answers key on it)
COUNT_SECONDS = 60.0  # how stale the count of vectors may be (/healthz shows it)
CHEAP_COUNT_SECONDS = 0.1  # a count this quick is made again whenever the vectors change
_NEWEST = "SELECT max(id) FROM paper_embeddings WHERE embedding IS NOT NULL"
_COUNT = "SELECT count(*), max(id) FROM paper_embeddings WHERE embedding IS NOT NULL"


def has_pgvector(bind: Engine | Connection) -> bool:
    """Whether the schema has the pgvector column (PostgreSQL with the extension)."""
    if bind.dialect.name != "postgresql":
        return False
    sql = text(
        "SELECT 1 FROM information_schema.columns "
        "WHERE table_name = 'paper_embeddings' AND column_name = 'embedding'"
    )
    if isinstance(bind, Connection):
        return bind.execute(sql).first() is not None
    with bind.connect() as connection:
        return connection.execute(sql).first() is not None


def literal(vector: np.ndarray) -> str:
    """pgvector's text form: [0.1,0.2,...]."""
    return "[" + ",".join(f"{x:.8g}" for x in vector.astype(np.float32).tolist()) + "]"


def store_vectors(session: Session | Connection, rows: Sequence[tuple[int, np.ndarray]]) -> None:
    """Set the pgvector column of these (paper id, vector) rows, in the caller's transaction."""
    if rows:
        session.execute(
            text("UPDATE paper_embeddings SET embedding = CAST(:v AS vector) WHERE paper_id = :p"),
            [{"v": literal(vector), "p": paper_id} for paper_id, vector in rows],
        )


def fill_missing(engine: Engine, chunk: int = 5_000) -> int:
    """Set the pgvector column of rows that have only the bytes (e.g. just copied over). The
    HNSW index is dropped meanwhile and built once at the end: much faster than keeping it
    current row by row."""
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX IF EXISTS ix_paper_embeddings_embedding"))
    try:
        return _fill(engine, chunk)
    finally:
        with engine.begin() as connection:
            connection.execute(text(HNSW_INDEX))


def _fill(engine: Engine, chunk: int) -> int:
    filled = 0
    while True:
        with engine.begin() as connection:
            rows = connection.execute(
                text(
                    "SELECT paper_id, vector FROM paper_embeddings "
                    "WHERE embedding IS NULL ORDER BY id LIMIT :n"
                ),
                {"n": chunk},
            ).all()
            if not rows:
                return filled
            store_vectors(
                connection,
                [(paper_id, np.frombuffer(blob, dtype=np.float32)) for paper_id, blob in rows],
            )
            filled += len(rows)


class PgVectorIndex:
    """The vectors of one model, searched by PostgreSQL."""

    uses_ann = True
    loaded = True

    def __init__(self, engine: Engine, model: str) -> None:
        self.engine = engine
        self.model = model
        self._generation = 0
        self._generation_at = -math.inf
        self._count: int | None = None  # as of the last count (None: never counted)
        self._counted_newest = 0  # the newest vector's id when counted
        self._counted_at = -math.inf
        self._count_seconds = 0.0  # how long the last count took
        self._count_asked = False  # whether `len` was asked since the last count

    @property
    def generation(self) -> int:
        """Changes whenever the vectors searched change: the id of the newest one (a vector
        made anew gets a new row; a vector removed with its paper changes the site revision).
        Cached answers key on it; it is one step down the primary key, read once a second."""
        if time.monotonic() - self._generation_at > GENERATION_SECONDS:
            with self.engine.connect() as connection:
                self._generation = int(connection.execute(text(_NEWEST)).scalar() or 0)
            self._generation_at = time.monotonic()
        return self._generation

    def __len__(self) -> int:
        """The vectors searched (/healthz shows it). Counting a million rows takes about a
        second: only the first answer waits for a count; later ones are the last count, made
        again by the `refresh` after an answer (so that a site nobody asks counts nothing)."""
        if self._count is None:
            with self.engine.connect() as connection:
                self._recount(connection)
        self._count_asked = True
        return self._count or 0

    def _recount(self, connection: Connection | Session) -> None:
        started = time.monotonic()
        count, newest = connection.execute(text(_COUNT)).one()
        self._count, self._counted_newest = int(count), int(newest or 0)
        self._counted_at = time.monotonic()
        self._count_seconds = self._counted_at - started
        self._count_asked = False

    def refresh(self, session: Session) -> int:
        """Nothing to load (the database searches): the newest vector's id is read again, and
        where the count was asked for, the vectors are counted again once it is
        `COUNT_SECONDS` old, or at once when they changed and counting is cheap (a small site)."""
        self._generation = int(session.execute(text(_NEWEST)).scalar() or 0)
        self._generation_at = time.monotonic()
        stale = time.monotonic() - self._counted_at > COUNT_SECONDS
        changed = self._generation != self._counted_newest
        if self._count_asked and (stale or (changed and self._count_seconds < CHEAP_COUNT_SECONDS)):
            self._recount(session)
        return 0

    def maintain_ann(
        self, sessions: sessionmaker[Session], folder: Path, *, min_vectors: int = ANN_MIN_VECTORS
    ) -> None:
        pass  # the database keeps its HNSW index itself

    def store(self, session: Session, rows: Sequence[tuple[int, np.ndarray]]) -> None:
        """Set the pgvector column beside the stored bytes, in the caller's transaction."""
        store_vectors(session, rows)

    def _nearest(
        self, query_sql: str, params: dict[str, object], k: int, exclude: int | None = None
    ) -> list[tuple[int, float]]:
        """The `k` papers nearest to the query, with their cosine similarity. The distance is
        computed once, from the row (where the pgvector column is kept: migration 0013)."""
        sql = (
            f"SELECT paper_id, embedding <=> {query_sql} AS distance FROM paper_embeddings "
            "WHERE embedding IS NOT NULL AND model = :model "
            + ("AND paper_id <> :exclude " if exclude is not None else "")
            + "ORDER BY distance LIMIT :k"
        )
        with self.engine.begin() as connection:
            connection.execute(text(f"SET LOCAL hnsw.ef_search = {EF_SEARCH}"))
            rows = connection.execute(
                text(sql), {**params, "model": self.model, "k": k, "exclude": exclude}
            )
            return [(int(paper_id), 1.0 - float(distance)) for paper_id, distance in rows]

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if k <= 0:
            return []
        return self._nearest("CAST(:q AS vector)", {"q": literal(query)}, k)

    def vector_of(self, paper_id: int) -> np.ndarray | None:
        with self.engine.connect() as connection:
            blob = connection.execute(
                text("SELECT vector FROM paper_embeddings WHERE paper_id = :p"), {"p": paper_id}
            ).scalar()
        return None if blob is None else np.frombuffer(blob, dtype=np.float32)

    def similar(self, paper_id: int, k: int) -> list[tuple[int, float]]:
        query = "(SELECT embedding FROM paper_embeddings WHERE paper_id = :paper)"
        return self._nearest(query, {"paper": paper_id}, k, exclude=paper_id)
