"""Stored embeddings: one vector per paper and model, with the hash of the text it was made from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dailypapers.database import Base, UTCDateTime, utcnow


class PaperEmbedding(Base):
    """A paper's vector (float32 bytes). Re-made only when `content_hash` no longer matches the
    paper's title and abstract. A new row id on every change lets readers pick up changes by
    reading rows with a larger id."""

    __tablename__ = "paper_embeddings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), unique=True)
    model: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(32))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
