"""What the harvest keeps: each paper's versions, where each set's harvest stands, a log of
runs, and the papers it proposes for the daily list."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dailypapers.database import Base, UTCDateTime, utcnow


class PaperVersion(Base):
    """One arXiv version of a paper (the paper row holds the newest version's metadata)."""

    __tablename__ = "paper_versions"
    __table_args__ = (UniqueConstraint("paper_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    size: Mapped[str | None] = mapped_column(String(16))


class HarvestCursor(Base):
    """Where the harvest of one OAI-PMH set stands.

    `harvested_through` is the last day completely harvested (the next run starts there); while a
    run is under way, its window and the resumption token of the next page are kept, committed
    with each stored page, so a killed run resumes at the page it had not stored."""

    __tablename__ = "harvest_cursors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_spec: Mapped[str] = mapped_column(String(64), unique=True)
    harvested_through: Mapped[date | None] = mapped_column(Date)
    window_from: Mapped[date | None] = mapped_column(Date)
    window_until: Mapped[date | None] = mapped_column(Date)
    resumption_token: Mapped[str | None] = mapped_column(Text)
    pages_done: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class HarvestRun(Base):
    """One run of the harvest, as shown in /admin and /healthz."""

    __tablename__ = "harvest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(16))  # arxiv or hf
    status: Mapped[str] = mapped_column(String(16))  # running, done, no-news, failed
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")


PROPOSAL_STATES = ("proposed", "accepted", "rejected")


class Proposal(Base):
    """A harvested paper proposed for one day's list, waiting for a curator's decision."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), unique=True)
    proposed_for: Mapped[date] = mapped_column(Date, index=True)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
