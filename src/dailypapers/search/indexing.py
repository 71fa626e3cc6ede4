"""Keeping paper embeddings current: embed papers that are new or whose text changed.

Resumable by construction: each batch is committed with its vectors, and the next run picks up
whatever still has no vector (or a stale one), so a killed run loses at most one batch of work.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from sqlalchemy import Engine, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.database import utcnow
from dailypapers.papers.models import Paper
from dailypapers.search.backends import open_dense_index
from dailypapers.search.models import PaperEmbedding
from dailypapers.search.protocols import DenseSearch

BATCH_SIZE = 128


class TextEmbedder(Protocol):
    """What the indexer needs of an embedder (`search.embedder.Embedder` is one)."""

    model_name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class IndexCounts:
    embedded: int = 0
    unchanged: int = 0
    seconds: float = 0.0

    @property
    def papers_per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds else 0.0


def embedding_text(title: str, abstract: str | None) -> str:
    return f"{title}. {abstract}" if abstract else title


def content_hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _pending(model: str) -> Any:
    """Papers with no vector for `model`, or changed since their vector was made."""
    return (
        select(Paper.id, Paper.title, Paper.abstract, PaperEmbedding.content_hash)
        .join_from(Paper, PaperEmbedding, PaperEmbedding.paper_id == Paper.id, isouter=True)
        .where(
            or_(
                PaperEmbedding.id.is_(None),
                PaperEmbedding.model != model,
                Paper.updated_at > PaperEmbedding.created_at,
            )
        )
    )


def count_pending(session: Session, model: str) -> int:
    return session.scalar(select(func.count()).select_from(_pending(model).subquery())) or 0


def index_papers(
    sessions: sessionmaker[Session],
    embedder: TextEmbedder,
    *,
    dense: DenseSearch | None = None,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[IndexCounts], None] = lambda counts: None,
    should_stop: Callable[[], bool] = lambda: False,
    paper_ids: Collection[int] | None = None,
) -> IndexCounts:
    """Embed every pending paper (or those of `paper_ids`), one committed batch at a time,
    newest papers first (the ones readers look at). The vectors are stored as bytes, and the
    dense index (the site's, by default) keeps its own copy where it has one (pgvector)."""
    if dense is None:
        with sessions() as session:
            database = session.get_bind()
        assert isinstance(database, Engine)
        dense = open_dense_index(database, embedder.model_name)
    counts = IndexCounts()
    started = time.perf_counter()
    before: int | None = None
    while not should_stop():
        query = _pending(embedder.model_name).order_by(Paper.id.desc()).limit(batch_size)
        if before is not None:
            query = query.where(Paper.id < before)
        if paper_ids is not None:
            query = query.where(Paper.id.in_(paper_ids))
        with sessions() as session:
            rows = session.execute(query).all()
        if not rows:
            break
        before = rows[-1].id
        texts = {row.id: embedding_text(row.title, row.abstract) for row in rows}
        hashes = {paper_id: content_hash(text) for paper_id, text in texts.items()}
        stale = [row.id for row in rows if row.content_hash != hashes[row.id]]
        current = [row.id for row in rows if row.content_hash == hashes[row.id]]
        vectors = embedder.embed([texts[paper_id] for paper_id in stale]) if stale else None
        now = utcnow()
        with sessions() as session, session.begin():
            if current:  # text unchanged since its vector was made: just mark it checked
                session.execute(
                    update(PaperEmbedding)
                    .where(PaperEmbedding.paper_id.in_(current))
                    .values(created_at=now, model=embedder.model_name)
                )
            if stale:
                assert vectors is not None
                session.execute(delete(PaperEmbedding).where(PaperEmbedding.paper_id.in_(stale)))
                session.execute(
                    insert(PaperEmbedding),
                    [
                        {
                            "paper_id": paper_id,
                            "model": embedder.model_name,
                            "content_hash": hashes[paper_id],
                            "vector": vectors[row].astype(np.float32).tobytes(),
                            "created_at": now,
                        }
                        for row, paper_id in enumerate(stale)
                    ],
                )
                dense.store(session, [(p, vectors[row]) for row, p in enumerate(stale)])
        counts.embedded += len(stale)
        counts.unchanged += len(current)
        counts.seconds = time.perf_counter() - started
        on_batch(counts)
    counts.seconds = time.perf_counter() - started
    return counts
