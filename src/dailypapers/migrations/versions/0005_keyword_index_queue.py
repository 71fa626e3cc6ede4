"""keyword search moves to a Tantivy index; a queue of papers whose search fields changed

The FTS5 table ranked every match of a query (seconds for common words at a million papers).
The keyword index now lives in Tantivy files next to the database; triggers record which papers
changed, and the index catches up from this queue (see `dailypapers.search.keyword_tantivy`).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The fields the keyword index holds: text, and what search filters on.
WATCHED = "title, abstract, authors, categories, published_date, github_url"

TRIGGERS = {
    "search_queue_paper_insert": "AFTER INSERT ON papers BEGIN"
    " INSERT INTO search_queue(paper_id) VALUES (new.id); END",
    "search_queue_paper_update": f"AFTER UPDATE OF {WATCHED} ON papers BEGIN"
    " INSERT INTO search_queue(paper_id) VALUES (new.id); END",
    "search_queue_paper_delete": "AFTER DELETE ON papers BEGIN"
    " INSERT INTO search_queue(paper_id) VALUES (old.id); END",
    "search_queue_entry_insert": "AFTER INSERT ON daily_entries BEGIN"
    " INSERT INTO search_queue(paper_id) VALUES (new.paper_id); END",
    "search_queue_entry_delete": "AFTER DELETE ON daily_entries BEGIN"
    " INSERT INTO search_queue(paper_id) VALUES (old.paper_id); END",
}


def upgrade() -> None:
    op.create_table(
        "search_queue",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("paper_id", sa.Integer(), nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        for name in ("papers_fts_delete", "papers_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS papers_fts")
        for name, body in TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    # Papers stored before this revision: the index builds itself from the queue.
    op.execute("INSERT INTO search_queue(paper_id) SELECT id FROM papers ORDER BY id")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("search_queue")
