"""Keyword search on SQLite FTS5: BM25 over title, abstract and authors, title weighted highest.

User text never reaches FTS5 as syntax: it is cut into words, each quoted, joined with OR (so
`NEAR`, `*`, quotes or unbalanced parentheses are just words or nothing). BM25 ranks papers
matching more and rarer words first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

# BM25 column weights (FTS5 `bm25()` argument order: title, abstract, authors).
TITLE_WEIGHT = 10.0
ABSTRACT_WEIGHT = 1.0
AUTHORS_WEIGHT = 3.0
MAX_QUERY_TERMS = 32

_WORD = re.compile(r"\w+")
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(\.[A-Za-z\-]+)?$")


class InvalidFilter(ValueError):
    """A search filter with a bad value; the message names it."""


@dataclass(frozen=True, slots=True)
class SearchFilters:
    published_from: date | None = None
    published_to: date | None = None
    category: str | None = None
    has_code: bool = False
    featured_only: bool = False

    def __post_init__(self) -> None:
        if self.category is not None and not _CATEGORY.match(self.category):
            raise InvalidFilter(f"category: {self.category[:40]!r} is not an arXiv category")
        if self.published_from and self.published_to and self.published_from > self.published_to:
            raise InvalidFilter("from: the start date is after the end date")

    def sql(self) -> tuple[str, dict[str, Any]]:
        """SQL conditions on `papers` and their parameters."""
        conditions: list[str] = []
        params: dict[str, Any] = {}
        if self.published_from:
            conditions.append("papers.published_date >= :published_from")
            params["published_from"] = self.published_from
        if self.published_to:
            conditions.append("papers.published_date <= :published_to")
            params["published_to"] = self.published_to
        if self.category:
            # categories are stored as a JSON list of strings
            conditions.append("papers.categories LIKE :category_pattern")
            params["category_pattern"] = f'%"{self.category}"%'
        if self.has_code:
            conditions.append("papers.github_url IS NOT NULL")
        if self.featured_only:
            conditions.append(
                "EXISTS (SELECT 1 FROM daily_entries WHERE daily_entries.paper_id = papers.id)"
            )
        return "".join(f" AND {condition}" for condition in conditions), params


# Words that match nearly every abstract: they add no ranking signal, only work.
STOPWORDS = frozenset(
    "a about above after again against all am an and any are as at be because been before being"
    " below between both but by can could did do does doing down during each few for from"
    " further had has have having he her here hers him his how i if in into is it its itself"
    " just me more most my no nor not of off on once only or other our ours out over own same"
    " she should so some such than that the their theirs them then there these they this those"
    " through to too under until up very was we were what when where which while who whom why"
    " will with you your".split()
)


def index_new_papers(session: Session, paper_ids: list[int]) -> None:
    """Add just-inserted papers to the full-text index (changes and deletes are handled by
    triggers). One statement for the batch: three times faster than a trigger per row."""
    if not paper_ids or session.get_bind().dialect.name != "sqlite":
        return
    session.execute(
        text(
            "INSERT INTO papers_fts(rowid, title, abstract, authors)"
            " SELECT id, title, abstract, authors FROM papers WHERE id IN :ids"
        ).bindparams(bindparam("ids", expanding=True)),
        {"ids": paper_ids},
    )


def filter_paper_ids(session: Session, paper_ids: list[int], filters: SearchFilters) -> set[int]:
    """Those of `paper_ids` that pass the filters."""
    conditions, params = filters.sql()
    if not paper_ids or not conditions:
        return set(paper_ids)
    rows = session.execute(
        text(f"SELECT papers.id FROM papers WHERE papers.id IN :ids{conditions}").bindparams(
            bindparam("ids", expanding=True)
        ),
        {"ids": paper_ids, **params},
    )
    return {paper_id for (paper_id,) in rows}


def query_terms(query: str) -> list[str]:
    """The distinct words of a query, lower-cased, in order, at most MAX_QUERY_TERMS.

    Stopwords are dropped unless the query has nothing else (e.g. the title "Why Not").
    """
    words = list(dict.fromkeys(_WORD.findall(query.lower())))
    content = [word for word in words if word not in STOPWORDS]
    return (content or words)[:MAX_QUERY_TERMS]


def fts_match(terms: list[str]) -> str:
    return " OR ".join(f'"{term}"' for term in terms)


def keyword_search(
    session: Session, terms: list[str], *, limit: int, filters: SearchFilters
) -> list[tuple[int, float]]:
    """(paper id, BM25 score) of the best keyword matches; a higher score is better."""
    if not terms:
        return []
    conditions, params = filters.sql()
    rows = session.execute(
        text(
            "SELECT papers.id, bm25(papers_fts, :title_weight, :abstract_weight, :authors_weight)"
            " AS rank FROM papers_fts JOIN papers ON papers.id = papers_fts.rowid"
            f" WHERE papers_fts MATCH :match{conditions} ORDER BY rank LIMIT :limit"
        ),
        {
            "match": fts_match(terms),
            "limit": limit,
            "title_weight": TITLE_WEIGHT,
            "abstract_weight": ABSTRACT_WEIGHT,
            "authors_weight": AUTHORS_WEIGHT,
            **params,
        },
    )
    return [(paper_id, -rank) for paper_id, rank in rows]  # FTS5 ranks best as most negative
