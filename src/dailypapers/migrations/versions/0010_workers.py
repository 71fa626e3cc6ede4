"""workers: leases on scheduled jobs, and who claimed each digest in the ledger

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dailypapers.database

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = dailypapers.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(100), nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
    )
    with op.batch_alter_table("digest_ledger") as table:
        table.add_column(sa.Column("claimed_by", sa.String(100), nullable=True))
        table.add_column(sa.Column("claimed_at", UTC_DATETIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("digest_ledger") as table:
        table.drop_column("claimed_at")
        table.drop_column("claimed_by")
    op.drop_table("job_leases")
