"""The outbox: account and subscription mail, written in the transaction that causes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dailypapers.database import Base, UTCDateTime, utcnow

STATUSES = ("queued", "sending", "sent", "failed")


class OutboxMessage(Base):
    """One email waiting to be sent, being sent, sent or given up on.

    `status`: queued (due at `next_attempt_at`) → sending (claimed by `claimed_by`) → sent, or
    back to queued after a temporary failure (`attempts` counts them), or failed (a permanent
    refusal, or too many temporary ones). Digests are not here: their ledger is their outbox.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(1000))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # The process (host:pid) sending it: a `sending` row is taken back when that process is
    # gone or its claim is older than outbox.SENDING_LEASE.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
