"""Keyword search on PostgreSQL ranks bounded candidate sets without losing the best matches."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.orm import sessionmaker

from dailypapers.papers.models import Paper
from dailypapers.search import keyword_pg
from dailypapers.search.keyword_pg import PostgresKeywordIndex

from .conftest import fresh_database_url, make_settings, prepare_database

PAPERS = 3_000


def paper(paper_id: int, title: str, abstract: str = "A paper.") -> dict[str, object]:
    return {"id": paper_id, "arxiv_id": f"2601.{paper_id:05d}", "title": title,
            "abstract": abstract, "authors": [], "categories": []}  # fmt: skip


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PostgresKeywordIndex:
    """3,000 papers: "alpha" in the titles of the first half, "beta" in the second; paper 700
    is the only one with both; "omega" is in 40 abstracts; the newest paper says "alpha" three
    times. Each common word matches more papers than the bounds rank. Words count as common
    (never listed from the index) from 2,900 papers here, the newest 500 are the window."""
    monkeypatch.setattr(keyword_pg, "COMMON_WINDOW", 500)
    monkeypatch.setattr(keyword_pg, "COMMON_MATCHES", 2_900)
    settings = make_settings(tmp_path, database_url=fresh_database_url())
    engine, factory = prepare_database(settings)
    rows = [
        paper(i, f"{'alpha' if i <= PAPERS // 2 else 'beta'} study number {i}",
              f"We measure omega {i % 7} times." if i % 75 == 0 else "Nothing else.")
        for i in range(1, PAPERS + 1)
    ]  # fmt: skip
    rows[699]["title"] = "alpha meets beta"
    rows.append(paper(PAPERS + 1, "alpha, alpha and alpha again"))
    with factory() as session, session.begin():
        session.execute(insert(Paper), rows)
    return PostgresKeywordIndex(engine)


def every_match_ranked(index: PostgresKeywordIndex, words: list[str]) -> list[int]:
    query = " || ".join(f"plainto_tsquery('english', '{word}')" for word in words)
    with index.engine.connect() as connection:
        return list(connection.scalars(text(
            f"SELECT id FROM papers WHERE search_vector @@ ({query}) "
            f"ORDER BY ts_rank('{keyword_pg.WEIGHTS}', search_vector, {query}) DESC, id DESC"
        )))  # fmt: skip


def test_the_paper_with_every_word_comes_first(index: PostgresKeywordIndex) -> None:
    assert len(every_match_ranked(index, ["alpha"])) > keyword_pg.CANDIDATES
    assert index.search(["alpha", "beta"], limit=5)[0][0] == 700


def analyse(index: PostgresKeywordIndex) -> None:
    with index.engine.begin() as connection:
        connection.execute(text("ANALYZE papers"))


def test_a_stray_word_does_not_hide_the_papers_with_all_the_others(
    index: PostgresKeywordIndex,
) -> None:
    analyse(index)  # the statistics tell that "zebra" is the rarest word (in no paper)
    assert index.search(["alpha", "zebra", "beta"], limit=5)[0][0] == 700


def test_the_newest_papers_are_always_ranked(index: PostgresKeywordIndex) -> None:
    assert index.search(["alpha"], limit=5)[0][0] == PAPERS + 1
    analyse(index)  # "alpha" is now known to be rare here (1,501 < 2,900 papers): the index
    assert index.search(["alpha"], limit=5)[0][0] == PAPERS + 1  # lists the newest with it


def test_within_the_bounds_the_ranking_is_exact(index: PostgresKeywordIndex) -> None:
    found = index.search(["omega"], limit=100)
    assert [paper_id for paper_id, _ in found] == every_match_ranked(index, ["omega"])
    assert len(found) == PAPERS // 75
    assert index.search(["the", "of"], limit=10) == []  # stop words only: nothing to match
    assert index.search(["omega"], limit=3, filters=None)[0][1] > 0


def test_rarer_words_weigh_more_once_analysed(index: PostgresKeywordIndex) -> None:
    analyse(index)
    found = [paper_id for paper_id, _ in index.search(["alpha", "omega"], limit=60)]
    omega = {i for i in range(75, PAPERS + 1, 75)}
    # Both words first; then "omega", in 40 abstracts, above "alpha", in 1,501 titles.
    assert set(found[:20]) == {i for i in omega if i <= PAPERS // 2}
    assert set(found[20:40]) == {i for i in omega if i > PAPERS // 2}
    assert not set(found[40:]) & omega
    assert 0.0 < index.statistics.idf(["alpha"]) < index.statistics.idf(["omega"])


def test_common_words_are_looked_for_among_the_newest_papers_only(
    index: PostgresKeywordIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyword_pg, "COMMON_MATCHES", 60)  # "alpha" is in half the papers
    analyse(index)
    found = [paper_id for paper_id, _ in index.search(["alpha"], limit=100)]
    assert found[0] == PAPERS + 1 and min(found) > PAPERS + 1 - 500
    # A rare word is still found wherever it is.
    assert {paper_id for paper_id, _ in index.search(["alpha", "omega"], limit=100)} >= {75, 150}


def test_papers_stored_refresh_the_statistics_when_missing_or_after_a_large_load(
    index: PostgresKeywordIndex,
) -> None:
    """What `Site.papers_stored` asks of PostgreSQL after a load, a harvest or an import."""

    def analyses() -> int:
        with index.engine.connect() as connection:
            return int(connection.execute(text(
                "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'papers'"
            )).scalar_one())  # fmt: skip

    sessions = sessionmaker(index.engine)
    index.papers_stored(sessions, 1)  # never analysed: now
    assert analyses() == 1 and index.statistics.idf(["alpha"]) < index.statistics.idf(["omega"])
    index.papers_stored(sessions, 1)  # a few papers: autovacuum will see to them
    assert analyses() == 1
    index.papers_stored(sessions, 400)  # over a tenth of the papers: now
    assert analyses() == 2


def test_score_papers_scores_any_paper_as_search_would(
    index: PostgresKeywordIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hybrid search asks for the keyword scores of the papers found by meaning alone: a paper
    beyond the bounds of `search` gets the score `search` gives it when every match is ranked;
    a paper without the words gets none, and neither does a hidden one."""
    analyse(index)
    with monkeypatch.context() as patch:
        patch.setattr(keyword_pg, "CANDIDATES", 10**6)
        patch.setattr(keyword_pg, "WORD_CANDIDATES", 10**6)
        every = dict(index.search(["alpha", "omega"], limit=PAPERS + 1))
    bounded = {paper_id for paper_id, _ in index.search(["alpha", "omega"], limit=PAPERS + 1)}
    beyond = sorted(set(every) - bounded)
    assert beyond  # the bounds leave some matches of "alpha" out
    asked = [beyond[0], 75, 700, PAPERS]  # PAPERS: a "beta" paper with no "omega"
    scores = index.score_papers(["alpha", "omega"], asked)
    assert set(scores) == {paper_id for paper_id in asked if paper_id in every}
    for paper_id, score in scores.items():
        assert score == pytest.approx(every[paper_id])
    with index.engine.begin() as connection:
        connection.execute(text("UPDATE papers SET hidden = true WHERE id = 75"))
    assert 75 not in index.score_papers(["alpha", "omega"], asked)
    assert index.score_papers(["the"], asked) == {} and index.score_papers(["alpha"], []) == {}


def test_words_that_stem_alike_count_as_often_as_the_query_has_them(
    index: PostgresKeywordIndex,
) -> None:
    once = dict(index.search(["omega"], limit=5))
    twice = dict(index.search(["omega", "omegas"], limit=5))
    assert once.keys() == twice.keys()
    for paper_id, score in once.items():
        assert twice[paper_id] == pytest.approx(2 * score)
