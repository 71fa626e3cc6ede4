"""members follow authors, categories, topics and public collections

`follows`: one row per thing a member follows (`kind`: author, category, topic or collection;
`value`: the author's name, the category, the search's text, or the collection's id as text),
deleted with its member. The unique key is (member, kind, SHA-256 of the value): a topic may
be 2,000 characters, longer than a PostgreSQL index entry may be. It also serves listing a
member's follows.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dailypapers.database

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = dailypapers.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("value_key", sa.String(64), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.UniqueConstraint("member_id", "kind", "value_key", name="uq_follows_member_kind_value"),
    )


def downgrade() -> None:
    op.drop_table("follows")
