"""the keyword index (Tantivy, next to SQLite) leaves hidden papers out, as PostgreSQL's does

Hiding or showing a paper now queues it for the keyword index, which indexes visible papers
only; the papers hidden before this revision are queued, so the index takes them out.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The fields the keyword index holds or filters on (0005), and now whether the paper is shown.
WATCHED = "title, abstract, authors, categories, published_date, github_url"
TRIGGER = (
    "CREATE TRIGGER search_queue_paper_update AFTER UPDATE OF {watched} ON papers BEGIN"
    " INSERT INTO search_queue(paper_id) VALUES (new.id); END"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL's keyword search reads `hidden` from the table
    op.execute("DROP TRIGGER IF EXISTS search_queue_paper_update")
    op.execute(TRIGGER.format(watched=f"{WATCHED}, hidden"))
    op.execute("INSERT INTO search_queue(paper_id) SELECT id FROM papers WHERE hidden")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER IF EXISTS search_queue_paper_update")
    op.execute(TRIGGER.format(watched=WATCHED))
