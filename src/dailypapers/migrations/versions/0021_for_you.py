"""For you: papers a member is not interested in, changes to papers, and the member's settings

`not_interested`: one row per paper a member dismissed from For you (it is never shown to
them there again, and teaches their model); deleted with the member or the paper.
`paper_changes`: what changed on a paper after it was stored (a new arXiv version, a code link,
a project page), one row per change, for the "Changed" section of For you and the digest.
`members.for_you_days`: how many days back For you looks (from the newest day with papers);
`members.personal_digest`: whether the member's digest opens with For you and Changed.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dailypapers.database

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = dailypapers.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "not_interested",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "paper_id",
            sa.Integer(),
            sa.ForeignKey("papers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.UniqueConstraint("member_id", "paper_id", name="uq_not_interested_member_paper"),
    )
    op.create_table(
        "paper_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "paper_id",
            sa.Integer(),
            sa.ForeignKey("papers.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.Column("noticed_at", UTC_DATETIME, nullable=False, index=True),
    )
    with op.batch_alter_table("members") as batch:
        batch.add_column(
            sa.Column("for_you_days", sa.Integer(), nullable=False, server_default="7")
        )
        batch.add_column(
            sa.Column("personal_digest", sa.Boolean(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.drop_column("personal_digest")
        batch.drop_column("for_you_days")
    op.drop_table("paper_changes")
    op.drop_table("not_interested")
