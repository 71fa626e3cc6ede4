"""Similar papers from both parts: the paper's own words fused with its nearest by meaning, only
matches, never a hidden paper; keyword alone where search by meaning is off. On real papers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.papers.importing import load_file
from dailypapers.papers.models import Paper
from dailypapers.search import similar
from dailypapers.search.backends import KeywordSearch, open_keyword_search, open_meaning_search
from dailypapers.search.embedder import Embedder
from dailypapers.search.indexing import index_papers
from dailypapers.search.meaning import MeaningSearch
from dailypapers.search.service import DENSE_MATCH_SIMILARITY
from dailypapers.search.similar import MAX_SIMILAR, paper_terms, similar_papers

from .conftest import LiveServer, make_settings, prepare_database

TOPIC = "speculative decoding"  # papers with it in their title are like one another
TOPIC_PAPERS = 10
NONSENSE_ID = "2501.00001"  # a paper of made-up words but one common one: like no other
NONSENSE = {
    "arxiv_id": NONSENSE_ID,
    "title": "Blorft snizzle wumpery for zqxv plorbington",
    "abstract": "We quorble the frindle of snazzbottle grommets with a language of yerbish "
    "flonk. Glimmerwats and trandlepoofs are vexillated by zorbic plimsoodle.",
    "published": "2025-01-02",
}


@dataclass
class SimilarSite:
    settings: Any
    factory: sessionmaker[Session]
    keyword: KeywordSearch
    meaning: MeaningSearch
    topic: list[str]  # arXiv ids of the papers on TOPIC
    rows: list[dict[str, Any]]


@pytest.fixture(scope="module")
def site(tmp_path_factory, hf_rows: list[dict[str, Any]]) -> Iterator[SimilarSite]:
    """10 papers on speculative decoding among 130 others, embedded, and one made-up paper."""
    folder = tmp_path_factory.mktemp("similar")
    settings = make_settings(folder)
    engine, factory = prepare_database(settings)
    with_abstract = [row for row in hf_rows if row["abstract"]]
    topic = [row for row in with_abstract if TOPIC in row["title"].lower()][:TOPIC_PAPERS]
    others = [row for row in with_abstract if TOPIC not in row["title"].lower()][-130:]
    rows = topic + others + [NONSENSE]
    source = folder / "papers.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert load_file(factory, source, settings.zone).counts.new == len(rows)
    assert index_papers(factory, Embedder.load(threads=2)).embedded == len(rows)
    keyword = open_keyword_search(engine, settings.keyword_index_dir)
    keyword.sync(factory)
    meaning = open_meaning_search(factory, engine, budget_seconds=5.0)
    meaning.refresh()
    yield SimilarSite(settings, factory, keyword, meaning, [r["arxiv_id"] for r in topic], rows)
    meaning.close()
    keyword.close()
    engine.dispose()


def paper_id_of(session: Session, arxiv_id: str) -> int:
    found = session.scalar(select(Paper.id).where(Paper.arxiv_id == arxiv_id))
    assert found is not None
    return found


def similar_ids(site: SimilarSite, arxiv_id: str, *, meaning: bool, limit: int = 5) -> list[str]:
    with site.factory() as session:
        hits = similar_papers(
            session,
            paper_id_of(session, arxiv_id),
            keyword=site.keyword,
            meaning=site.meaning if meaning else None,
            limit=limit,
        )
    return [hit.item.paper.arxiv_id for hit in hits]


def test_a_paper_is_searched_by_its_title_words_then_its_rarest_abstract_words() -> None:
    title = "Speculative Decoding with Recurrent Drafters for Large Language Models"
    abstract = "We propose drafters. The drafters use a recurrent network, " * 3 + "and the GPU."
    terms = paper_terms(title, abstract)
    title_words = {"speculative", "decoding", "recurrent", "drafters", "language"}  # "large": prose
    assert set(list(terms)[: len(title_words)]) == title_words
    assert set(list(terms)[len(title_words) :]) == {"network", "gpu"}  # no stop or prose words
    in_title = paper_terms("Recurrent drafters", "drafters")["recurrent"]
    assert in_title == similar.TITLE_WEIGHT * paper_terms("Drafters", "recurrent")["recurrent"]
    rare_words = " ".join(f"word{i}x" for i in range(200))
    assert len(paper_terms(title, rare_words)) == similar.PAPER_TERMS


@pytest.mark.parametrize("meaning", [False, True], ids=["keyword alone", "fused"])
def test_papers_on_one_topic_are_similar_to_one_another(site: SimilarSite, meaning: bool) -> None:
    hits_on_topic = []
    for arxiv_id in site.topic:
        found = similar_ids(site, arxiv_id, meaning=meaning)
        assert found and arxiv_id not in found and len(found) == len(set(found)) <= 5
        hits_on_topic.append(len(set(found) & set(site.topic)))
    # 9 of the other 140 papers are on the topic: by chance, 0.3 of 5
    assert sum(hits_on_topic) / len(site.topic) >= 3.0, hits_on_topic


def test_without_search_by_meaning_the_keyword_side_still_answers(site: SimilarSite) -> None:
    # the old similar papers were the embedding's alone: none without search by meaning
    found = similar_ids(site, site.topic[0], meaning=False, limit=20)
    assert len(found) >= 5
    with site.factory() as session:
        titles = {
            row.arxiv_id: row.title for row in session.execute(select(Paper.arxiv_id, Paper.title))
        }
    title_words = set(paper_terms(titles[site.topic[0]], None))
    assert all(title_words & set(paper_terms(titles[hit], None)) for hit in found[:3])


def test_fusion_brings_in_the_nearest_in_meaning(site: SimilarSite) -> None:
    with site.factory() as session:
        paper_id = paper_id_of(session, site.topic[1])
        nearest = site.meaning.similar(paper_id, 1)[0]
        if nearest[1] < DENSE_MATCH_SIMILARITY:
            pytest.skip("the nearest paper by meaning is not near enough to be a match")
        arxiv_of = {
            row.id: row.arxiv_id for row in session.execute(select(Paper.id, Paper.arxiv_id))
        }
    assert arxiv_of[nearest[0]] in similar_ids(site, site.topic[1], meaning=True, limit=10)


def test_only_matches_are_shown(site: SimilarSite) -> None:
    """Made-up words but one common one: the keyword index finds papers with that word, and
    none of them is shown as similar; with meaning, only papers near enough are."""
    with site.factory() as session:
        paper_id = paper_id_of(session, NONSENSE_ID)
        terms = paper_terms(NONSENSE["title"], NONSENSE["abstract"])
        assert site.keyword.search(list(terms), limit=10)  # "language" matches papers
        near = {
            hit_id
            for hit_id, score in site.meaning.similar(paper_id, MAX_SIMILAR)
            if score >= DENSE_MATCH_SIMILARITY
        }
        arxiv_of = {
            row.id: row.arxiv_id for row in session.execute(select(Paper.id, Paper.arxiv_id))
        }
    assert similar_ids(site, NONSENSE_ID, meaning=False) == []
    assert set(similar_ids(site, NONSENSE_ID, meaning=True, limit=50)) <= {
        arxiv_of[hit_id] for hit_id in near
    }


def test_a_hidden_paper_is_never_similar(site: SimilarSite) -> None:
    paper = site.topic[2]
    shown = similar_ids(site, paper, meaning=True) + similar_ids(site, paper, meaning=False)
    hidden = shown[0]
    with site.factory() as session, session.begin():
        session.execute(update(Paper).where(Paper.arxiv_id == hidden).values(hidden=True))
    site.keyword.sync(site.factory)
    try:
        for meaning in (False, True):
            found = similar_ids(site, paper, meaning=meaning, limit=MAX_SIMILAR)
            assert found and hidden not in found
    finally:
        with site.factory() as session, session.begin():
            session.execute(update(Paper).where(Paper.arxiv_id == hidden).values(hidden=False))
        site.keyword.sync(site.factory)
    assert hidden in similar_ids(site, paper, meaning=True) + similar_ids(
        site, paper, meaning=False
    )


def test_the_api_gives_up_to_100_and_the_page_shows_five(site: SimilarSite) -> None:
    paper = site.topic[0]
    with LiveServer(site.settings) as server, httpx.Client(base_url=server.url) as http:
        server.app.state.site.meaning.refresh()
        many = http.get(f"/api/papers/{paper}/similar", params={"limit": MAX_SIMILAR})
        assert many.status_code == 200
        found = [item["paper"]["id"] for item in many.json()]
        assert 5 < len(found) <= MAX_SIMILAR and paper not in found
        assert found == similar_ids(site, paper, meaning=True, limit=MAX_SIMILAR)
        too_many = http.get(f"/api/papers/{paper}/similar", params={"limit": MAX_SIMILAR + 1})
        assert too_many.status_code == 422 and "100" in too_many.text
        first = http.get(f"/api/papers/{paper}/similar").json()
        assert [item["paper"]["id"] for item in first] == found[:5]
        page = http.get(f"/papers/{paper}").text
        assert "Similar papers" in page and all(f"/papers/{hit}" in page for hit in found[:5])
        assert http.get(f"/api/papers/{NONSENSE_ID}/similar").json() == []


class CountingKeyword:
    """The site's keyword search, counting its searches, with a generation the test moves."""

    def __init__(self, keyword: KeywordSearch) -> None:
        self.keyword = keyword
        self.searches = 0
        self.generation = 1

    def search(self, *args: Any, **kwargs: Any) -> Any:
        self.searches += 1
        return self.keyword.search(*args, **kwargs)


def test_a_memo_keeps_the_ranking_until_an_index_changes(site: SimilarSite) -> None:
    counting = CountingKeyword(site.keyword)
    memo = similar.SimilarMemo(size=2)
    arxiv_id = site.topic[0]

    def ask(paper: str) -> list[str]:
        with site.factory() as session:
            hits = similar_papers(
                session,
                paper_id_of(session, paper),
                keyword=counting,  # type: ignore[arg-type]
                meaning=site.meaning,
                memo=memo,
            )
        return [hit.item.paper.arxiv_id for hit in hits]

    first = ask(arxiv_id)
    assert first == similar_ids(site, arxiv_id, meaning=True)  # the same answer as without
    assert ask(arxiv_id) == first and counting.searches == 1  # kept: no second search
    counting.generation += 1  # the keyword index changed: found afresh
    assert ask(arxiv_id) == first and counting.searches == 2
    ask(site.topic[1])
    ask(site.topic[2])  # the memo holds two answers: the first one is dropped ...
    assert ask(arxiv_id) == first and counting.searches == 5  # ... and found again
