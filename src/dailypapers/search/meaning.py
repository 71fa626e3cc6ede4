"""Search by meaning, for one process: the embedder, the dense index and a query's time budget.

A search embeds its query and searches the dense index on another thread while the keyword
index is searched; until the dense index has loaded (and whenever the query's embedding is
slower than its budget) searches use keyword results alone. Hidden papers are left out of
dense results here, the same for both dense backends (`protocols.DenseSearch`).

Keeping it current is the job runner's: `refresh` (new vectors) and `maintain_ann` (the HNSW
graph of a large corpus) in each process; embedding new papers is `search.indexing`'s.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.search.protocols import DenseSearch

if TYPE_CHECKING:
    from dailypapers.search.embedder import Embedder  # imported when search by meaning is on

log = logging.getLogger(__name__)

QUERY_EMBEDDING_BUDGET_SECONDS = 0.25
# Plain SQL, compiled once: 0.4 ms for 100 ids on SQLite, in the thread beside keyword search.
_HIDDEN = text("SELECT id FROM papers WHERE hidden AND id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)


@dataclass(slots=True)
class DenseQuery:
    """A query being embedded and searched in the dense index, on another thread."""

    future: Future[list[tuple[int, float]]]
    deadline: float

    def result(self) -> list[tuple[int, float]] | None:
        """(paper id, similarity) best first, or None if not ready by the deadline (the budget)."""
        try:
            return self.future.result(timeout=max(self.deadline - time.monotonic(), 0.0))
        except FutureTimeout:
            log.warning("query embedding and dense search over their time budget")
            return None


class MeaningSearch:
    """One process's search by meaning (built by `search.backends.open_meaning_search`)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        embedder: Embedder,
        dense: DenseSearch,
        *,
        ann_folder: Path | None = None,
        budget_seconds: float = QUERY_EMBEDDING_BUDGET_SECONDS,
    ) -> None:
        self.sessions = sessions
        self.embedder = embedder
        self.dense = dense
        self.ann_folder = ann_folder  # where the HNSW graph of a large corpus is kept
        self.budget_seconds = budget_seconds
        self._queries = ThreadPoolExecutor(max_workers=2, thread_name_prefix="query-embed")

    # --- serving -------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """Whether the dense index holds vectors to search."""
        return self.dense.loaded and self.dense.generation > 0

    def start_search(self, text: str, k: int) -> DenseQuery:
        """Embed the query and search the dense index on another thread. The model, faiss and
        the keyword index all release the interpreter lock, so keyword search runs meanwhile."""

        def run() -> list[tuple[int, float]]:
            return self._visible(self.dense.search(self.embedder.embed([text])[0], k))

        return DenseQuery(self._queries.submit(run), time.monotonic() + self.budget_seconds)

    def similar(self, paper_id: int, k: int) -> list[tuple[int, float]]:
        """The `k` visible papers nearest in meaning to one paper (none until it has a vector)."""
        asked = k
        while True:
            hits = self.dense.similar(paper_id, asked)
            visible = self._visible(hits)
            if len(visible) >= k or len(hits) < asked:
                return visible[:k]
            asked += len(hits) - len(visible)  # as many more as were hidden

    def _visible(self, hits: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """`hits` without the hidden papers (the vectors of a hidden paper are kept)."""
        if not hits:
            return hits
        with self.sessions() as session:
            hidden = set(session.scalars(_HIDDEN, {"ids": [paper_id for paper_id, _ in hits]}))
        return [hit for hit in hits if hit[0] not in hidden] if hidden else hits

    # --- for /healthz and cached answers --------------------------------------------------
    @property
    def generation(self) -> int:
        """Changes whenever the vectors searched change (cached answers key on it)."""
        return self.dense.generation

    @property
    def uses_ann(self) -> bool:
        return self.dense.uses_ann

    def __len__(self) -> int:
        return len(self.dense)

    # --- upkeep, run by the job runner ----------------------------------------------------
    def refresh(self) -> int:
        """Read the vectors stored since the last refresh; returns how many were read."""
        with self.sessions() as session:
            return self.dense.refresh(session)

    def maintain_ann(self) -> None:
        """Load, build or extend the HNSW graph of a large corpus (where vectors are held in
        memory); the build and save take the database lease "dense-ann"."""
        if self.ann_folder is not None:
            self.dense.maintain_ann(self.sessions, self.ann_folder)

    def close(self) -> None:
        self._queries.shutdown(wait=False, cancel_futures=True)
