"""signed-in sessions kept on the server; what each API token may do

`member_sessions`: one row per signed-in browser, named by its cookie (the SHA-256 of a random
key): logging out deletes the row, so a copy of the cookie stops working. Cookies from before
this revision name no row: their holders log in again.

`api_tokens.scopes`: what a token may do (read, vote, comment, submit). Tokens made before this
revision could do everything and keep all four.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dailypapers.database

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = dailypapers.database.UTCDateTime(timezone=True)
ALL_SCOPES = "read vote comment submit"


def upgrade() -> None:
    op.create_table(
        "member_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey(
                "members.id", ondelete="CASCADE", name="fk_member_sessions_member_id_members"
            ),
            nullable=False,
            index=True,
        ),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("last_seen_at", UTC_DATETIME, nullable=False),
    )
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(
            sa.Column("scopes", sa.String(100), nullable=False, server_default=ALL_SCOPES)
        )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("scopes")
    op.drop_table("member_sessions")
