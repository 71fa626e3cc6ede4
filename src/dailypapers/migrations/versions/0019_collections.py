"""members' collections (reading lists) of papers

`collections`: a member's named list of papers (name unique per member, private unless made
public), deleted with its member. `collection_papers` (collection, paper, when added): one row
per paper in a collection, deleted with either. The index on `paper_id` serves deleting a
paper; the primary key serves listing a collection.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dailypapers.database

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = dailypapers.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "collections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("public", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.UniqueConstraint("member_id", "name", name="uq_collections_member_name"),
    )
    op.create_table(
        "collection_papers",
        sa.Column(
            "collection_id",
            sa.Integer(),
            sa.ForeignKey("collections.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "paper_id",
            sa.Integer(),
            sa.ForeignKey("papers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("added_at", UTC_DATETIME, nullable=False),
    )
    op.create_index("ix_collection_papers_paper_id", "collection_papers", ["paper_id"])


def downgrade() -> None:
    op.drop_index("ix_collection_papers_paper_id", table_name="collection_papers")
    op.drop_table("collection_papers")
    op.drop_table("collections")
