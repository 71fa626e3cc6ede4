"""For you's ranking model: the recent papers ranked for one member from their own signals.

Pure (numpy, scipy, scikit-learn), no database. The candidate papers' features are built once
per site revision (`Candidates`), shared by every member; `fit` then scores, per interest
profile of a member (their upvotes, each of their collections), every candidate:

* features: tf-idf of title + abstract (word unigrams and bigrams, sublinear tf, fitted on the
  candidates) and the paper's MiniLM vector when it has one; author names are not features,
  so the model ranks by content (follows are the service's business);
* the similarity of two papers blends their tf-idf cosine and their MiniLM cosine
  (`TEXT_SHARE`; tf-idf alone when either paper has no vector);
* a profile's score for a candidate is a soft maximum of its similarities to the profile's
  papers (`tau * log(sum(exp(similarity / tau)))`, a kernel density with `SOFTNESS` as tau):
  a paper very like one saved paper ranks high, and so does one fairly like several; each
  interest inside a profile keeps its own neighbours, where a centroid would blur them. The
  most similar profile paper is the one a pick is "like";
* "not interested" papers push their near neighbours down, for every profile;
* with several profiles (`rank(None)`), each profile's scores are first put on one scale
  (z-scores over the candidates), so a small collection's best papers are not drowned by a
  big one's; a candidate takes its best profile.

Why no per-profile linear model (arxiv-sanity-lite's SVM): on simulated readers
(bench/bench_foryou.py) an SVM over tf-idf, or over tf-idf and MiniLM, did no better than the
soft maximum alone, blending the two gained less than the readers' noise, and training it
costs 0.1-0.4 s per profile where the soft maximum costs milliseconds (the digest fits one
model per reader). Figures in docs/benchmarks.md.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, cast

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

# Share of the tf-idf cosine in the similarity of two papers (the rest is the MiniLM cosine).
TEXT_SHARE = 0.7
# Temperature of the soft maximum over a profile's papers: near 0 it is the most similar
# paper alone, large it is the mean similarity (the centroid).
SOFTNESS = 0.1
# How far "not interested" papers push candidates down: a candidate's z-scored (soft maximum)
# similarity to them, less `DISMISSED_FROM`, times `DISMISSED_PUSH`. A near copy of a dismissed
# paper sinks about as far as a near copy of a saved paper rises; papers merely on a nearby
# topic (within a standard deviation or so of the mean) are left alone.
DISMISSED_FROM = 1.0
DISMISSED_PUSH = 1.0
# Vocabulary: terms in at least this many candidates (1 below `SMALL_SET` candidates), in at
# most this share of them, and at most this many terms.
MIN_DF = 2
MAX_DF = 0.5
MAX_TERMS = 100_000
SMALL_SET = 200
# tf-idf rows kept of papers that are not candidates (a member's older saved papers).
KEPT_ROWS = 20_000
# Candidate-paper similarities found at once by `fit_many` (float32: 4 bytes each).
BATCH_CELLS = 4_000_000


@dataclass(frozen=True, slots=True)
class Document:
    """A paper as the model sees it."""

    paper_id: int
    text: str  # title + "\n" + abstract
    vector: np.ndarray | None  # the paper's MiniLM vector (float32, unit length), or None


@dataclass(frozen=True, slots=True)
class Profile:
    """One interest of a member: the papers that define it."""

    key: str  # "upvotes", "collection:12"
    label: str  # for reasons: "your upvotes", "your collection Reading list"
    papers: tuple[Document, ...]


class Pick(NamedTuple):
    """A candidate as ranked for a member (a named tuple: a ranking makes one per candidate)."""

    paper_id: int
    score: float  # higher is better; comparable across profiles
    profile: str  # key of the profile that liked it most ("" when there is none)
    like: int | None  # paper_id of that profile's paper most like it ("like X")


@dataclass(frozen=True, slots=True)
class _Features:
    text: sparse.csr_matrix  # rows L2-normalised tf-idf
    vectors: np.ndarray  # float32 [n, d]; zero rows where a paper has no vector
    has_vector: np.ndarray  # bool [n]


class Candidates:
    """The candidate papers' features, built once per site revision, shared by all members."""

    def __init__(self, documents: Sequence[Document]) -> None:
        self.paper_ids: list[int] = [document.paper_id for document in documents]
        self.ids = np.array(self.paper_ids, dtype=np.int64)
        self._row = {paper_id: row for row, paper_id in enumerate(self.paper_ids)}
        texts = [document.text for document in documents]
        self._vectorizer: TfidfVectorizer | None = TfidfVectorizer(
            strip_accents="unicode",
            stop_words="english",
            ngram_range=(1, 2),
            sublinear_tf=True,
            min_df=MIN_DF if len(documents) >= SMALL_SET else 1,
            max_df=MAX_DF if len(documents) >= SMALL_SET else 1.0,
            max_features=MAX_TERMS,
            dtype=np.float32,
        )
        try:
            text = self._vectorizer.fit_transform(texts).tocsr()
        except ValueError:  # no documents, or no words beyond stop words
            self._vectorizer = None
            text = sparse.csr_matrix((len(documents), 0), dtype=np.float32)
        self.dimension = _dimension(documents)
        vectors, has_vector = _vectors(documents, self.dimension)
        self.features = _Features(text, vectors, has_vector)
        # The candidates by term: a few profile papers meet only the candidates sharing their
        # terms, instead of every candidate being walked for each product.
        self._by_term = text.T.tocsr()
        # (paper id, hash of its text) -> its tf-idf row's (term indices, weights)
        self._kept: OrderedDict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.paper_ids)

    def rows_of(self, paper_ids: Iterable[int]) -> np.ndarray:
        """The rows of those of these papers that are candidates."""
        row = self._row
        return np.array([row[i] for i in paper_ids if i in row], dtype=np.int64)

    def describe(self, documents: Sequence[Document]) -> _Features:
        """Features of any papers: a candidate's own tf-idf row, others' through the
        vocabulary (kept for the next fit: tokenising is most of a small fit, and members'
        papers recur)."""
        vectors, has_vector = _vectors(documents, self.dimension)
        return _Features(self._text_rows(documents), vectors, has_vector)

    def _text_rows(self, documents: Sequence[Document]) -> sparse.csr_matrix:
        mine = self.features.text
        width = mine.shape[1]
        if not documents or self._vectorizer is None:
            return sparse.csr_matrix((len(documents), width), dtype=np.float32)
        found: dict[tuple[int, int], tuple[np.ndarray, np.ndarray] | None] = {}
        keys = []
        with self._lock:
            for document in documents:
                row = self._row.get(document.paper_id)
                if row is not None:
                    key = (document.paper_id, -1)
                    span = slice(mine.indptr[row], mine.indptr[row + 1])
                    found[key] = (mine.indices[span], mine.data[span])
                else:
                    key = (document.paper_id, hash(document.text))
                    found[key] = self._kept.get(key)
                keys.append(key)
        new = {key: d for key, d in zip(keys, documents, strict=True) if found[key] is None}
        if new:
            made = self._vectorizer.transform([d.text for d in new.values()]).tocsr()
            made.sort_indices()
            with self._lock:
                for row, key in enumerate(new):
                    span = slice(made.indptr[row], made.indptr[row + 1])
                    kept = (made.indices[span].copy(), made.data[span].copy())
                    found[key] = self._kept[key] = kept
                    if len(self._kept) > KEPT_ROWS:
                        self._kept.popitem(last=False)
        rows = [cast(tuple[np.ndarray, np.ndarray], found[key]) for key in keys]
        lengths = np.fromiter((len(indices) for indices, _ in rows), np.int64, len(rows))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        indices = np.concatenate([term for term, _ in rows])
        weights = np.concatenate([weight for _, weight in rows])
        return sparse.csr_matrix(
            (weights.astype(np.float32), indices.astype(np.int32), indptr),
            shape=(len(rows), width),
        )

    def similarity(self, other: _Features) -> np.ndarray:
        """Similarity of every candidate to each of `other`'s papers: float32 [n, len(other)]."""
        mine = self.features
        text = (other.text @ self._by_term).toarray().astype(np.float32, copy=False).T
        if mine.vectors.shape[1] == 0:
            return text
        meaning = mine.vectors @ other.vectors.T
        both = mine.has_vector[:, None] & other.has_vector[None, :]
        return np.where(both, TEXT_SHARE * text + (1 - TEXT_SHARE) * meaning, text)


