"""The For you ranking model (`foryou/model.py`): pure, on real Hugging Face papers' text.

Near-duplicates (a paper's title and abstract, slightly reworded) stand in for "a paper very
like one the member saved": they must come first, point back at the saved paper, survive a
second profile, and sink when the member dismisses their twin.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pytest

from dailypapers.foryou.model import Candidates, Document, Pick, Profile, fit

DIMENSION = 16
TWIN_OFFSET = 1_000_000  # a near-duplicate's paper id: its original's plus this


def vector_of(row: dict[str, Any], noise: int = 0) -> np.ndarray:
    """A stand-in for a MiniLM vector: random per paper, a near-duplicate's close to it."""
    seed = zlib.crc32(row["arxiv_id"].encode())
    vector = np.random.default_rng(seed).standard_normal(DIMENSION)
    if noise:
        vector += 0.2 * np.random.default_rng(seed + noise).standard_normal(DIMENSION)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def document(row: dict[str, Any], number: int, *, vectors: bool) -> Document:
    text = f"{row['title']}\n{row['abstract']}"
    return Document(number, text, vector_of(row) if vectors else None)


def twin(row: dict[str, Any], number: int, *, vectors: bool) -> Document:
    """The paper reworded: a new title ending, its abstract's last sentence dropped."""
    sentences = row["abstract"].split(". ")
    abstract = ". ".join(sentences[:-1]) if len(sentences) > 2 else row["abstract"]
    text = f"{row['title']}: an extended study\n{abstract}"
    return Document(number + TWIN_OFFSET, text, vector_of(row, noise=1) if vectors else None)


