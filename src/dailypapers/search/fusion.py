"""Reciprocal rank fusion of the keyword and dense rankings, with named weights.

    fused(paper) = KEYWORD_WEIGHT / (RRF_K + keyword_rank) + DENSE_WEIGHT / (RRF_K + dense_rank)

(ranks from 1; a ranking that misses the paper adds nothing). Tuned on the SciFact train split
with bench/bench_search_quality.py; the figures are in docs/benchmarks.md.
"""

from __future__ import annotations

RRF_K = 10  # tuned: see the grid in docs/benchmarks.md (k=60, the usual default, gave 0.726)
KEYWORD_WEIGHT = 1.0
DENSE_WEIGHT = 1.0
CANDIDATES = 100  # taken from each ranking before fusing


def fuse(
    keyword: list[int],
    dense: list[int],
    *,
    keyword_weight: float = KEYWORD_WEIGHT,
    dense_weight: float = DENSE_WEIGHT,
    k: int = RRF_K,
) -> list[tuple[int, float]]:
    """Paper ids by fused score, best first (ties: better keyword rank, then id)."""
    scores: dict[int, float] = {}
    for weight, ranking in ((keyword_weight, keyword), (dense_weight, dense)):
        for rank, paper_id in enumerate(ranking, start=1):
            scores[paper_id] = scores.get(paper_id, 0.0) + weight / (k + rank)
    keyword_rank = {paper_id: rank for rank, paper_id in enumerate(keyword)}
    return sorted(
        scores.items(),
        key=lambda item: (-item[1], keyword_rank.get(item[0], len(keyword)), item[0]),
    )
