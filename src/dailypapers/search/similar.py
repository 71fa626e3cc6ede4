"""Papers like one paper: its own words searched as a query, fused with its nearest by meaning.

The keyword side asks the keyword index (either backend, `protocols.KeywordSearch`) for the
paper's informative words: the words of its title first, then the rarest words of its abstract
(how rare: `query.english_ranks`, the same measure a pasted paragraph's words are chosen by; the
index's own IDF then weighs them). The dense side is `MeaningSearch.similar`, the nearest
vectors. The two rankings are fused with `fusion.fuse` (reciprocal ranks), with weights tuned
on SciFact by bench/bench_similar.py (figures in docs/benchmarks.md).

Only matches are shown, as in search: a paper is similar when it is near in meaning (cosine
similarity from `service.DENSE_MATCH_SIMILARITY`) or shares a fair part of the paper's words
(`MIN_TERM_SHARE` of their weight). Without search by meaning (off, or the paper has no vector
yet) the keyword side answers alone. Hidden papers are never candidates: neither keyword index
holds them, `MeaningSearch` leaves them out, and the cards are read for visible papers only.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from dailypapers.papers.feed import paper_items
from dailypapers.search.fusion import fuse
from dailypapers.search.meaning import MeaningSearch
from dailypapers.search.protocols import KeywordSearch
from dailypapers.search.query import PROSE_WORDS, RARE_RANK, STOPWORDS, english_ranks
from dailypapers.search.service import DENSE_MATCH_SIMILARITY, SearchHit

MAX_SIMILAR = 100  # the most similar papers one request may ask for
CANDIDATES = 100  # taken from each side before fusing (at least twice what was asked)
TITLE_TERMS = 12  # the most title words searched for
PAPER_TERMS = 30  # the most words searched for in all (title words, then abstract words)
TITLE_WEIGHT = 2.0  # a title word counts this much more than an abstract word in a match's share
# Fusion (`fusion.fuse`) of the two rankings, tuned on SciFact (bench/bench_similar.py) apart
# from search's: a paper's own words are a far longer query than a reader's.
KEYWORD_WEIGHT = 1.0
DENSE_WEIGHT = 1.5
RRF_K = 10
# A paper found by words alone is similar when it has this share of the paper's words (by
# weight); below it, it shares a word or two, not a topic. Fit on SciFact (bench_similar.py).
MIN_TERM_SHARE = 0.2
CHECKED_AT_ONCE = 20  # candidates whose text is read at a time to measure their share

_WORD = re.compile(r"\w+")
_PAPER_TEXT = text("SELECT title, abstract FROM papers WHERE id = :id")
_TEXTS = text("SELECT id, title, abstract FROM papers WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)


def similar_papers(
    session: Session,
    paper_id: int,
    *,
    keyword: KeywordSearch,
    meaning: MeaningSearch | None,
    limit: int = 5,
    memo: SimilarMemo | None = None,
) -> list[SearchHit]:
    """The `limit` papers most like one paper, best first (fewer when fewer are similar).
    With a `memo`, the ranking found is kept until either index changes (the cards are read
    afresh each time: their counts move)."""
    key = (paper_id, limit, keyword.generation, meaning.generation if meaning else None)
    kept = memo.get(key) if memo is not None else None
    if kept is None:
        kept = _similar(session, paper_id, keyword=keyword, meaning=meaning, limit=limit)
        if memo is not None:
            memo.put(key, kept)
    items = paper_items(session, [hit_id for hit_id, _ in kept])
    return [SearchHit(items[hit_id], score) for hit_id, score in kept if hit_id in items]


class SimilarMemo:
    """The similar papers found for recent paper pages, keyed by the paper, the count asked
    and the generations of both indexes (a new generation is a new key): finding them reads
    the keyword index and the candidates' texts, while a paper page is rendered afresh at
    every change of the site (a vote anywhere). Bounded; shared by the threads of a process."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._kept: OrderedDict[tuple[object, ...], list[tuple[int, float]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> list[tuple[int, float]] | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: tuple[object, ...], kept: list[tuple[int, float]]) -> None:
        with self._lock:
            self._kept[key] = kept
            self._kept.move_to_end(key)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)


