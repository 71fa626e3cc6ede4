"""Fusing the keyword and dense rankings of a search into one.

Search fuses the two rankings' *scores* (`fuse_scores`): each candidate's keyword score as a
share of the best keyword score among the candidates, and its cosine similarity to the query,
weighed together:

    fused(paper) = (1 - DENSE_SHARE) * keyword(paper) / best keyword + DENSE_SHARE * cosine(paper)

A paper that the keyword side did not score has keyword score 0; one the dense side did not
list (it lists the nearest CANDIDATES) is given the lowest similarity it listed, an upper bound
of its own. Unlike reciprocal ranks, scores keep how far apart the candidates are: a paper far
ahead on one side stays ahead. Tuned on the SciFact train split with
bench/bench_search_quality.py (nDCG@10 0.726 -> 0.741 on SQLite, 0.697 -> 0.743 on PostgreSQL,
against reciprocal ranks; the grid is in docs/benchmarks.md) and checked on held-out sets built
from the bundled arXiv corpus (bench/bench_search_heldout.py), where it also beats both parts
and reciprocal ranks.

`fuse` (reciprocal rank fusion) stays for rankings that carry no comparable scores:

    fused(paper) = KEYWORD_WEIGHT / (RRF_K + keyword_rank) + DENSE_WEIGHT / (RRF_K + dense_rank)

(ranks from 1; a ranking that misses the paper adds nothing).
"""

from __future__ import annotations

RRF_K = 10  # reciprocal ranks: k=60, the usual default, gave 0.726 on SciFact, k=10 0.727
KEYWORD_WEIGHT = 1.0
DENSE_WEIGHT = 1.0  # of reciprocal ranks
DENSE_SHARE = 0.7  # of fused scores: the weight of the cosine similarity (SciFact grid)
CANDIDATES = 100  # taken from each ranking before fusing
# The nearest papers by meaning that are given their keyword scores when the keyword search did
# not rank them (one bounded query: on PostgreSQL most of the nearest are outside its bounded
# candidate sets). SciFact on PostgreSQL, nDCG@10: 0 -> 0.694, 30 -> 0.740, 100 -> 0.743.
SCORED_NEAREST = 100


def fuse(
    keyword: list[int],
    dense: list[int],
    *,
    keyword_weight: float = KEYWORD_WEIGHT,
    dense_weight: float = DENSE_WEIGHT,
    k: int = RRF_K,
) -> list[tuple[int, float]]:
    """Paper ids by reciprocal rank fusion, best first (ties: better keyword rank, then id)."""
    scores: dict[int, float] = {}
    for weight, ranking in ((keyword_weight, keyword), (dense_weight, dense)):
        for rank, paper_id in enumerate(ranking, start=1):
            scores[paper_id] = scores.get(paper_id, 0.0) + weight / (k + rank)
    keyword_rank = {paper_id: rank for rank, paper_id in enumerate(keyword)}
    return sorted(
        scores.items(),
        key=lambda item: (-item[1], keyword_rank.get(item[0], len(keyword)), item[0]),
    )


def fuse_scores(
    keyword: dict[int, float],
    dense: list[tuple[int, float]],
    *,
    dense_share: float = DENSE_SHARE,
) -> list[tuple[int, float]]:
    """(paper id, fused score) of every paper in either ranking, best first (ties: the higher
    keyword score, then id).

    `keyword`: keyword scores (BM25 or the like, higher is better, 0 or absent for no match);
    `dense`: (paper id, cosine similarity) of the nearest papers, best first."""
    best = max(keyword.values(), default=0.0)
    words = 1.0 / best if best > 0 else 0.0
    listed = dict(dense)
    floor = min(listed.values(), default=0.0)  # papers beyond the dense list are at most this
    fused = {
        paper_id: (1.0 - dense_share) * keyword.get(paper_id, 0.0) * words
        + dense_share * listed.get(paper_id, floor)
        for paper_id in {**keyword, **listed}
    }
    return sorted(fused.items(), key=lambda item: (-item[1], -keyword.get(item[0], 0.0), item[0]))
