"""What the site asks of a search backend: the two seams, one per kind of search.

`search.backends` chooses the implementation of each from the database the site runs on, and
hands them out; the rest of the site types its search parts with these Protocols only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session, sessionmaker

from dailypapers.search.query import SearchFilters

if TYPE_CHECKING:
    import numpy as np


class KeywordSearch(Protocol):
    """Keyword search over the titles, abstracts and authors of the visible papers."""

    @property
    def generation(self) -> int:
        """Changes whenever this process sees new index contents (cached answers key on it)."""
        ...

    @property
    def rebuild_needed(self) -> bool:
        """Whether the index waits to be rebuilt from the papers table (by `sync`)."""
        ...

    def search(
        self,
        terms: list[str],
        *,
        limit: int,
        filters: SearchFilters | None = None,
        boosts: dict[str, float] | None = None,
    ) -> list[tuple[int, float]]:
        """(paper id, score) of the best matches of `terms` (from `query.query_terms`), best
        first. `boosts` weigh Tantivy's fields (the quality benchmark tunes them)."""
        ...

    def score_papers(self, terms: list[str], paper_ids: list[int]) -> dict[int, float]:
        """The keyword scores, on `search`'s scale, of those of `paper_ids` that match `terms`
        (hybrid search scores the papers found by meaning alone this way, to fuse scores)."""
        ...

    def word_weights(self, terms: list[str]) -> list[float]:
        """Each query word's inverse document frequency (BM25's form); a word no paper has gets
        the highest there is (BM25's at no paper), a word with nothing to index (no letters or
        digits the index keeps) 0. The relevance cut-off weighs a query's words by them."""
        ...

    def matched_words(self, terms: list[str], paper_ids: list[int]) -> dict[int, int]:
        """Which of `terms` each of `paper_ids` has (bit i for terms[i]); papers with none are
        left out."""
        ...

    def newest_in_category(self, category: str, limit: int) -> list[int]:
        """Paper ids of an arXiv category, newest publication first."""
        ...

    def __len__(self) -> int: ...

    def pending(self, session: Session) -> int:
        """Papers stored but not yet searchable (waiting for `sync`)."""
        ...

    def sync(
        self,
        sessions: sessionmaker[Session],
        *,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Index the papers waiting; returns how many were (re-)indexed, 0 when another process
        is at it. The job runner calls it every second, holding the lease "keyword-index"."""
        ...

    def reload(self) -> None:
        """See what another process indexed (each process, every second)."""
        ...

    def papers_stored(self, sessions: sessionmaker[Session], count: int) -> None:
        """`count` new papers were committed (`Site.papers_stored` calls this)."""
        ...

    def close(self) -> None: ...


class DenseSearch(Protocol):
    """The stored vectors of one embedding model, searched by cosine similarity."""

    model: str

    @property
    def loaded(self) -> bool:
        """Whether the first `refresh` has completed (searches wait for it)."""
        ...

    @property
    def generation(self) -> int:
        """Changes whenever the vectors searched change (cached answers key on it)."""
        ...

    @property
    def uses_ann(self) -> bool:
        """Whether searches go through an HNSW graph (else they are exact)."""
        ...

    def __len__(self) -> int: ...

    def refresh(self, session: Session) -> int:
        """Catch up with the stored vectors; returns how many were read."""
        ...

    def maintain_ann(
        self, sessions: sessionmaker[Session], folder: Path, *, min_vectors: int = ...
    ) -> None:
        """Keep the HNSW graph of a large corpus current (building it takes the lease
        "dense-ann"); nothing where the database keeps its own."""
        ...

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(paper id, cosine similarity) of the k nearest vectors, best first."""
        ...

    def similar(self, paper_id: int, k: int) -> list[tuple[int, float]]:
        """The k nearest to one paper's vector, that paper left out."""
        ...

    def vector_of(self, paper_id: int) -> np.ndarray | None: ...

    def store(self, session: Session, rows: Sequence[tuple[int, np.ndarray]]) -> None:
        """Keep this backend's copy of newly stored (paper id, vector) rows, in the caller's
        transaction (the bytes in `paper_embeddings` are written by `search.indexing`)."""
        ...