def _similar(
    session: Session,
    paper_id: int,
    *,
    keyword: KeywordSearch,
    meaning: MeaningSearch | None,
    limit: int,
) -> list[tuple[int, float]]:
    row = session.execute(_PAPER_TEXT, {"id": paper_id}).first()
    if row is None or limit <= 0:
        return []
    depth = max(CANDIDATES, 2 * limit)
    terms = paper_terms(row.title, row.abstract)
    by_words = [
        hit_id for hit_id, _ in keyword.search(list(terms), limit=depth + 1) if hit_id != paper_id
    ][:depth]
    by_meaning = meaning.similar(paper_id, depth) if meaning is not None else []
    near = {hit_id for hit_id, similarity in by_meaning if similarity >= DENSE_MATCH_SIMILARITY}
    fused = fuse(
        by_words,
        [hit_id for hit_id, _ in by_meaning],
        keyword_weight=KEYWORD_WEIGHT,
        dense_weight=DENSE_WEIGHT,
        k=RRF_K,
    )
    return list(_matches(session, fused, near, set(by_words), terms, limit))


def paper_terms(title: str, abstract: str | None) -> dict[str, float]:
    """The words a paper is searched by, with their weight: its title's (up to TITLE_TERMS),
    then its abstract's rarest, up to PAPER_TERMS in all. A word weighs by its rarity in
    English and, in an abstract, by how often the abstract repeats it; title words weigh
    TITLE_WEIGHT times more."""
    ranks = english_ranks()

    def rarity(word: str) -> float:
        return math.log(ranks.get(word, RARE_RANK))

    title_words = [word for word in _WORD.findall(title.lower()) if _informative(word, 2)]
    chosen = sorted(dict.fromkeys(title_words), key=lambda word: -rarity(word))[:TITLE_TERMS]
    terms = {word: TITLE_WEIGHT * rarity(word) for word in chosen}
    counts: dict[str, int] = {}
    for word in _WORD.findall((abstract or "").lower()):
        if word not in terms and _informative(word, 3):
            counts[word] = counts.get(word, 0) + 1
    weights = {word: rarity(word) * (1 + math.log(count)) for word, count in counts.items()}
    for word in sorted(weights, key=lambda word: -weights[word])[: PAPER_TERMS - len(terms)]:
        terms[word] = weights[word]
    return terms


def _informative(word: str, min_length: int) -> bool:
    return (
        len(word) >= min_length
        and not word.isdigit()
        and word not in STOPWORDS
        and word not in PROSE_WORDS
    )


def _matches(
    session: Session,
    fused: list[tuple[int, float]],
    near: set[int],
    by_words: set[int],
    terms: dict[str, float],
    limit: int,
) -> list[tuple[int, float]]:
    """The first `limit` of the fused candidates that are similar: near in meaning, or found by
    words and sharing MIN_TERM_SHARE of the paper's words. The texts of the latter are read a
    few at a time, and only as far down as needed."""
    kept: list[tuple[int, float]] = []
    for start in range(0, len(fused), CHECKED_AT_ONCE):
        chunk = fused[start : start + CHECKED_AT_ONCE]
        to_check = [hit_id for hit_id, _ in chunk if hit_id not in near and hit_id in by_words]
        shares = _term_shares(session, to_check, terms)
        for hit_id, score in chunk:
            if hit_id in near or shares.get(hit_id, 0.0) >= MIN_TERM_SHARE:
                kept.append((hit_id, score))
                if len(kept) == limit:
                    return kept
    return kept


def _term_shares(
    session: Session, paper_ids: list[int], terms: dict[str, float]
) -> dict[int, float]:
    """For each paper, the share (by weight) of `terms` its title and abstract contain, a word
    and its plural (or singular) counting alike."""
    if not paper_ids or not terms:
        return {}
    total = sum(terms.values())
    wanted = {_singular(word): weight for word, weight in terms.items()}
    shares = {}
    for hit_id, title, abstract in session.execute(_TEXTS, {"ids": paper_ids}):
        words = {_singular(word) for word in _WORD.findall(f"{title} {abstract or ''}".lower())}
        shares[hit_id] = sum(weight for word, weight in wanted.items() if word in words) / total
    return shares


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-3] + "y" if word.endswith("ies") else word[:-1]
    return word
