"""Searching papers: a query that names one paper (its arXiv id, or its exact title) goes to it;
other queries rank by keyword and by meaning fused (keyword alone while the dense index is not
ready or the query embedding is too slow), page by page, by relevance, date or upvotes."""

from __future__ import annotations

import time
import unicodedata
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.papers.feed import PaperItem, paper_items
from dailypapers.papers.models import Paper
from dailypapers.search.fusion import CANDIDATES, DENSE_SHARE, SCORED_NEAREST, fuse_scores
from dailypapers.search.meaning import DenseQuery, MeaningSearch
from dailypapers.search.protocols import KeywordSearch
from dailypapers.search.query import (
    SearchFilters,
    filter_paper_ids,
    named_arxiv_id,
    query_passages,
    query_terms,
    title_key,
)

MAX_QUERY_CHARS = 2_000  # a paragraph: a pasted abstract is 1,000-1,900 characters
MAX_LIMIT = 120
MAX_MATCHES = 1_000  # the deepest a search pages; the pool sorted by date or upvotes
TITLE_CANDIDATES = 20  # the best keyword matches checked for a title equal to the query
MIN_TITLE_CHARS = 8  # shorter queries are words, even when some paper has them as its title
# A paper found by meaning alone (no keyword match) is a match from this cosine similarity on:
# nonsense and out-of-domain queries stay below it. Fit on SciFact (bench/bench_search_cutoff.py,
# figures in docs/benchmarks.md).
DENSE_MATCH_SIMILARITY = 0.40
# A keyword match is a match when the paper has words carrying this share of the query's weight
# (each word weighs its inverse document frequency; a word no paper has weighs the most a word
# can: the query asks for something the site may not have), or NEAR_MATCH_SHARE of it and a
# cosine similarity of NEAR_SIMILARITY or more. Below both, a paper shares a common word or two
# with the query, not its subject ("football world cup 2022 final score" and a paper on world
# models' final scores). Fit on SciFact and an arXiv sample (bench/bench_search_cutoff.py).
KEYWORD_MATCH_SHARE = 0.5
NEAR_MATCH_SHARE = 0.3
NEAR_SIMILARITY = 0.30

SearchSort = Literal["relevance", "newest", "upvotes"]
SORTS: tuple[SearchSort, ...] = get_args(SearchSort)


class QueryTooLong(ValueError):
    def __init__(self, length: int) -> None:
        super().__init__(
            f"q: the query is {length:,} characters long (at most {MAX_QUERY_CHARS:,})"
        )


class InvalidSort(ValueError):
    def __init__(self, sort: str) -> None:
        super().__init__(f"sort: {sort[:40]!r} is not a sort (one of {', '.join(SORTS)})")


@dataclass(slots=True)
class SearchHit:
    item: PaperItem
    score: float
    pinned: bool = False  # the paper the query names (arXiv id or exact title), shown first


@dataclass(slots=True)
class SearchResults:
    query: str
    terms: tuple[str, ...]
    hits: list[SearchHit] = field(default_factory=list)  # this page's
    mode: str = "keyword"  # or "hybrid"
    total: int = 0  # matches found on all pages (at most MAX_MATCHES)
    counted_all: bool = True  # whether `total` is every match (else: at least that many)
    offset: int = 0  # of this page's first hit among them
    sort: SearchSort = "relevance"
    named_id: str | None = None  # the arXiv id the query is, whether or not the paper is here
    direct: PaperItem | None = None  # the one paper the query names: its id, or its exact title
    neighbours: list[int] = field(default_factory=list)  # nearest by meaning, matches or not

    @property
    def more(self) -> bool:
        """Whether further pages hold matches."""
        return self.offset + len(self.hits) < self.total


