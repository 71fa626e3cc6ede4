"""dense search on PostgreSQL: the pgvector column in the row, the vector's bytes out of it

A row of `paper_embeddings` holds each vector twice (the `bytea` that is the source of truth,
and the pgvector column the HNSW index is built from), too much for one row: PostgreSQL moved
the pgvector column out of line. But a search reads that column for each paper it returns (the
distance it orders by is computed from the row), so each of the hundred nearest papers cost a
lookup in the TOAST table, and 1.5 GB more to keep in memory at a million papers. Now the
pgvector column stays in the row (`MAIN`) and the bytes go out of line (`EXTERNAL`: read only
when a vector is copied or loaded).

Rows stored before are rewritten to the new layout, with the HNSW index dropped meanwhile and
built once at the end (at a million vectors: minutes; see docs/deployment.md).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HNSW_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_paper_embeddings_embedding ON paper_embeddings "
    "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
)  # as made by migration 0011


def _has_pgvector() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    found = bind.execute(sa.text(
        "SELECT 1 FROM information_schema.columns "
        "WHERE table_name = 'paper_embeddings' AND column_name = 'embedding'"
    )).first()  # fmt: skip
    return found is not None


def _relayout(embedding: str, vector: str) -> None:
    op.execute(f"ALTER TABLE paper_embeddings ALTER COLUMN embedding SET STORAGE {embedding}")
    op.execute(f"ALTER TABLE paper_embeddings ALTER COLUMN vector SET STORAGE {vector}")
    stored = op.get_bind().execute(sa.text(
        "SELECT 1 FROM paper_embeddings WHERE embedding IS NOT NULL LIMIT 1"
    )).first()  # fmt: skip
    if stored is None:
        return
    op.execute("DROP INDEX IF EXISTS ix_paper_embeddings_embedding")
    # New values (not the stored ones handed back), so that each is placed by the new layout.
    op.execute(
        "UPDATE paper_embeddings SET vector = vector || ''::bytea, "
        "embedding = CAST(CAST(embedding AS real[]) AS vector) WHERE embedding IS NOT NULL"
    )
    op.execute(HNSW_INDEX)


def upgrade() -> None:
    if _has_pgvector():
        _relayout("MAIN", "EXTERNAL")


def downgrade() -> None:
    if _has_pgvector():
        _relayout("EXTERNAL", "EXTENDED")
