"""the ledger keeps each digest's layout

`digest_ledger.sections`: the digest's dates, its trending papers and each topic's papers (and
the topics without a match), so that its "view in a browser" page shows the sections and dates
of the email. Rows from before this revision keep NULL: their page lists the papers in one list.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dailypapers.database

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("digest_ledger") as batch:
        batch.add_column(sa.Column("sections", dailypapers.database.JSONText(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("digest_ledger") as batch:
        batch.drop_column("sections")