@pytest.fixture(scope="module")
def rows(hf_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """400 real papers with long abstracts and distinct titles, spread over the file."""
    chosen: list[dict[str, Any]] = []
    titles: set[str] = set()
    for row in hf_rows[::25]:
        abstract = row.get("abstract") or ""
        if len(abstract.split(". ")) > 3 and row["title"].lower() not in titles:
            titles.add(row["title"].lower())
            chosen.append(row)
    assert len(chosen) >= 400
    return chosen[:400]


def world(
    rows: list[dict[str, Any]], twins_of: list[int], *, vectors: bool = True
) -> tuple[Candidates, list[Document]]:
    """Candidates: papers 100.. of `rows` plus the twins of the papers numbered in
    `twins_of` (which are among 0..99, the papers a member may have saved)."""
    papers = [document(row, i, vectors=vectors) for i, row in enumerate(rows)]
    candidates = papers[100:] + [twin(rows[i], i, vectors=vectors) for i in twins_of]
    return Candidates(candidates), papers


def ids(picks: list[Pick]) -> list[int]:
    return [pick.paper_id for pick in picks]


@pytest.mark.parametrize("vectors", [True, False], ids=["with vectors", "vector=None"])
def test_a_profiles_near_duplicates_rank_first_and_say_whom_they_are_like(
    rows: list[dict[str, Any]], vectors: bool
) -> None:
    saved = [3, 17, 42]
    candidates, papers = world(rows, saved, vectors=vectors)
    model = fit(candidates, [Profile("upvotes", "your upvotes", tuple(papers[i] for i in saved))])
    picks = model.rank()

    assert len(picks) == len(candidates)
    assert set(ids(picks[:3])) == {i + TWIN_OFFSET for i in saved}
    for pick in picks[:3]:
        assert pick.profile == "upvotes"
        assert pick.like == pick.paper_id - TWIN_OFFSET
    scores = [pick.score for pick in picks]
    assert scores == sorted(scores, reverse=True)
    assert picks[2].score > picks[3].score


def test_like_points_at_the_most_similar_paper_of_the_profile(rows: list[dict[str, Any]]) -> None:
    saved = list(range(0, 60, 3))
    candidates, papers = world(rows, saved)
    model = fit(candidates, [Profile("collection:1", "your list", tuple(papers[i] for i in saved))])
    twins = [pick for pick in model.rank() if pick.paper_id >= TWIN_OFFSET]
    assert {pick.like for pick in twins} == set(saved)
    assert all(pick.like == pick.paper_id - TWIN_OFFSET for pick in twins)


def test_two_profiles_are_both_in_the_top_of_the_mixed_list(rows: list[dict[str, Any]]) -> None:
    big = list(range(0, 80))  # a big profile: 80 papers, 10 of them with twins
    small = [90, 95]  # a small one: 2 papers, both with twins
    candidates, papers = world(rows, [*big[:10], *small])
    profiles = [
        Profile("upvotes", "your upvotes", tuple(papers[i] for i in big)),
        Profile("collection:7", "your collection Niche", tuple(papers[i] for i in small)),
    ]
    model = fit(candidates, profiles)

    top = model.rank()[:12]
    assert {pick.profile for pick in top} == {"upvotes", "collection:7"}
    assert {i + TWIN_OFFSET for i in small} <= set(ids(top))
    small_alone = model.rank("collection:7")
    assert set(ids(small_alone[:2])) == {i + TWIN_OFFSET for i in small}
    assert all(pick.profile == "collection:7" for pick in small_alone)
    # Each profile's own ranking is what it would be fitted alone.
    alone = fit(candidates, profiles[1:])
    assert ids(alone.rank()) == ids(small_alone)


@pytest.mark.parametrize("vectors", [True, False], ids=["with vectors", "vector=None"])
def test_a_dismissed_papers_near_neighbours_drop(rows: list[dict[str, Any]], vectors: bool) -> None:
    saved = [5, 6, 7, 8]
    candidates, papers = world(rows, saved, vectors=vectors)
    # A second near copy of paper 6 among the candidates (reworded another way).
    copy = twin(rows[6], 6 + TWIN_OFFSET, vectors=vectors)
    copy = Document(copy.paper_id, copy.text.replace("extended study", "overview"), copy.vector)
    everything = Candidates([*(document_of(candidates, papers, rows, vectors)), copy])
    profile = Profile("upvotes", "your upvotes", tuple(papers[i] for i in saved))
    before = ids(fit(everything, [profile]).rank())
    first_twin, second_twin = 6 + TWIN_OFFSET, copy.paper_id
    assert before.index(first_twin) < 5 and before.index(second_twin) < 5

    # The member is not interested in one copy: the other, alike, drops below the other
    # saved papers' twins and far from where it was; the dismissed one is gone.
    dismissed = twin(rows[6], 6, vectors=vectors)
    assert dismissed.paper_id == first_twin
    after = ids(fit(everything, [profile], [dismissed]).rank())
    assert first_twin not in after
    others = {i + TWIN_OFFSET for i in saved if i != 6}
    assert set(after[:3]) == others
    assert after.index(second_twin) > before.index(second_twin) + 10


def document_of(
    candidates: Candidates, papers: list[Document], rows: list[dict[str, Any]], vectors: bool
) -> list[Document]:
    """The documents `world` made the candidates from, again."""
    by_id = {document.paper_id: document for document in papers}
    return [
        by_id[pid]
        if pid < TWIN_OFFSET
        else twin(rows[pid - TWIN_OFFSET], pid - TWIN_OFFSET, vectors=vectors)
        for pid in candidates.paper_ids
    ]


def test_own_and_excluded_papers_are_not_picks(rows: list[dict[str, Any]]) -> None:
    candidates, papers = world(rows, [1, 2])
    # The member's profile holds candidates too (papers they saved from the recent days).
    among = [Document(pid, "", None) for pid in candidates.paper_ids[:5]]
    model = fit(candidates, [Profile("upvotes", "your upvotes", (papers[1], papers[2], *among))])
    excluded = {1 + TWIN_OFFSET, candidates.paper_ids[10]}
    picks = ids(model.rank(exclude=excluded))
    assert not excluded & set(picks)
    assert not {document.paper_id for document in among} & set(picks)
    assert len(picks) == len(candidates) - len(among) - len(excluded)
    assert picks[0] == 2 + TWIN_OFFSET


def test_candidates_with_and_without_vectors_mix(rows: list[dict[str, Any]]) -> None:
    saved = [10, 11]
    candidates, papers = world(rows, saved)
    # Drop the vectors of half the candidates, one twin included.
    documents = [
        Document(pid, text, None if row % 2 else vector)
        for row, (pid, text, vector) in enumerate(
            (d.paper_id, d.text, d.vector) for d in _documents(rows, saved)
        )
    ]
    mixed = Candidates(documents)
    model = fit(mixed, [Profile("upvotes", "your upvotes", tuple(papers[i] for i in saved))])
    assert set(ids(model.rank()[:2])) == {i + TWIN_OFFSET for i in saved}
    assert len(model.rank()) == len(candidates)


def _documents(rows: list[dict[str, Any]], twins_of: list[int]) -> list[Document]:
    papers = [document(row, i, vectors=True) for i, row in enumerate(rows)]
    return papers[100:] + [twin(rows[i], i, vectors=True) for i in twins_of]


def test_no_profiles_keeps_the_candidates_order(rows: list[dict[str, Any]]) -> None:
    candidates, papers = world(rows, [])
    model = fit(candidates, [])
    picks = model.rank()
    assert ids(picks) == candidates.paper_ids
    assert all(pick.score == 0.0 and pick.like is None and pick.profile == "" for pick in picks)
    with pytest.raises(KeyError):
        model.rank("upvotes")


def test_an_empty_profile_ranks_nothing_but_is_known(rows: list[dict[str, Any]]) -> None:
    candidates, papers = world(rows, [4])
    profiles = [
        Profile("upvotes", "your upvotes", (papers[4],)),
        Profile("collection:3", "your collection Empty", ()),
    ]
    model = fit(candidates, profiles)
    assert model.profiles == ["upvotes", "collection:3"]
    empty = model.rank("collection:3")
    assert ids(empty) == [pid for pid in candidates.paper_ids]
    assert {pick.profile for pick in empty} == {"collection:3"}
    assert model.rank()[0].paper_id == 4 + TWIN_OFFSET
    with pytest.raises(KeyError):
        model.rank("collection:4")


def test_no_candidates_and_texts_without_words() -> None:
    nothing = Candidates([])
    assert len(nothing) == 0
    assert fit(nothing, [Profile("upvotes", "u", (Document(1, "a paper", None),))]).rank() == []
    wordless = Candidates([Document(1, "the of and", None), Document(2, "", None)])
    model = fit(wordless, [Profile("upvotes", "u", (Document(3, "a", None),))])
    assert sorted(ids(model.rank())) == [1, 2]
