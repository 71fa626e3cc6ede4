"""keyword search on PostgreSQL: a weighted tsvector column with a GIN index

On SQLite nothing changes (the keyword index is in Tantivy files, see migration 0005).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# authors is a JSON list stored as text: its brackets and quotes are not words.
SEARCH_VECTOR = """
ALTER TABLE papers ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
    setweight(to_tsvector('english', coalesce(abstract, '')), 'B') ||
    setweight(to_tsvector('simple', coalesce(authors, '')), 'C')
) STORED
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(SEARCH_VECTOR)
    op.execute("CREATE INDEX ix_papers_search_vector ON papers USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_papers_search_vector")
    op.execute("ALTER TABLE papers DROP COLUMN IF EXISTS search_vector")
