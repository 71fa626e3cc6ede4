"""What a search asks, whichever backend answers: the words of a query and its filters.

User text never reaches a query parser as syntax: it is cut into words (\\w+), lower-cased, and
each backend takes the words as data (Tantivy joins them by spaces, PostgreSQL makes one
`plainto_tsquery` per word), so `NEAR`, `*`, quotes, `AND` and parentheses are words or nothing.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from dailypapers.papers.arxiv_ids import ArxivId, InvalidArxivId, parse_arxiv_id
from dailypapers.papers.periods import InvalidPeriod, check_day

MAX_QUERY_TERMS = 32
LONG_QUERY_WORDS = 30  # a query of more words is prose: its informative words are kept
EMBEDDED_WORDS = 200  # about 250 word pieces: what the embedder reads whole (256 at most)
PASSAGE_WORDS = 150  # a longer query is cut into passages of about this many words

_WORD = re.compile(r"\w+")
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(\.[A-Za-z\-]+)?$")
_TITLE_WORD = re.compile(r"[^\W_]+")
# Where readers copy an id from: arXiv's abstract, PDF and HTML pages, Hugging Face's paper page
# (long and short host names). `parse_arxiv_id` knows the first two; the others are mapped here.
_PAPER_PAGE = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:hf\.co|huggingface\.co|(?:export\.)?arxiv\.org)"
    r"/(?:abs|pdf|html|papers)/",
    re.IGNORECASE,
)

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


# Words of scientific prose that say little about its topic (a pasted abstract has many).
PROSE_WORDS = frozenset(
    "also approach approaches based can demonstrate demonstrates existing experiments extensive"
    " however introduce introduces key large may method methods model models new novel paper"
    " performance present presents problem propose proposed provide recent result results show"
    " shows significant significantly state study task tasks therefore thus two use used using"
    " via well work works yet".split()
)
_VOCABULARY = Path(__file__).resolve().parent / "model" / "tokenizer.json"
RARE_RANK = 60_000  # a word the vocabulary lists only in pieces (it has 30,522 entries)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


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

    Stopwords are dropped unless the query has nothing else (e.g. the title "Why Not"). A
    query of more than LONG_QUERY_WORDS words (a paragraph) keeps its informative words only.
    """
    every = _WORD.findall(query.lower())
    words = list(dict.fromkeys(every))
    content = [word for word in words if word not in STOPWORDS]
    if len(every) > LONG_QUERY_WORDS:
        return informative_words(every)
    return (content or words)[:MAX_QUERY_TERMS]


def informative_words(words: list[str]) -> list[str]:
    """The MAX_QUERY_TERMS words of a paragraph that say most about its topic, in their order:
    no stop words, prose words or bare numbers; rare words first (how common a word is in
    English: `english_rank`), and words the paragraph repeats. The keyword ranking's own IDF
    then weighs the words kept."""
    counts: dict[str, int] = {}
    for word in words:
        if (
            word not in STOPWORDS
            and word not in PROSE_WORDS
            and not word.isdigit()
            and len(word) > 2
        ):
            counts[word] = counts.get(word, 0) + 1
    ranks = english_ranks()

    def weight(word: str) -> float:
        return math.log(ranks.get(word, RARE_RANK) * counts[word])

    kept = set(sorted(counts, key=lambda word: -weight(word))[:MAX_QUERY_TERMS])
    return [word for word in counts if word in kept]


@functools.cache
def english_ranks() -> dict[str, int]:
    """How common English words are: each whole word's id in the bundled embedder's WordPiece
    vocabulary, which lists words from the most frequent on ("the" 1996, "one" 2028, "attention"
    3086, "multiplication" 24856) in the text the model learnt from; words it does not list
    whole are rarer still (RARE_RANK)."""
    vocabulary = orjson.loads(_VOCABULARY.read_bytes())["model"]["vocab"]
    return {word: rank for word, rank in vocabulary.items() if word.isalpha()}


def query_passages(query: str) -> list[str]:
    """The query cut, at sentence ends, into passages of at most about PASSAGE_WORDS words: the
    embedder reads 256 word pieces, so a longer text's meaning is the mean of its passages'.
    A query the embedder reads whole is one passage."""
    if len(query.split()) <= EMBEDDED_WORDS:
        return [query]
    passages: list[str] = []
    current: list[str] = []
    size = 0
    for sentence in _SENTENCE_END.split(query):
        length = len(sentence.split())
        if current and size + length > PASSAGE_WORDS:
            passages.append(" ".join(current))
            current, size = [], 0
        current.append(sentence)
        size += length
    if current:
        passages.append(" ".join(current))
    return passages


def idf(matching: int, papers: int) -> float:
    """BM25's inverse document frequency (Lucene's and Tantivy's form) of a word that `matching`
    of `papers` papers have; the highest for a word no paper has."""
    return math.log(1 + (papers - matching + 0.5) / (matching + 0.5))


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


def named_arxiv_id(query: str) -> ArxivId | None:
    """The arXiv id a query is, in any form a reader pastes (`2510.00184`, `arXiv:2510.00184v2`,
    an arXiv or Hugging Face URL, `hep-th/9901001`), or None when the query is words."""
    candidate = query.strip()
    if not candidate or any(ch.isspace() for ch in candidate):
        return None
    try:
        return parse_arxiv_id(_PAPER_PAGE.sub("", candidate))
    except InvalidArxivId:
        return None


def title_key(title: str) -> str:
    """A title as compared for an exact match: case, spacing and punctuation do not count
    ("Attention is all you need." is "ATTENTION IS ALL YOU NEED")."""
    return " ".join(_TITLE_WORD.findall(unicodedata.normalize("NFKC", title).casefold()))
