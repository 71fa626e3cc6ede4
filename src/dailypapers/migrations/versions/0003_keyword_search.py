"""keyword search: an FTS5 index of titles, abstracts and authors

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

On SQLite only; PostgreSQL gets its tsvector index with the PostgreSQL work.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# porter: "structures" finds "structure"; remove_diacritics: "Balazs" finds "Balázs".
FTS_TABLE = """
CREATE VIRTUAL TABLE papers_fts USING fts5(
    title, abstract, authors,
    content='papers', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
)
"""
# New papers are indexed by the loader, in one statement per batch (three times faster than
# a trigger per row); changed and deleted ones by these triggers.
TRIGGERS = (
    """CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN
        INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors)
        VALUES ('delete', old.id, old.title, old.abstract, old.authors);
    END""",
    """CREATE TRIGGER papers_fts_update AFTER UPDATE OF title, abstract, authors ON papers BEGIN
        INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors)
        VALUES ('delete', old.id, old.title, old.abstract, old.authors);
        INSERT INTO papers_fts(rowid, title, abstract, authors)
        VALUES (new.id, new.title, new.abstract, new.authors);
    END""",
)


def upgrade() -> None:
    op.create_index("ix_papers_title_lower", "papers", [sa.text("lower(title)")], unique=False)
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(FTS_TABLE)
    for trigger in TRIGGERS:
        op.execute(trigger)
    op.execute("INSERT INTO papers_fts(papers_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("papers_fts_delete", "papers_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS papers_fts")
    op.drop_index("ix_papers_title_lower", table_name="papers")
