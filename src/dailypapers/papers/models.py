"""Papers and the daily list."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dailypapers.database import Base, JSONText, UTCDateTime, utcnow

CODE_LINK_SOURCES = ("import", "auto", "member")


class PaperCounts:
    """Upvotes as shown (captured at import plus cast on this site) and comments as shown (only
    the ones written here: a reader can open every comment counted; `imported_comments` is the
    count on the source, e.g. Hugging Face, shown only labelled as such)."""

    __slots__ = ()
    imported_upvotes: int
    vote_count: int
    imported_comments: int
    comment_count: int

    @property
    def upvotes(self) -> int:
        return self.imported_upvotes + self.vote_count

    @property
    def num_comments(self) -> int:
        return self.comment_count


class Paper(PaperCounts, Base):
    """One arXiv paper at its newest known version."""

    __tablename__ = "papers"
    __table_args__ = (Index("ix_papers_published_date_arxiv_id", "published_date", "arxiv_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    arxiv_id: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(JSONText, default=list)
    categories: Mapped[list[str]] = mapped_column(JSONText, default=list)
    primary_category: Mapped[str | None] = mapped_column(String(32), index=True)
    published_date: Mapped[date | None] = mapped_column(Date)
    comment: Mapped[str | None] = mapped_column(Text)
    github_url: Mapped[str | None] = mapped_column(String(500))
    github_url_source: Mapped[str | None] = mapped_column(String(16))
    github_stars: Mapped[int | None] = mapped_column(Integer)
    project_page: Mapped[str | None] = mapped_column(String(500))
    ai_summary: Mapped[str | None] = mapped_column(Text)
    ai_keywords: Mapped[list[str] | None] = mapped_column(JSONText)
    # Counts captured from the source the paper was imported from (e.g. Hugging Face) ...
    imported_upvotes: Mapped[int] = mapped_column(Integer, default=0)
    imported_comments: Mapped[int] = mapped_column(Integer, default=0)
    # ... and the ones cast on this site, kept equal to their rows in the same transaction.
    vote_count: Mapped[int] = mapped_column(Integer, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)  # by a curator: shown nowhere
    project_page_source: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    daily_entry: Mapped[DailyEntry | None] = relationship(back_populates="paper", uselist=False)


class DailyEntry(Base):
    """A paper on the daily list of one featured date; a paper is featured at most once."""

    __tablename__ = "daily_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), unique=True)
    featured_date: Mapped[date] = mapped_column(Date, index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    # The submitter's user name where the entry came from elsewhere (e.g. a Hugging Face import).
    submitter_name: Mapped[str | None] = mapped_column(String(100), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    paper: Mapped[Paper] = relationship(back_populates="daily_entry")