def _dimension(documents: Sequence[Document]) -> int:
    for document in documents:
        if document.vector is not None:
            return int(document.vector.shape[0])
    return 0


def _vectors(documents: Sequence[Document], dimension: int) -> tuple[np.ndarray, np.ndarray]:
    vectors = np.zeros((len(documents), dimension), dtype=np.float32)
    has_vector = np.zeros(len(documents), dtype=bool)
    for row, document in enumerate(documents):
        vector = document.vector
        if vector is not None and dimension and vector.shape == (dimension,):
            vectors[row] = vector
            has_vector[row] = True
    return vectors, has_vector


class Model:
    """A member's fitted model: each profile's score for every candidate."""

    def __init__(
        self,
        candidates: Candidates,
        scores: dict[str, np.ndarray],
        likes: dict[str, np.ndarray],
        push: np.ndarray,
        own: set[int],
        empty: set[str],
    ) -> None:
        self._candidates = candidates
        self._empty = empty - scores.keys()  # profiles given without papers: nothing to rank by
        self._scores = scores  # profile key -> z-scored float [n]
        self._likes = likes  # profile key -> paper_id of its most similar paper, per candidate
        self._push = push  # float [n]: how far "not interested" papers push each candidate down
        self._own = own  # the member's own papers (profiles, dismissed): never recommended

    @property
    def profiles(self) -> list[str]:
        """Keys of the profiles the model was fitted with (the ones `rank` accepts)."""
        return [*self._scores, *sorted(self._empty)]

    def rank(self, profile: str | None = None, *, exclude: Collection[int] = ()) -> list[Pick]:
        """Every candidate not excluded, best first. profile=None mixes all profiles so that a
        small profile is not drowned by a big one (each profile's best stay near the top).

        The member's own papers (the profiles' and the dismissed ones) are never picks. With no
        profile papers at all the candidates keep their order, less what "not interested"
        pushes down (score 0 otherwise, `like` None). KeyError for a profile not fitted."""
        n = len(self._candidates)
        if profile is not None and profile not in self._scores and profile not in self._empty:
            raise KeyError(f"the model has no profile {profile!r}")
        keys = list(self._scores) if profile is None else [profile]
        keys = [key for key in keys if key in self._scores]
        if keys:
            table = np.vstack([self._scores[key] for key in keys])
            best = np.argmax(table, axis=0)
            score = table[best, np.arange(n)] - self._push
        else:
            best = np.zeros(n, dtype=np.int64)
            score = -self._push
        skipped = self._candidates.rows_of(self._own.union(exclude))
        if len(skipped):
            kept = np.ones(n, dtype=bool)
            kept[skipped] = False
            rows = np.flatnonzero(kept)
        else:
            rows = np.arange(n)
        rows = rows[np.argsort(-score[rows], kind="stable")]
        paper_ids = self._candidates.ids[rows].tolist()
        scores = score[rows].tolist()
        if not keys:
            return [Pick(p, s, profile or "", None) for p, s in zip(paper_ids, scores, strict=True)]
        best_keys = [keys[i] for i in best[rows].tolist()]
        likes = np.vstack([self._likes[key] for key in keys])[best[rows], rows].tolist()
        return [
            Pick(p, s, k, like)
            for p, s, k, like in zip(paper_ids, scores, best_keys, likes, strict=True)
        ]


