"""Subscribers, their topics, and the ledger that makes every send happen once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dailypapers.database import Base, JSONText, UTCDateTime, utcnow

FREQUENCIES = ("daily", "weekly")
MAX_TOPICS = 20


class Subscriber(Base):
    """An address that asked for digests. Nothing is sent before `confirmed_at` (double
    opt-in) or after `unsubscribed_at`; `bounces` counts permanent failures in a row."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    frequency: Mapped[str] = mapped_column(String(8), default="daily")
    min_upvotes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounces: Mapped[int] = mapped_column(Integer, default=0)
    stopped_reason: Mapped[str | None] = mapped_column(String(200))  # e.g. repeated bounces

    @property
    def active(self) -> bool:
        return (
            self.confirmed_at is not None
            and self.unsubscribed_at is None
            and self.stopped_reason is None
        )


class Topic(Base):
    """A followed topic: a saved search."""

    __tablename__ = "subscriber_topics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    query: Mapped[str] = mapped_column(String(250))


class DigestSend(Base):
    """One (subscriber, period) digest. `status`: sending → sent, or empty (nothing new, not
    sent), or failed (permanent error); `attempts` counts temporary failures."""

    __tablename__ = "digest_ledger"
    __table_args__ = (UniqueConstraint("subscriber_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(32))  # "daily:2026-11-27", "weekly:2026-W48"
    status: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str] = mapped_column(String(200))
    papers: Mapped[str] = mapped_column(Text, default="")  # paper ids, comma-separated
    # The digest as laid out (its dates, trending ids, each topic's ids), so that its "view in
    # a browser" page shows what the email showed; None on rows from before revision 0018.
    sections: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The sender (host:pid) that claimed the digest: a `sending` row is taken over only when
    # that process is gone or its claim is older than delivery.SENDING_LEASE.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SentPaper(Base):
    """A paper a subscriber has already been sent: never sent to them again."""

    __tablename__ = "digest_sent_papers"

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    paper_id: Mapped[int] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
