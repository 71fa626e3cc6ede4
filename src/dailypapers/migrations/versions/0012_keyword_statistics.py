"""keyword search on PostgreSQL: fuller word statistics for ranking

`ANALYZE` keeps, for a `tsvector` column, the most common words and the share of papers each
is in; keyword ranking reads them as document frequencies (rarer words weigh more). The default
keeps 1,000 words; 100,000 cover every word that is in more than a few papers.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATISTICS_TARGET = 10_000  # PostgreSQL keeps 10 words per unit for tsvector columns


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"ALTER TABLE papers ALTER COLUMN search_vector SET STATISTICS {STATISTICS_TARGET}"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE papers ALTER COLUMN search_vector SET STATISTICS -1")