def fit(
    candidates: Candidates, profiles: Sequence[Profile], dismissed: Sequence[Document] = ()
) -> Model:
    """Fit a member's model: one score per profile with papers, and the dismissed papers' push."""
    return _fit(candidates, profiles, dismissed, None)


def fit_many(
    candidates: Candidates, members: Sequence[tuple[Sequence[Profile], Sequence[Document]]]
) -> list[Model]:
    """`fit` for many members at once, (profiles, dismissed) each: the similarities of the
    candidates to all their papers are found together (a few large products instead of one
    small one per member), `BATCH_CELLS` candidate-paper pairs at a time."""
    models: list[Model] = []
    examples = [_examples(profiles, dismissed) for profiles, dismissed in members]
    start = 0
    while start < len(members):
        column: dict[int, int] = {}
        papers: list[Document] = []
        end = start
        while end < len(members) and (end == start or len(candidates) * len(papers) < BATCH_CELLS):
            for paper in examples[end]:
                if paper.paper_id not in column:
                    column[paper.paper_id] = len(papers)
                    papers.append(paper)
            end += 1
        similarity = candidates.similarity(candidates.describe(papers)) if papers else None
        for (profiles, dismissed), mine in zip(
            members[start:end], examples[start:end], strict=True
        ):
            columns = None
            if similarity is not None and mine:
                columns = similarity[:, [column[paper.paper_id] for paper in mine]]
            models.append(_fit(candidates, profiles, dismissed, columns))
        start = end
    return models


