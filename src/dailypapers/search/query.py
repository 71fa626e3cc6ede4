"""What a search asks, whichever backend answers: the words of a query and its filters.

User text never reaches a query parser as syntax: it is cut into words (\\w+), lower-cased, and
each backend takes the words as data (Tantivy joins them by spaces, PostgreSQL makes one
`plainto_tsquery` per word), so `NEAR`, `*`, quotes, `AND` and parentheses are words or nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from dailypapers.papers.periods import InvalidPeriod, check_day

MAX_QUERY_TERMS = 32

_WORD = re.compile(r"\w+")
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(\.[A-Za-z\-]+)?$")

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
        for name, day in (("from", self.published_from), ("to", self.published_to)):
            try:
                if day is not None:
                    check_day(day)
            except InvalidPeriod as error:
                raise InvalidFilter(f"{name}: {error}") from None
        if self.published_from and self.published_to and self.published_from > self.published_to:
            raise InvalidFilter("from: the start date is after the end date")

    def sql(self) -> tuple[str, dict[str, Any]]:
        """SQL conditions on `papers` and their parameters (the same on SQLite and PostgreSQL)."""
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


def query_terms(query: str) -> list[str]:
    """The distinct words of a query, lower-cased, in order, at most MAX_QUERY_TERMS.

    Stopwords are dropped unless the query has nothing else (e.g. the title "Why Not").
    """
    words = list(dict.fromkeys(_WORD.findall(query.lower())))
    content = [word for word in words if word not in STOPWORDS]
    return (content or words)[:MAX_QUERY_TERMS]


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
