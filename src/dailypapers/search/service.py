"""Searching papers: exact arXiv ids and titles pinned first, then ranked keyword matches."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id
from dailypapers.papers.feed import PaperItem, paper_items
from dailypapers.papers.models import Paper
from dailypapers.search.keyword import SearchFilters, keyword_search, query_terms

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
    limit: int = 20,
    filters: SearchFilters | None = None,
) -> SearchResults:
    filters = filters or SearchFilters()
    text = clean_query(query)
    terms = tuple(query_terms(text))
    results = SearchResults(text, terms)
    if not text:
        return results
    pinned = _exact_matches(session, text)
    ranked = [(paper_id, float("inf")) for paper_id in pinned]
    for paper_id, score in keyword_search(session, list(terms), limit=limit, filters=filters):
        if paper_id not in pinned:
            ranked.append((paper_id, score))
    ranked = ranked[:limit]
    items = paper_items(session, [paper_id for paper_id, _ in ranked])
    results.hits = [
        SearchHit(items[paper_id], score, pinned=paper_id in pinned)
        for paper_id, score in ranked
        if paper_id in items
    ]
    return results


def _exact_matches(session: Session, text: str) -> list[int]:
    """Papers whose arXiv id is the query, or whose title is exactly the query."""
    found: list[int] = []
    try:
        arxiv_id = parse_arxiv_id(text).id
    except InvalidArxivId:
        pass
    else:
        found += session.scalars(select(Paper.id).where(Paper.arxiv_id == arxiv_id)).all()
    if len(text) >= 8:
        title = text.lower().rstrip(".")
        found += [
            paper_id
            for paper_id in session.scalars(
                select(Paper.id).where(func.lower(Paper.title) == title).limit(5)
            )
            if paper_id not in found
        ]
    return found