def _distinct(profiles: Sequence[Profile]) -> list[Profile]:
    """The profiles with papers, each key once (the first)."""
    return [
        profile
        for i, profile in enumerate(profiles)
        if profile.papers and profile.key not in {other.key for other in profiles[:i]}
    ]


def _examples(profiles: Sequence[Profile], dismissed: Sequence[Document]) -> list[Document]:
    """A member's papers in the order of the similarity columns `_fit` reads: each distinct
    profile's papers, then the dismissed ones."""
    return [paper for profile in _distinct(profiles) for paper in profile.papers] + list(dismissed)


def _fit(
    candidates: Candidates,
    profiles: Sequence[Profile],
    dismissed: Sequence[Document],
    similarity: np.ndarray | None,
) -> Model:
    """`fit`, given the similarities of the candidates to the profiles' papers and then the
    dismissed ones (columns in that order), or finding them."""
    scores: dict[str, np.ndarray] = {}
    likes: dict[str, np.ndarray] = {}
    n = len(candidates)
    push: np.ndarray = np.zeros(n)
    fitted = _distinct(profiles)
    papers = _examples(profiles, dismissed)
    others = np.ones(n, dtype=bool)
    others[candidates.rows_of(paper.paper_id for paper in papers)] = False
    if n and papers:
        # One pass for every profile paper and dismissed paper; then a column range each.
        if similarity is None:
            similarity = candidates.similarity(candidates.describe(papers))
        start = 0
        for profile in fitted:
            end = start + len(profile.papers)
            columns = similarity[:, start:end]
            ids = np.array([paper.paper_id for paper in profile.papers])
            likes[profile.key] = ids[np.argmax(columns, axis=1)]
            scores[profile.key] = _z(_soft_maximum(columns), others)
            start = end
        if dismissed:
            near = _z(_soft_maximum(similarity[:, start:]), others)
            push = DISMISSED_PUSH * np.maximum(near - DISMISSED_FROM, 0.0)
    own = {paper.paper_id for profile in profiles for paper in profile.papers}
    own |= {paper.paper_id for paper in dismissed}
    return Model(candidates, scores, likes, push, own, {profile.key for profile in profiles})


def _soft_maximum(similarity: np.ndarray) -> np.ndarray:
    """Per candidate (row): SOFTNESS * log(sum(exp(similarity / SOFTNESS))), computed stably."""
    top = similarity.max(axis=1, keepdims=True)
    spread = np.exp((similarity - top) / SOFTNESS).sum(axis=1)
    return np.asarray(top[:, 0] + SOFTNESS * np.log(spread))


def _z(score: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
    """Scores as standard deviations from the mean, the mean and spread taken `among` the rows
    given (the candidates that are not the member's own papers: a saved or dismissed paper
    that is also a candidate is its own nearest, and would widen the spread for all)."""
    sample = score if among is None or not among.any() else score[among]
    spread = float(sample.std())
    return (score - float(sample.mean())) / (spread if spread > 1e-9 else 1.0)
