"""Hybrid search fuses keyword scores and cosine similarities (`fusion.fuse_scores`), after
giving the papers found by meaning alone their keyword scores (`KeywordSearch.score_papers`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dailypapers.papers.importing import load_file
from dailypapers.search.fusion import DENSE_SHARE, fuse_scores
from dailypapers.search.keyword_tantivy import MASK_WORDS, TantivyKeywordIndex
from dailypapers.search.query import idf
from dailypapers.search.service import (
    DENSE_MATCH_SIMILARITY,
    KEYWORD_MATCH_SHARE,
    NEAR_MATCH_SHARE,
    NEAR_SIMILARITY,
    hybrid_ranking,
    is_match,
    word_shares,
)

from .conftest import make_settings, prepare_database


def expected(
    keyword: dict[int, float], dense: list[tuple[int, float]], share: float
) -> dict[int, float]:
    """The formula of the module doc, written out."""
    best = max(keyword.values())
    floor = min(similarity for _, similarity in dense)
    cosine = dict(dense)
    return {
        paper_id: (1 - share) * keyword.get(paper_id, 0.0) / best
        + share * cosine.get(paper_id, floor)
        for paper_id in set(keyword) | set(cosine)
    }


def test_scores_are_fused_as_shares_of_the_best_keyword_score_and_cosines() -> None:
    keyword = {1: 12.0, 2: 6.0, 3: 3.0}
    dense = [(3, 0.9), (4, 0.8), (2, 0.5)]
    fused = fuse_scores(keyword, dense)
    want = expected(keyword, dense, DENSE_SHARE)
    assert [paper_id for paper_id, _ in fused] == sorted(want, key=lambda p: -want[p])
    for paper_id, score in fused:
        assert score == pytest.approx(want[paper_id])
    # Paper 1 (best by keyword, beyond the dense list: given its lowest similarity) against
    # paper 3 (nearest, a quarter of the best keyword score): which wins follows the share.
    ahead = {
        share: [p for p, _ in fuse_scores(keyword, dense, dense_share=share)].index(1)
        < [p for p, _ in fuse_scores(keyword, dense, dense_share=share)].index(3)
        for share in (0.1, 0.9)
    }
    assert ahead == {0.1: True, 0.9: False}


def test_one_side_alone_keeps_its_order() -> None:
    assert [p for p, _ in fuse_scores({5: 1.0, 6: 2.0}, [])] == [6, 5]
    assert [p for p, _ in fuse_scores({}, [(7, 0.3), (8, 0.6)])] == [8, 7]
    assert fuse_scores({}, []) == []
    # Equal fused scores: the higher keyword score first, then the lower id.
    assert [p for p, _ in fuse_scores({9: 1.0, 10: 1.0}, [], dense_share=0.5)] == [9, 10]


@pytest.fixture
def keyword(tmp_path: Path) -> TantivyKeywordIndex:
    """40 papers: "graph" in every title, "kernel" in the abstracts of every fifth."""
    settings = make_settings(tmp_path)
    _engine, factory = prepare_database(settings)
    source = tmp_path / "papers.jsonl"
    source.write_text(
        "".join(
            json.dumps(
                {
                    "arxiv_id": f"2601.{i:05d}",
                    "title": f"Graph study {i}",
                    "abstract": "A kernel method." if i % 5 == 0 else "Nothing more.",
                }
            )
            + "\n"
            for i in range(1, 41)
        )  # fmt: skip
    )
    load_file(factory, source, settings.zone)
    index = TantivyKeywordIndex(settings.keyword_index_dir, factory)
    index.sync(factory)
    return index


def test_tantivy_scores_the_papers_asked_for_as_search_does(keyword: TantivyKeywordIndex) -> None:
    every = dict(keyword.search(["kernel", "graph"], limit=100))
    top = keyword.search(["kernel", "graph"], limit=3)
    beyond = [paper_id for paper_id in every if paper_id not in dict(top)]
    scores = keyword.score_papers(["kernel", "graph"], beyond[:5])
    assert set(scores) == set(beyond[:5])
    for paper_id, score in scores.items():
        assert score == pytest.approx(every[paper_id])
    # No paper has "quantum": nothing to score; no terms or no papers: nothing asked.
    assert keyword.score_papers(["quantum"], beyond) == {}
    assert keyword.score_papers([], beyond) == {} and keyword.score_papers(["graph"], []) == {}


def test_hybrid_ranking_scores_papers_found_by_meaning_alone(
    keyword: TantivyKeywordIndex,
) -> None:
    """A paper found by meaning alone gets its keyword score (so a kernel paper ranks by it);
    one without the words stays only when near enough."""
    terms = ["kernel"]
    by_words = keyword.search(terms, limit=2)  # two of the eight kernel papers
    every = dict(keyword.search(terms, limit=100))
    missed = next(paper_id for paper_id in every if paper_id not in dict(by_words))
    wordless = next(paper_id for paper_id in range(1, 41) if paper_id not in every)
    by_meaning = [
        (wordless, DENSE_MATCH_SIMILARITY - 0.01),
        (missed, DENSE_MATCH_SIMILARITY - 0.02),
    ]
    fused = dict(hybrid_ranking(keyword, terms, by_words, by_meaning))
    scores = dict(by_words) | {missed: every[missed]}
    assert fused.keys() == scores.keys()  # the wordless paper is not near enough
    assert fused == pytest.approx(
        {p: s for p, s in expected(scores, by_meaning, DENSE_SHARE).items() if p in scores}
    )
    near = [(wordless, DENSE_MATCH_SIMILARITY + 0.1)]
    assert wordless in dict(hybrid_ranking(keyword, terms, by_words, near))


# --- the keyword cut-off: a match has the query's informative words ---------------------------
def test_word_weights_are_idf_and_a_word_no_paper_has_weighs_most(
    keyword: TantivyKeywordIndex,
) -> None:
    graph, kernel, quantum, overlong = keyword.word_weights(
        ["graph", "kernel", "quantum", "x" * 50]
    )
    assert graph == pytest.approx(idf(40, 40)) and kernel == pytest.approx(idf(8, 40))
    assert quantum == pytest.approx(idf(0, 40)) and quantum > kernel > graph > 0
    assert overlong == 0.0  # the analyzer drops words over 40 letters: nothing to weigh


def test_matched_words_tells_each_papers_words_apart_past_one_search(
    keyword: TantivyKeywordIndex,
) -> None:
    filler = [f"absent{i}" for i in range(MASK_WORDS + 5)]
    terms = ["kernel", *filler, "graph"]  # "graph" beyond the first search's words
    kernels = {p for p, _ in keyword.search(["kernel"], limit=100)}
    matched = keyword.matched_words(terms, list(range(1, 41)))
    last = 1 << (len(terms) - 1)
    assert matched == {p: last | (1 if p in kernels else 0) for p in range(1, 41)}
    assert keyword.matched_words(["quantum"], list(range(1, 41))) == {}
    assert keyword.matched_words([], [1]) == {} and keyword.matched_words(["graph"], []) == {}


def test_a_keyword_match_needs_the_querys_informative_words(
    keyword: TantivyKeywordIndex,
) -> None:
    terms = ["kernel", "graph"]
    found = keyword.search(terms, limit=100)
    shares = word_shares(keyword, terms, [p for p, _ in found])
    kernels = {p for p, _ in keyword.search(["kernel"], limit=100)}
    assert len(found) == 40 and len(kernels) == 8
    for paper_id, _ in found:  # "graph" is in every title: it says nothing
        assert (shares[paper_id] >= KEYWORD_MATCH_SHARE) == (paper_id in kernels)
        assert is_match(0.0, shares[paper_id]) == (paper_id in kernels)
    # a paper with a small share is a match when near enough in meaning too, or near enough alone
    assert not is_match(NEAR_SIMILARITY, NEAR_MATCH_SHARE - 0.01)
    assert is_match(NEAR_SIMILARITY, NEAR_MATCH_SHARE)
    assert is_match(DENSE_MATCH_SIMILARITY, 0.0)
    # hybrid: the graph-only papers drop out, unless near in meaning
    graph_only = next(p for p, _ in found if p not in kernels)
    fused = dict(hybrid_ranking(keyword, terms, found, [(graph_only, NEAR_SIMILARITY - 0.01)]))
    assert set(fused) == kernels
    near = dict(hybrid_ranking(keyword, terms, found, [(graph_only, DENSE_MATCH_SIMILARITY)]))
    assert set(near) == kernels | {graph_only}
    # a word no paper has weighs most: "kernel" beside it is not enough
    assert max(word_shares(keyword, ["kernel", "quantum"], list(kernels)).values()) < (
        KEYWORD_MATCH_SHARE
    )
