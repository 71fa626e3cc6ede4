"""Dense search on PostgreSQL with pgvector: the vectors in a `vector(384)` column with an HNSW
index (cosine), searched by the database, so web processes on several machines share one index
and hold no copy of the vectors in memory.

Used when the database has the `vector` extension (migration 0011 creates the column and index
where it can); otherwise each process keeps its vectors in memory as on SQLite (`vectors.py`).
The `bytea` column stays the source of truth; `index_papers` writes both.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

HNSW_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_paper_embeddings_embedding ON paper_embeddings "
    "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
)  # as made by migration 0011
EF_SEARCH = 200  # candidates the HNSW search keeps (pgvector's default is 40)
GENERATION_SECONDS = 1.0  # how stale the newest vector's id may be (cached answers key on it)
COUNT_SECONDS = 60.0  # how stale the count of vectors may be (/healthz shows it)


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
                text("SELECT paper_id, vector FROM paper_embeddings "
                     "WHERE embedding IS NULL ORDER BY id LIMIT :n"), {"n": chunk},
            ).all()  # fmt: skip
            if not rows:
                return filled
            store_vectors(
                connection,
                [(paper_id, np.frombuffer(blob, dtype=np.float32)) for paper_id, blob in rows],
            )
            filled += len(rows)


class PgVectorIndex:
    """DenseIndex's interface, answered by PostgreSQL."""

    uses_ann = True
    loaded = True

    def __init__(self, engine: Engine, model: str) -> None:
        self.engine = engine
        self.model = model
        self._generation = 0
        self._generation_at = -math.inf
        self._count = 0
        self._counted_at = 0.0
        self._asked = 1  # counts asked for before answering: the first, then one per refresh
        self._answered = 0  # the last of those a finished count was started after
        self._counting = threading.Lock()

    @property
    def generation(self) -> int:
        """Changes whenever the vectors searched change: the id of the newest one (a vector
        made anew gets a new row; a vector removed with its paper changes the site revision).
        Cached answers key on it; it is one step down the primary key, read once a second."""
        if time.monotonic() - self._generation_at > GENERATION_SECONDS:
            with self.engine.connect() as connection:
                self._generation = int(connection.execute(text(
                    "SELECT max(id) FROM paper_embeddings WHERE embedding IS NOT NULL"
                )).scalar() or 0)  # fmt: skip
            self._generation_at = time.monotonic()
        return self._generation

    def __len__(self) -> int:
        """The vectors searched (/healthz shows it). Counting a million rows takes about a
        second: once known, a stale count is answered at once and counted again on a
        background thread."""
        if self._answered < self._asked:
            with self._counting:
                if self._answered < self._asked:
                    self._recount()
        elif time.monotonic() - self._counted_at > COUNT_SECONDS and self._counting.acquire(
            blocking=False
        ):
            threading.Thread(target=self._recount_and_release, daemon=True).start()
        return self._count

    def _recount(self) -> None:
        asked = self._asked
        with self.engine.connect() as connection:
            self._count = int(connection.execute(text(
                "SELECT count(*) FROM paper_embeddings WHERE embedding IS NOT NULL"
            )).scalar() or 0)  # fmt: skip
        self._counted_at = time.monotonic()
        self._answered = max(self._answered, asked)

    def _recount_and_release(self) -> None:
        try:
            self._recount()
        finally:
            self._counting.release()

    def refresh(self, session: Session) -> int:
        self._asked += 1  # nothing to load: count again before the next answer
        self._generation_at = -math.inf
        return 0

    def maintain_ann(self, folder: Path, **_: object) -> None:
        pass  # the database keeps its HNSW index itself

    def _nearest(self, query_sql: str, params: dict[str, object], k: int,
                 exclude: int | None = None) -> list[tuple[int, float]]:  # fmt: skip
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
