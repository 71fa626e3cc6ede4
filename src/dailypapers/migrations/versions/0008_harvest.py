"""harvest: paper versions, per-set harvest cursors, the run log and daily-list proposals

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dailypapers.database

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = dailypapers.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "paper_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("paper_id", sa.Integer(), sa.ForeignKey(
            "papers.id", ondelete="CASCADE", name="fk_paper_versions_paper_id_papers"),
            nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("submitted_at", UTC_DATETIME, nullable=True),
        sa.Column("size", sa.String(16), nullable=True),
        sa.UniqueConstraint("paper_id", "version", name="uq_paper_versions_paper_id_version"),
    )  # fmt: skip
    op.create_table(
        "harvest_cursors",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("set_spec", sa.String(64), nullable=False),
        sa.Column("harvested_through", sa.Date(), nullable=True),
        sa.Column("window_from", sa.Date(), nullable=True),
        sa.Column("window_until", sa.Date(), nullable=True),
        sa.Column("resumption_token", sa.Text(), nullable=True),
        sa.Column("pages_done", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.UniqueConstraint("set_spec", name="uq_harvest_cursors_set_spec"),
    )
    op.create_table(
        "harvest_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
    )
    op.create_index("ix_harvest_runs_started_at", "harvest_runs", ["started_at"])
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("paper_id", sa.Integer(), sa.ForeignKey(
            "papers.id", ondelete="CASCADE", name="fk_proposals_paper_id_papers"),
            nullable=False),
        sa.Column("proposed_for", sa.Date(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), sa.ForeignKey(
            "members.id", ondelete="SET NULL", name="fk_proposals_decided_by_id_members"),
            nullable=True),
        sa.Column("decided_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.UniqueConstraint("paper_id", name="uq_proposals_paper_id"),
    )  # fmt: skip
    op.create_index("ix_proposals_proposed_for", "proposals", ["proposed_for"])


def downgrade() -> None:
    for table in ("proposals", "harvest_runs", "harvest_cursors", "paper_versions"):
        op.drop_table(table)
