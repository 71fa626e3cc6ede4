"""digests: subscribers, topics, the send ledger and the papers each reader was sent

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dailypapers.database

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = dailypapers.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey(
            "members.id", ondelete="SET NULL", name="fk_subscribers_member_id_members"),
            nullable=True),
        sa.Column("frequency", sa.String(8), nullable=False),
        sa.Column("min_upvotes", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("confirmed_at", UTC_DATETIME, nullable=True),
        sa.Column("confirmation_sent_at", UTC_DATETIME, nullable=True),
        sa.Column("unsubscribed_at", UTC_DATETIME, nullable=True),
        sa.Column("bounces", sa.Integer(), nullable=False),
        sa.Column("stopped_reason", sa.String(200), nullable=True),
        sa.UniqueConstraint("email", name="uq_subscribers_email"),
    )  # fmt: skip
    op.create_table(
        "subscriber_topics",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("subscriber_id", sa.Integer(), sa.ForeignKey(
            "subscribers.id", ondelete="CASCADE",
            name="fk_subscriber_topics_subscriber_id_subscribers"), nullable=False),
        sa.Column("query", sa.String(250), nullable=False),
    )  # fmt: skip
    op.create_index("ix_subscriber_topics_subscriber_id", "subscriber_topics", ["subscriber_id"])
    op.create_table(
        "digest_ledger",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("subscriber_id", sa.Integer(), sa.ForeignKey(
            "subscribers.id", ondelete="CASCADE",
            name="fk_digest_ledger_subscriber_id_subscribers"), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("papers", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("sent_at", UTC_DATETIME, nullable=True),
        sa.UniqueConstraint("subscriber_id", "period", name="uq_digest_ledger_subscriber_id"),
    )  # fmt: skip
    op.create_table(
        "digest_sent_papers",
        sa.Column("subscriber_id", sa.Integer(), sa.ForeignKey(
            "subscribers.id", ondelete="CASCADE",
            name="fk_digest_sent_papers_subscriber_id_subscribers"), primary_key=True),
        sa.Column("paper_id", sa.Integer(), sa.ForeignKey(
            "papers.id", ondelete="CASCADE", name="fk_digest_sent_papers_paper_id_papers"),
            primary_key=True),
    )  # fmt: skip


def downgrade() -> None:
    for table in ("digest_sent_papers", "digest_ledger", "subscriber_topics", "subscribers"):
        op.drop_table(table)
