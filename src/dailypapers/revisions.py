"""The site revision: a counter bumped by every write that changes what readers see.

Readers' caches key on it, so a cached page or API response is never served after the data
behind it changed, in any process on any machine sharing the database.
"""

from __future__ import annotations

from sqlalchemy import Connection, Integer, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from dailypapers.database import Base

SITE_STATE_ID = 1


class SiteState(Base):
    __tablename__ = "site_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)


def bump_revision(session: Session) -> None:
    """Call inside the transaction that changes visible data (it commits with it)."""
    session.execute(
        update(SiteState)
        .where(SiteState.id == SITE_STATE_ID)
        .values(revision=SiteState.revision + 1)
    )


def read_revision(connection: Connection) -> int:
    return connection.execute(
        select(SiteState.revision).where(SiteState.id == SITE_STATE_ID)
    ).scalar_one()
