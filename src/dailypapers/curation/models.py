"""The curation log: every moderation action, who did it and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from dailypapers.database import Base, UTCDateTime, utcnow


class CurationLogEntry(Base):
    __tablename__ = "curation_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def record(
    session: Session, actor_id: int | None, action: str, target: str, detail: str = ""
) -> None:
    """Add an entry in the caller's transaction (it commits with the action itself)."""
    session.add(
        CurationLogEntry(
            actor_id=actor_id, action=action, target=target[:100], detail=detail[:2000]
        )
    )
