"""What For you stores: the papers a member is not interested in, and the changes noticed on
papers (a new arXiv version, a code link, a project page) that watchers report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dailypapers.database import Base, UTCDateTime, utcnow


class NotInterested(Base):
    """A paper a member dismissed from For you: never shown to them there again, and a
    negative example for their model."""

    __tablename__ = "not_interested"
    __table_args__ = (
        UniqueConstraint("member_id", "paper_id", name="uq_not_interested_member_paper"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaperChange(Base):
    """One change to a stored paper: `kind` is "version" (detail "v3"), "code" (the code
    link) or "project_page" (the page's address)."""

    __tablename__ = "paper_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(500))
    noticed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
