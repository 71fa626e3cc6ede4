"""A member's follows: authors, arXiv categories, topics (saved searches) and other members'
public collections, one row each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dailypapers.database import Base, UTCDateTime, utcnow


class Follow(Base):
    """One thing a member follows. `value` is the author's name, the category (cs.LG), the
    search's text, or the collection's id as text; `value_key` is its SHA-256 (hex), which the
    unique key holds instead of the value itself (a 2,000-character topic in another script is
    longer than a PostgreSQL index entry may be)."""

    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("member_id", "kind", "value_key", name="uq_follows_member_kind_value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(Text)
    value_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
