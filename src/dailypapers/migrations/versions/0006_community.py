"""the community: confirmed accounts, API tokens, rate limits, comments, curation log

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dailypapers.database

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = dailypapers.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("email_confirmed_at", UTC_DATETIME, nullable=True))
        # Bumped on password change or "log out everywhere": older session cookies stop working.
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("last_login_at", UTC_DATETIME, nullable=True))
    with op.batch_alter_table("papers") as batch:
        batch.add_column(sa.Column("hidden", sa.Boolean(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("project_page_source", sa.String(16), nullable=True))
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="CASCADE", name="fk_api_tokens_member_id_members"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("last_used_at", UTC_DATETIME, nullable=True),
    )
    op.create_table(
        "rate_limit_counters",
        sa.Column("bucket", sa.String(32), primary_key=True),
        sa.Column("client", sa.String(100), primary_key=True),
        sa.Column("window_start", sa.Integer(), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "paper_id",
            sa.Integer(),
            sa.ForeignKey("papers.id", ondelete="CASCADE", name="fk_comments_paper_id_papers"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="CASCADE", name="fk_comments_member_id_members"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "parent_id",
            sa.Integer(),
            sa.ForeignKey("comments.id", ondelete="CASCADE", name="fk_comments_parent_id_comments"),
            nullable=True,
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("edited_at", UTC_DATETIME, nullable=True),
        sa.Column("deleted_at", UTC_DATETIME, nullable=True),
        sa.Column("hidden_at", UTC_DATETIME, nullable=True),
        sa.Column(
            "hidden_by_id",
            sa.Integer(),
            sa.ForeignKey(
                "members.id", ondelete="SET NULL", name="fk_comments_hidden_by_id_members"
            ),
            nullable=True,
        ),
    )
    op.create_table(
        "curation_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "actor_id",
            sa.Integer(),
            sa.ForeignKey(
                "members.id", ondelete="SET NULL", name="fk_curation_log_actor_id_members"
            ),
            nullable=True,
        ),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", UTC_DATETIME, nullable=False, index=True),
    )


def downgrade() -> None:
    for table in ("curation_log", "comments", "rate_limit_counters", "api_tokens"):
        op.drop_table(table)
    with op.batch_alter_table("papers") as batch:
        batch.drop_column("project_page_source")
        batch.drop_column("hidden")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("last_login_at")
        batch.drop_column("session_version")
        batch.drop_column("email_confirmed_at")
