"""dense search on PostgreSQL: a pgvector column with an HNSW index (cosine)

Only where the `vector` extension is installed on the server (CREATE EXTENSION needs it to be
available; see docs/deployment.md). Without it, and on SQLite, nothing changes: each process
keeps the vectors in memory.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import numpy as np
import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIMENSION = 384
CHUNK = 5_000


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    ).first()
    if available is None:
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.execute(f"ALTER TABLE paper_embeddings ADD COLUMN embedding vector({DIMENSION})")
    last = 0
    read = sa.text("SELECT id, vector FROM paper_embeddings WHERE id > :last ORDER BY id LIMIT :n")
    write = sa.text("UPDATE paper_embeddings SET embedding = CAST(:v AS vector) WHERE id = :id")
    while True:  # vectors stored before this migration
        rows = bind.execute(read, {"last": last, "n": CHUNK}).all()
        if not rows:
            break
        bind.execute(write, [{"id": row_id, "v": _literal(blob)} for row_id, blob in rows])
        last = rows[-1][0]
    op.execute(
        "CREATE INDEX ix_paper_embeddings_embedding ON paper_embeddings "
        "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
    )


def _literal(blob: bytes) -> str:
    return "[" + ",".join(f"{x:.8g}" for x in np.frombuffer(blob, dtype=np.float32).tolist()) + "]"


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_paper_embeddings_embedding")
    op.execute("ALTER TABLE paper_embeddings DROP COLUMN IF EXISTS embedding")
