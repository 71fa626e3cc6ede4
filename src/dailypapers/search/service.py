"""Searching papers: exact arXiv ids and titles pinned first, then keyword and dense rankings
fused (keyword alone while the dense index is not ready or the query embedding is too slow)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id
from dailypapers.papers.feed import PaperItem, paper_items
from dailypapers.papers.models import Paper
from dailypapers.search.fusion import CANDIDATES, fuse
from dailypapers.search.meaning import DenseQuery, MeaningSearch
from dailypapers.search.protocols import KeywordSearch
from dailypapers.search.query import SearchFilters, filter_paper_ids, query_terms

MAX_QUERY_CHARS = 250
MAX_LIMIT = 120


class QueryTooLong(ValueError):
    def __init__(self, length: int) -> None:
        super().__init__(f"q: the query is {length:,} characters long (at most {MAX_QUERY_CHARS})")


@dataclass(slots=True)
class SearchHit:
    item: PaperItem
    score: float
    pinned: bool = False  # an exact arXiv id or title match, shown first


@dataclass(slots=True)
class SearchResults:
    query: str
    terms: tuple[str, ...]
    hits: list[SearchHit] = field(default_factory=list)
    mode: str = "keyword"  # or "hybrid"


def clean_query(query: str) -> str:
    """Drop control characters and collapse whitespace; refuse over-long queries."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryTooLong(len(query))
    printable = "".join(ch for ch in query if unicodedata.category(ch)[0] != "C" or ch == " ")
    return " ".join(printable.split())


def search_papers(
    session: Session,
    query: str,
    *,
    keyword: KeywordSearch,
    limit: int = 20,
    filters: SearchFilters | None = None,
    meaning: MeaningSearch | None = None,
) -> SearchResults:
    filters = filters or SearchFilters()
    text = clean_query(query)
    terms = tuple(query_terms(text))
    results = SearchResults(text, terms)
    if not text:
        return results
    dense_query = None
    if meaning is not None and meaning.ready:  # runs while the keyword index is searched
        filtered = filters != SearchFilters()
        dense_query = meaning.start_search(text, CANDIDATES * (5 if filtered else 1))
    pinned = _exact_matches(session, text)
    by_words = [
        paper_id
        for paper_id, _ in keyword.search(
            list(terms), limit=max(limit, CANDIDATES), filters=filters
        )
    ]
    by_meaning = _dense_ranking(session, dense_query, filters)
    if by_meaning is None:
        fused = [(paper_id, 1.0 / (rank + 1)) for rank, paper_id in enumerate(by_words)]
    else:
        fused = fuse(by_words, by_meaning)
        results.mode = "hybrid"
    ranked = [(paper_id, float("inf")) for paper_id in pinned]
    ranked += [(paper_id, score) for paper_id, score in fused if paper_id not in pinned]
    ranked = ranked[:limit]
    items = paper_items(session, [paper_id for paper_id, _ in ranked])
    results.hits = [
        SearchHit(items[paper_id], score, pinned=paper_id in pinned)
        for paper_id, score in ranked
        if paper_id in items
    ]
    return results


def _dense_ranking(
    session: Session, dense_query: DenseQuery | None, filters: SearchFilters
) -> list[int] | None:
    """Paper ids nearest to the query's meaning, or None when dense search is unavailable
    (no index yet, or over the time budget)."""
    hits = dense_query.result() if dense_query is not None else None
    if hits is None:
        return None
    ids = [paper_id for paper_id, _ in hits]
    if filters != SearchFilters():
        allowed = filter_paper_ids(session, ids, filters)
        ids = [paper_id for paper_id in ids if paper_id in allowed]
    return ids[:CANDIDATES]


def _exact_matches(session: Session, text: str) -> list[int]:
    """Visible papers whose arXiv id is the query, or whose title is exactly the query."""
    found: list[int] = []
    visible = Paper.hidden.is_(False)
    try:
        arxiv_id = parse_arxiv_id(text).id
    except InvalidArxivId:
        pass
    else:
        found += session.scalars(select(Paper.id).where(Paper.arxiv_id == arxiv_id, visible))
    if len(text) >= 8:
        title = text.lower().rstrip(".")
        found += [
            paper_id
            for paper_id in session.scalars(
                select(Paper.id).where(func.lower(Paper.title) == title, visible).limit(5)
            )
            if paper_id not in found
        ]
    return found


def similar_papers(
    session: Session, meaning: MeaningSearch | None, paper_id: int, *, limit: int = 5
) -> list[SearchHit]:
    """The papers nearest in meaning to one paper (none until its vector exists)."""
    if meaning is None:
        return []
    hits = meaning.similar(paper_id, limit)
    items = paper_items(session, [hit_id for hit_id, _ in hits])
    return [SearchHit(items[hit_id], score) for hit_id, score in hits if hit_id in items]
