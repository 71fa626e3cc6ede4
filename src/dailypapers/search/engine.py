"""The search engine of one process: the embedder, the dense index and their upkeep.

The web app starts one at start-up. It serves at once: until the dense index has loaded (and
while the query embedding is slower than its time budget), searches use keyword results only.
A background thread keeps the dense index current and, on the embedded default, embeds new
papers itself; a lock file makes sure only one process on the machine does that work.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from dailypapers.search.indexing import IndexCounts, index_papers
from dailypapers.search.vectors import DenseIndex
from dailypapers.search.vectors_pg import PgVectorIndex, has_pgvector

log = logging.getLogger(__name__)

QUERY_EMBEDDING_BUDGET_SECONDS = 0.25
REFRESH_SECONDS = 5.0


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


class SearchEngine:
    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        embed_in_background: bool = False,
        lock_path: Path | None = None,
        ann_folder: Path | None = None,
        budget_seconds: float = QUERY_EMBEDDING_BUDGET_SECONDS,
    ) -> None:
        from dailypapers.search.embedder import Embedder

        self.factory = factory
        self.embedder = Embedder.load(threads=1)
        engine = factory.kw["bind"]
        self.dense: DenseIndex | PgVectorIndex = (
            PgVectorIndex(engine, self.embedder.model_name)
            if has_pgvector(engine)
            else DenseIndex(self.embedder.model_name, self.embedder.dimension)
        )
        self.budget_seconds = budget_seconds
        self.embed_in_background = embed_in_background
        self.lock_path = lock_path
        self.ann_folder = ann_folder  # where the HNSW graph of a large corpus is kept
        self._queries = ThreadPoolExecutor(max_workers=2, thread_name_prefix="query-embed")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- serving -------------------------------------------------------------------------
    def start_dense_search(self, text: str, k: int) -> DenseQuery:
        """Embed the query and search the dense index on another thread. The model, faiss and
        the keyword index all release the interpreter lock, so keyword search runs meanwhile."""

        def run() -> list[tuple[int, float]]:
            return self.dense.search(self.embedder.embed([text])[0], k)

        return DenseQuery(self._queries.submit(run), time.monotonic() + self.budget_seconds)

    @property
    def dense_ready(self) -> bool:
        return self.dense.loaded and self.dense.generation > 0

    # --- upkeep ----------------------------------------------------------------------------
    def refresh(self) -> int:
        with self.factory() as session:
            return self.dense.refresh(session)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._upkeep, name="search-upkeep", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._queries.shutdown(wait=False, cancel_futures=True)

    def _upkeep(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
                if self.ann_folder is not None:
                    self.dense.maintain_ann(self.ann_folder)
                if self.embed_in_background:
                    self._embed_pending()
            except Exception:  # keep serving; the next round tries again
                log.exception("search upkeep failed")
            self._stop.wait(REFRESH_SECONDS)

    def _after_batch(self, counts: IndexCounts) -> None:
        self.refresh()  # this process searches the new vectors at once

    def _embed_pending(self) -> None:
        if self.lock_path is None:
            return
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock_path.open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # another process on this machine is embedding
            counts = index_papers(
                self.factory,
                self.embedder,
                on_batch=self._after_batch,
                should_stop=self._stop.is_set,
            )
            if counts.embedded:
                log.info("embedded %d papers (%.1f/s)", counts.embedded, counts.papers_per_second)
