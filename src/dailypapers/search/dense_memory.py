"""Dense search without pgvector: every paper's vector in memory, searched exactly or through an
HNSW graph.

Exact search over 50k vectors of 384 floats takes about 6 ms with numpy; from `ANN_MIN_VECTORS`
(50k) on, an HNSW graph (`search/ann.py`) proposes candidates that are re-scored exactly. Each
process keeps its own copy and picks up new vectors by reading the rows added since its last
look (row ids only grow). `MemoryDenseIndex` answers `search.protocols.DenseSearch`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.leases import release_lease, take_lease
from dailypapers.search.ann import ANN_CANDIDATES, ANN_MIN_VECTORS, AnnIndex
from dailypapers.search.models import PaperEmbedding

log = logging.getLogger(__name__)

DIMENSION = 384
REFRESH_CHUNK = 20_000
# Building or saving the graph: one process at a time, by a database lease. A build of a million
# vectors takes minutes; a dead holder frees the lease after ANN_LEASE_SECONDS.
ANN_LEASE = "dense-ann"
ANN_LEASE_SECONDS = 3600.0


class MemoryDenseIndex:
    """The vectors of one model, all in this process's memory."""

    def __init__(self, model: str, dimension: int = DIMENSION) -> None:
        self.model = model
        self.dimension = dimension
        self._matrix = np.zeros((0, dimension), dtype=np.float32)
        self._paper_ids = np.zeros(0, dtype=np.int64)
        self._row_ids = np.zeros(0, dtype=np.int64)  # the stored row each vector came from
        self._row_of: dict[int, int] = {}
        self._ann: AnnIndex | None = None
        self._ann_saved_size = 0
        self._last_row_id = 0
        self._lock = threading.Lock()
        self.loaded = False  # the first refresh has completed

    def __len__(self) -> int:
        return len(self._paper_ids)

    @property
    def generation(self) -> int:
        """Changes whenever the vectors searched change (cached answers key on it): the newest
        row read (a vector made anew is a new row)."""
        return self._last_row_id

    def refresh(self, session: Session) -> int:
        """Read the vectors stored since the last refresh; returns how many were read."""
        read = 0
        while True:
            rows = session.execute(
                select(PaperEmbedding.id, PaperEmbedding.paper_id, PaperEmbedding.vector)
                .where(PaperEmbedding.id > self._last_row_id, PaperEmbedding.model == self.model)
                .order_by(PaperEmbedding.id)
                .limit(REFRESH_CHUNK)
            ).all()
            if not rows:
                break
            self._add(rows)
            read += len(rows)
        self.loaded = True
        return read

    def _add(self, rows: Sequence[Any]) -> None:
        with self._lock:
            matrix, paper_ids, row_of = self._matrix, self._paper_ids, dict(self._row_of)
            row_ids = self._row_ids
            new_vectors: list[np.ndarray] = []
            new_ids: list[int] = []
            new_row_ids: list[int] = []
            replaced: dict[int, tuple[np.ndarray, int]] = {}
            for row_id, paper_id, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if paper_id in row_of:
                    replaced[row_of[paper_id]] = (vector, row_id)
                else:
                    row_of[paper_id] = len(paper_ids) + len(new_ids)
                    new_ids.append(paper_id)
                    new_vectors.append(vector)
                    new_row_ids.append(row_id)
            if replaced:
                matrix, row_ids = matrix.copy(), row_ids.copy()
                for position, (vector, row_id) in replaced.items():
                    matrix[position], row_ids[position] = vector, row_id
            if new_vectors:
                matrix = np.vstack([matrix, np.stack(new_vectors)])
                paper_ids = np.concatenate([paper_ids, np.array(new_ids, dtype=np.int64)])
                row_ids = np.concatenate([row_ids, np.array(new_row_ids, dtype=np.int64)])
            # Swapped in one step: searches running meanwhile keep a consistent old view.
            self._matrix, self._paper_ids, self._row_of = matrix, paper_ids, row_of
            self._row_ids = row_ids
            self._last_row_id = max(self._last_row_id, max(row[0] for row in rows))

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(paper id, cosine similarity) of the k nearest papers, best first."""
        matrix, paper_ids, row_ids = self._matrix, self._paper_ids, self._row_ids
        if len(paper_ids) == 0 or k <= 0:
            return []
        query = query.astype(np.float32)
        ann = self._ann
        if ann is None:
            positions = None
            scores = matrix @ query
        else:
            # Candidates from the graph, plus the rows it does not hold yet, scored exactly.
            row_of = self._row_of
            candidates = {
                row_of[int(paper_id)] for paper_id in ann.search(query, max(k, ANN_CANDIDATES))
            }
            candidates.update(np.nonzero(row_ids > ann.last_row_id)[0].tolist())
            positions = np.fromiter(candidates, dtype=np.int64, count=len(candidates))
            scores = matrix[positions] @ query
        k = min(k, len(scores))
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        chosen = top if positions is None else positions[top]
        return [(int(paper_ids[p]), float(s)) for p, s in zip(chosen, scores[top], strict=True)]

    # --- the HNSW graph, for large corpora -------------------------------------------------
    @property
    def uses_ann(self) -> bool:
        return self._ann is not None

    def maintain_ann(
        self, sessions: sessionmaker[Session], folder: Path, *, min_vectors: int = ANN_MIN_VECTORS
    ) -> None:
        """Load, build or extend the HNSW graph once the corpus is large enough. Called by each
        process's dense upkeep job; searches stay exact until the graph is complete."""
        if len(self) < min_vectors:
            return
        if self._ann is None:
            ann = AnnIndex.load(folder, self.model, self.dimension)
            if ann is None:
                if not take_lease(sessions, ANN_LEASE, ANN_LEASE_SECONDS):
                    return  # another process is building it; load it next round
                try:
                    ann = AnnIndex(self.dimension)
                    self._extend(ann, chunk=50_000)
                    ann.save(folder, self.model)
                finally:
                    release_lease(sessions, ANN_LEASE)
                log.info("dense index: HNSW graph of %d vectors built and saved", len(ann))
            self._ann_saved_size = len(ann)
        else:
            ann = self._ann
        self._extend(ann, chunk=1_000)  # small steps: searches wait for each add
        self._ann = ann
        if len(ann) > self._ann_saved_size * 1.1 and take_lease(
            sessions, ANN_LEASE, ANN_LEASE_SECONDS
        ):
            try:
                ann.save(folder, self.model)
                self._ann_saved_size = len(ann)
            finally:
                release_lease(sessions, ANN_LEASE)

    def _extend(self, ann: AnnIndex, *, chunk: int) -> None:
        matrix, paper_ids, row_ids = self._matrix, self._paper_ids, self._row_ids
        newer = np.nonzero(row_ids > ann.last_row_id)[0]
        newer = newer[np.argsort(row_ids[newer])]
        for start in range(0, len(newer), chunk):
            part = newer[start : start + chunk]
            ann.add(paper_ids[part], matrix[part], int(row_ids[part].max()))

    def vector_of(self, paper_id: int) -> np.ndarray | None:
        position = self._row_of.get(paper_id)
        return None if position is None else self._matrix[position]

    def similar(self, paper_id: int, k: int) -> list[tuple[int, float]]:
        vector = self.vector_of(paper_id)
        if vector is None:
            return []
        return [hit for hit in self.search(vector, k + 1) if hit[0] != paper_id][:k]

    def store(self, session: Session, rows: Sequence[tuple[int, np.ndarray]]) -> None:
        """Nothing beside the stored bytes: `refresh` reads them."""
