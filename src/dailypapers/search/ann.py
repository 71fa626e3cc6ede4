"""Approximate nearest neighbours for large corpora: an HNSW graph (faiss) over 8-bit vectors.

Exact search (one matrix product) costs ~0.1 ms per thousand papers: 22 ms at 180k, 95 ms at a
million, against 4-6 ms for the graph at either size (docs/benchmarks.md). Above
`ANN_MIN_VECTORS` the dense index asks this graph for `ANN_CANDIDATES` candidates and re-scores
them exactly with the float32 vectors, so the 8-bit storage costs no precision in the final
order.

The graph is labelled with paper ids and saved to `<data_dir>/dense-ann/` with the largest
embedding row id it holds; a process that starts later loads it and adds only newer rows. A
re-embedded paper is added again under the same label (HNSW cannot remove); the duplicates are
merged when results are re-scored (delete the folder to have it built afresh without them).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import faiss
import numpy as np

ANN_MIN_VECTORS = 50_000  # below this, exact search is as fast
ANN_CANDIDATES = 100
# Measured at 1M vectors (docs/benchmarks.md): M = 16 gave recall@10 of 0.39-0.87 on the
# benchmark's vectors; M = 32 gives 0.931 with efSearch 256, 0.946 with 512 and 0.965 with 768
# (under 5 ms a query, run while the keyword index is searched).
HNSW_NEIGHBOURS = 32  # M: graph degree
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 768
TRAIN_SAMPLE = 50_000  # vectors used to fit the 8-bit quantiser


class AnnIndex:
    def __init__(self, dimension: int, index: Any = None, last_row_id: int = 0) -> None:
        if index is None:
            graph: Any = faiss.IndexHNSWSQ(
                dimension,
                faiss.ScalarQuantizer.QT_8bit,  # type: ignore[arg-type]  # an int in faiss
                HNSW_NEIGHBOURS,
                faiss.METRIC_INNER_PRODUCT,
            )
            graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index = faiss.IndexIDMap(graph)
        self._index: Any = index
        graph = faiss.downcast_index(index.index)
        graph.hnsw.efSearch = HNSW_EF_SEARCH  # type: ignore[attr-defined]
        self.last_row_id = last_row_id
        self._lock = threading.Lock()  # adds and searches must not overlap

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def trained(self) -> bool:
        return bool(self._index.is_trained)

    def add(self, paper_ids: np.ndarray, vectors: np.ndarray, last_row_id: int) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        with self._lock:
            if not self._index.is_trained:
                sample = vectors[: min(TRAIN_SAMPLE, len(vectors))]
                self._index.train(sample)
            self._index.add_with_ids(vectors, paper_ids.astype(np.int64))
            self.last_row_id = max(self.last_row_id, last_row_id)

    def search(self, query: np.ndarray, k: int) -> np.ndarray:
        """Paper ids of about the k nearest vectors (approximate order)."""
        with self._lock:
            _, labels = self._index.search(query.reshape(1, -1).astype(np.float32), k)
        return labels[0][labels[0] >= 0]

    # --- on disk ---------------------------------------------------------------------------
    def save(self, folder: Path, model: str) -> None:
        """Write atomically: a reader never sees half a file."""
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f"{model}.faiss.tmp"
        with self._lock:
            faiss.write_index(self._index, str(temporary))
            meta = {"last_row_id": self.last_row_id, "vectors": len(self)}
        os.replace(temporary, folder / f"{model}.faiss")
        (folder / f"{model}.json.tmp").write_text(json.dumps(meta))
        os.replace(folder / f"{model}.json.tmp", folder / f"{model}.json")

    @classmethod
    def load(cls, folder: Path, model: str, dimension: int) -> AnnIndex | None:
        try:
            meta = json.loads((folder / f"{model}.json").read_text())
            index = faiss.read_index(str(folder / f"{model}.faiss"))
        except (OSError, ValueError, RuntimeError):
            return None
        if index.d != dimension or index.ntotal != meta.get("vectors"):
            return None  # from another model, or the two files of different saves
        return cls(dimension, index, int(meta["last_row_id"]))