def clean_query(query: str) -> str:
    """Drop control characters and collapse whitespace; refuse over-long queries."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryTooLong(len(query))
    printable = "".join(ch for ch in query if unicodedata.category(ch)[0] != "C" or ch == " ")
    return " ".join(printable.split())


def check_sort(sort: str) -> SearchSort:
    for known in SORTS:
        if sort == known:
            return known
    raise InvalidSort(sort)


def search_papers(
    session: Session,
    query: str,
    *,
    keyword: KeywordSearch,
    limit: int = 20,
    filters: SearchFilters | None = None,
    meaning: MeaningSearch | None = None,
    offset: int = 0,
    sort: str = "relevance",
) -> SearchResults:
    """One page (`limit` matches from `offset`) of the papers matching `query`, best first or
    sorted by `sort`. A query that is an arXiv id answers that paper alone."""
    filters = filters or SearchFilters()
    order = check_sort(sort)
    text = clean_query(query)
    results = SearchResults(text, tuple(query_terms(text)), offset=offset, sort=order)
    if not text:
        return results
    if (arxiv_id := named_arxiv_id(text)) is not None:
        return _named_paper(session, results, arxiv_id.id, limit)
    # The first CANDIDATES of each ranking are fused; deeper keyword matches follow in their
    # own order, so every page is cut from the same list. Relevance reads only as deep as the
    # page asked for; the other orders sort the whole pool of matches.
    depth = MAX_MATCHES if order != "relevance" else min(offset + limit + 1, MAX_MATCHES)
    depth = max(depth, CANDIDATES)
    dense_query = None
    if meaning is not None and meaning.ready:
        filtered = filters != SearchFilters()
        dense_query = _start_dense(session, meaning, text, CANDIDATES * (5 if filtered else 1))
    terms = list(results.terms)
    needed = offset + limit + 1 if order == "relevance" else MAX_MATCHES
    found, shares, depth = _keyword_matches(keyword, terms, filters, needed, depth)
    by_words = [paper_id for paper_id, _ in found]
    pinned = _same_title(session, text, by_words[:TITLE_CANDIDATES])
    by_meaning = _dense_ranking(session, dense_query, filters)
    if by_meaning is None:
        fused = [
            (paper_id, 1.0 / (rank + 1))
            for rank, paper_id in enumerate(by_words)
            if is_match(0.0, shares.get(paper_id, 0.0))
        ]
    else:
        results.neighbours = [paper_id for paper_id, _ in by_meaning]
        nearest = [paper_id for paper_id, _ in by_meaning[:SCORED_NEAREST]]
        shares |= word_shares(keyword, terms, [p for p in nearest if p not in shares])
        fused = hybrid_ranking(keyword, terms, found[:CANDIDATES], by_meaning, shares=shares)
        head = {paper_id for paper_id, _ in fused}
        fused += [
            (paper_id, 1.0 / (rank + 1))
            for rank, paper_id in enumerate(by_words[CANDIDATES:], start=CANDIDATES)
            if paper_id not in head and is_match(0.0, shares.get(paper_id, 0.0))
        ]
        results.mode = "hybrid"
    ranked = [(paper_id, float("inf")) for paper_id in pinned]
    ranked += [(paper_id, score) for paper_id, score in fused if paper_id not in pinned]
    ranked = ranked[:MAX_MATCHES]
    results.counted_all = len(by_words) < depth and len(ranked) < MAX_MATCHES
    if order != "relevance":
        ranked = _sorted_by(session, ranked, order)
    results.total = len(ranked)
    page = ranked[offset : offset + limit]
    items = paper_items(session, [paper_id for paper_id, _ in page])
    results.hits = [
        SearchHit(items[paper_id], score, pinned=paper_id in pinned)
        for paper_id, score in page
        if paper_id in items
    ]
    if len(pinned) == 1 and pinned[0] in items:
        results.direct = items[pinned[0]]
    return results


def hybrid_ranking(
    keyword: KeywordSearch,
    terms: list[str],
    by_words: list[tuple[int, float]],
    by_meaning: list[tuple[int, float]],
    *,
    dense_share: float = DENSE_SHARE,
    shares: dict[int, float] | None = None,
) -> list[tuple[int, float]]:
    """The keyword matches (paper id, score) and the papers nearest in meaning (paper id,
    cosine similarity), their scores fused (`fusion.fuse_scores`), best first, matches only
    (`is_match`). The papers found by meaning alone are given their keyword scores first (a
    bounded keyword search may have missed them). `shares`: `word_shares` of the candidates,
    when the caller has them."""
    scores = dict(by_words)
    nearest = by_meaning[:SCORED_NEAREST]
    unscored = [paper_id for paper_id, _ in nearest if paper_id not in scores]
    scores.update(keyword.score_papers(terms, unscored))
    if shares is None:
        shares = word_shares(keyword, terms, [paper_id for paper_id in scores if scores[paper_id]])
    similarity = dict(by_meaning)
    fused = fuse_scores(scores, by_meaning, dense_share=dense_share)
    return [
        hit
        for hit in fused
        if is_match(
            similarity.get(hit[0], 0.0),
            shares.get(hit[0], 0.0) if scores.get(hit[0], 0.0) > 0 else 0.0,
        )
    ]


def _keyword_matches(
    keyword: KeywordSearch,
    terms: list[str],
    filters: SearchFilters,
    needed: int,
    depth: int,
) -> tuple[list[tuple[int, float]], dict[int, float], int]:
    """The best `depth` keyword matches (paper id, score), read deeper (up to MAX_MATCHES)
    while fewer than `needed` of them pass the cut-off on their own and more are left; with
    their `word_shares` (0 for a paper without the words) and the depth read. When none of the
    best pass, none deeper are looked for (they have fewer or commoner of the words)."""
    shares: dict[int, float] = {}
    while True:
        found = keyword.search(terms, limit=depth, filters=filters)
        new = [paper_id for paper_id, _ in found if paper_id not in shares]
        shares |= dict.fromkeys(new, 0.0) | word_shares(keyword, terms, new)
        kept = sum(1 for paper_id, _ in found if is_match(0.0, shares[paper_id]))
        if not kept or kept >= needed or len(found) < depth or depth >= MAX_MATCHES:
            return found, shares, depth
        depth = min(depth * 4, MAX_MATCHES)


def word_shares(keyword: KeywordSearch, terms: list[str], paper_ids: list[int]) -> dict[int, float]:
    """For each of `paper_ids` that has any of `terms`, the share of the query's weight (the sum
    of its words' `word_weights`) that the words it has carry."""
    if not paper_ids:
        return {}
    weights = keyword.word_weights(terms)
    total = sum(weights)
    if total <= 0:
        return {}
    matched = keyword.matched_words(terms, paper_ids)
    return {
        paper_id: sum(weight for bit, weight in enumerate(weights) if mask >> bit & 1) / total
        for paper_id, mask in matched.items()
    }


def is_match(similarity: float, share: float) -> bool:
    """Whether a paper is a match of the query, by its cosine similarity to it (0 when unknown)
    and the share of the query's words it has (`word_shares`): near enough in meaning, or
    having the query's informative words, or a fair part of both."""
    return (
        similarity >= DENSE_MATCH_SIMILARITY
        or share >= KEYWORD_MATCH_SHARE
        or (similarity >= NEAR_SIMILARITY and share >= NEAR_MATCH_SHARE)
    )


def _named_paper(
    session: Session, results: SearchResults, arxiv_id: str, limit: int
) -> SearchResults:
    """The answer to a query that is an arXiv id: that paper alone, or nothing when the site
    does not have it (the page then says so and links to arXiv)."""
    results.named_id = arxiv_id
    found = session.scalar(select(Paper.id).where(Paper.arxiv_id == arxiv_id))
    items = paper_items(session, [found]) if found is not None else {}
    if found in items:
        results.direct = items[found]
        results.total = 1
        if results.offset == 0 and limit > 0:
            results.hits = [SearchHit(items[found], float("inf"), pinned=True)]
    return results


def _same_title(session: Session, text: str, candidates: list[int]) -> list[int]:
    """Those of `candidates` (the best keyword matches) whose title is the query, compared
    without case, spacing or punctuation."""
    key = title_key(text)
    if len(key) < MIN_TITLE_CHARS or not candidates:
        return []
    rows = session.execute(select(Paper.id, Paper.title).where(Paper.id.in_(candidates)))
    titles: dict[int, str] = {paper_id: title for paper_id, title in rows}
    return [paper_id for paper_id in candidates if title_key(titles.get(paper_id, "")) == key]


def _sorted_by(
    session: Session, ranked: list[tuple[int, float]], order: SearchSort
) -> list[tuple[int, float]]:
    """The matches newest first (by arXiv publication date) or most upvoted first; ties keep
    their relevance order."""
    ids = [paper_id for paper_id, _ in ranked]
    position = {paper_id: index for index, paper_id in enumerate(ids)}
    if order == "newest":
        rows = session.execute(select(Paper.id, Paper.published_date).where(Paper.id.in_(ids)))
        # an unknown publication date sorts last
        value = {paper_id: -day.toordinal() if day else 1 for paper_id, day in rows}
    else:
        upvotes = Paper.imported_upvotes + Paper.vote_count
        counts = session.execute(select(Paper.id, upvotes).where(Paper.id.in_(ids)))
        value = {paper_id: -count for paper_id, count in counts}

    def key(hit: tuple[int, float]) -> tuple[int, int]:
        return (value.get(hit[0], 1), position[hit[0]])

    return sorted(ranked, key=key)


def _start_dense(session: Session, meaning: MeaningSearch, text: str, k: int) -> DenseQuery:
    """Search by meaning: a query the embedder reads whole runs on another thread while the
    keyword index is searched; a longer one (a pasted paragraph) is the mean of its passages'
    embeddings, weighted by their length, searched here."""
    passages = query_passages(text)
    if len(passages) == 1:
        return meaning.start_search(text, k)
    vectors = meaning.embedder.embed(passages)
    weights = np.array([len(passage.split()) for passage in passages], dtype=np.float32)
    mean = weights @ vectors
    hits = meaning.dense.search(
        (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32), k
    )
    ids = [paper_id for paper_id, _ in hits]
    visible = set(
        session.scalars(select(Paper.id).where(Paper.id.in_(ids), Paper.hidden.is_(False)))
    )
    done: Future[list[tuple[int, float]]] = Future()
    done.set_result([hit for hit in hits if hit[0] in visible])
    return DenseQuery(done, time.monotonic())


def _dense_ranking(
    session: Session, dense_query: DenseQuery | None, filters: SearchFilters
) -> list[tuple[int, float]] | None:
    """(paper id, cosine similarity) nearest to the query's meaning, or None when dense search
    is unavailable (no index yet, or over the time budget)."""
    hits = dense_query.result() if dense_query is not None else None
    if hits is None:
        return None
    if filters != SearchFilters():
        allowed = filter_paper_ids(session, [paper_id for paper_id, _ in hits], filters)
        hits = [hit for hit in hits if hit[0] in allowed]
    return hits[:CANDIDATES]
