"""For you's memory, one per process (`Site.for_you_memo`): the window's candidate papers with
their features, shared by every member, and each member's fitted model.

A request must not wait for a model. The candidates of a window are read and their features
built when the site's papers change (a new day, a harvest, a new vector), not at every site
revision: a vote bumps the revision but leaves the candidates as they were. A member's model is
kept with the fingerprint of the signals it learnt from (`signals.Signals.fingerprint`); after
a vote, a save, a follow of a collection or a "not interested", the next request finds it stale,
is answered with it, and one background thread fits the new one (the next request has it). Only
a member's first visit (or a new window length) fits inline; for ~20 signals that is a few ms.
A digest run fits its readers' models a batch at a time (`fit_many`). Members' papers (text and
title) are kept for the site state they were read at. Thread-safe; bounded: the latest
`members` members' models, `pools` candidate sets, `papers` members' papers.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar, cast

import numpy as np
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.digests.topics import topic_rank, topic_stems
from dailypapers.foryou.model import Candidates, Document, Model, Pick, Profile, fit, fit_many
from dailypapers.foryou.signals import PROFILE_PAPERS, Signals, signals_of
from dailypapers.members.models import Member
from dailypapers.papers.feed import latest_featured_date
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.periods import LAST_DAY
from dailypapers.revisions import SiteState
from dailypapers.search.models import PaperEmbedding
from dailypapers.search.query import STOPWORDS

log = logging.getLogger(__name__)
T = TypeVar("T")

RANKINGS_PER_MODEL = 4  # rankings kept per fitted model (profiles asked, "all" among them)
KEPT_PER_POOL = 4_096  # answers kept per pool (`CandidatePool.kept`)
MIN_DAYS, MAX_DAYS, DEFAULT_DAYS = 1, 30, 7  # how far back a member's window may look
MAX_CANDIDATES = 5_000  # the daily list's papers first, then the newest published
READ_AT_ONCE = 2_000  # papers read per query when loading texts and vectors
_VECTORS = text("SELECT paper_id, vector FROM paper_embeddings WHERE paper_id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)


@dataclass(frozen=True, slots=True)
class PoolPaper:
    """What the service needs of a candidate beyond the model: who wrote it, its categories,
    its words (for followed topics) and its upvotes (a cold start's tie-breaker)."""

    title: str
    abstract: str | None
    keywords: tuple[str, ...]
    authors: frozenset[str]
    categories: frozenset[str]
    upvotes: int
    words: str  # title, abstract and keywords in lower case: a quick test before topic_rank


class CandidatePool:
    """The recent papers of one window with the model's features (`Candidates`), built once
    and shared by every member whose window it is."""

    def __init__(
        self,
        window: tuple[date, date],
        key: str,
        documents: list[Document],
        papers: dict[int, PoolPaper],
    ) -> None:
        self.window = window
        self.key = key
        self.candidates = Candidates(documents)
        self.documents = {document.paper_id: document for document in documents}
        self.papers = papers
        self._topics: dict[str, dict[int, int]] = {}
        self._kept: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.papers)

    def kept(self, key: Hashable, make: Callable[[], T]) -> T:
        """What `make` answers for this pool, kept under `key` (the papers matching a member's
        follows: the same at every request until the pool or the follows change). Bounded."""
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return cast(T, self._kept[key])
        made = make()
        with self._lock:
            self._kept[key] = made
            while len(self._kept) > KEPT_PER_POOL:
                self._kept.popitem(last=False)
        return made

    def on_topic(self, topic: str) -> dict[int, int]:
        """{paper id: rank} of the candidates on a followed topic (`digests.topics.topic_rank`,
        more than 0), found once per pool. A paper without
        the start of each informative word of the topic cannot be on it: only the others are
        ranked (a stem less its last letter is always part of the word it came from)."""
        with self._lock:
            found = self._topics.get(topic)
        if found is not None:
            return found
        wanted = topic_stems(topic)
        probes = [word[:-1] or word for word in wanted if word not in STOPWORDS]
        found = {}
        for paper_id, paper in self.papers.items():
            if all(probe in paper.words for probe in probes):
                rank = topic_rank(wanted, paper.title, paper.abstract, paper.keywords)
                if rank:
                    found[paper_id] = rank
        with self._lock:
            self._topics[topic] = found
        return found


@dataclass(frozen=True, slots=True)
class Ranking:
    """A model's ranking of a pool's papers, best first, and each paper's place in it."""

    picks: list[Pick]
    place: dict[int, int]  # paper id -> index in `picks`


@dataclass(slots=True)
class _Fitted:
    fingerprint: str
    pool: CandidatePool
    model: Model
    # (profile, pool key, excluded ids) -> the model's ranking of the pool's papers: the same
    # at every request until something changes, so it is kept (a few per model).
    rankings: OrderedDict[tuple[str | None, str, frozenset[int]], Ranking] = field(
        default_factory=OrderedDict
    )


@dataclass(frozen=True, slots=True)
class _Window:
    """The candidates of a window as last read: their ids, and the key a pool is kept by."""

    days: int
    window: tuple[date, date]
    ids: tuple[int, ...]
    key: str


class ForYouMemo:
    """Candidate pools per window and fitted models per member (see the module's docstring).
    `ForYouMemo(site.sessions)`; `close()` stops its thread."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        members: int = 2_048,
        pools: int = 8,
        papers: int = 20_000,
    ) -> None:
        self.sessions = sessions
        self.members = members
        self.pools = pools
        self.papers = papers
        self.inline_fits = 0  # fits a request waited for (first visits)
        self.background_fits = 0  # refits off the request path
        self.batch_fits = 0  # fitted together for a digest run (`fit_many`)
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()  # one pool built at a time
        self._windows: dict[int, tuple[tuple[int, int], _Window]] = {}  # days -> (state, window)
        self._pools: OrderedDict[str, CandidatePool] = OrderedDict()
        self._latest: dict[int, CandidatePool] = {}  # days -> the newest pool built
        self._fitted: OrderedDict[int, _Fitted] = OrderedDict()
        # Members' papers (documents and titles) as last read, for the site state they were
        # read at: fits and reasons read them from here, not from the database each time.
        self._state: tuple[int, int] | None = None
        self._documents: OrderedDict[int, tuple[Document, str]] = OrderedDict()
        self._queue: OrderedDict[tuple[str, int], None] = (
            OrderedDict()
        )  # ("member", id) / ("pool", days)
        self._busy = 0
        self._wake = threading.Condition(self._lock)
        self._closed = False
        self._thread: threading.Thread | None = None

    # --- candidates -----------------------------------------------------------------------
    def pool(self, session: Session, days: int, *, wait: bool = False) -> CandidatePool:
        """The candidate pool of the last `days` days. When the papers changed since the newest
        pool of that length was built, that one is returned and the new one built in the
        background (`wait`: built now)."""
        found = self._window(session, days)
        with self._lock:
            pool = self._pools.get(found.key)
            if pool is not None:
                self._pools.move_to_end(found.key)
                return pool
            older = self._latest.get(days)
        if older is not None and older.window == found.window and not wait:
            self._schedule(("pool", days))
            return older
        return self._build(session, found)

    def _window(self, session: Session, days: int) -> _Window:
        """The window's candidate ids, read again only when the site revision or the vectors
        changed."""
        state = (
            session.scalar(select(SiteState.revision)) or 0,
            session.scalar(select(func.max(PaperEmbedding.id))) or 0,
        )
        with self._lock:
            kept = self._windows.get(days)
            if state != self._state:  # a paper may have changed: read members' papers again
                self._state = state
                self._documents.clear()
        if kept is not None and kept[0] == state:
            return kept[1]
        window = window_of(session, days)
        ids = tuple(sorted(candidate_ids(session, window)))
        digest = hashlib.blake2b(digest_size=16)
        digest.update(f"{window[0]}/{window[1]}/{state[1]}/".encode())
        digest.update(np.asarray(ids, dtype=np.int64).tobytes())
        found = _Window(days, window, ids, digest.hexdigest())
        with self._lock:
            self._windows[days] = (state, found)
        return found

    def _build(self, session: Session, found: _Window) -> CandidatePool:
        with self._build_lock:
            with self._lock:
                pool = self._pools.get(found.key)
            if pool is not None:
                return pool
            documents, papers = load_papers(session, found.ids)
            pool = CandidatePool(found.window, found.key, documents, papers)
            with self._lock:
                self._pools[found.key] = pool
                self._latest[found.days] = pool
                while len(self._pools) > self.pools:
                    self._pools.popitem(last=False)
            return pool

    # --- models ---------------------------------------------------------------------------
    def model(
        self,
        session: Session,
        member_id: int,
        signals: Signals,
        pool: CandidatePool,
        *,
        fresh: bool = False,
    ) -> Model:
        """The member's model for these signals and this pool: the one kept when it is
        current; a stale one of the same window while a new one is fitted in the background;
        fitted now on a first visit (or when asked for a `fresh` one)."""
        return self._fitted_for(session, member_id, signals, pool, fresh=fresh).model

    def ranked(
        self,
        session: Session,
        member_id: int,
        signals: Signals,
        pool: CandidatePool,
        profile: str | None,
        exclude: frozenset[int],
    ) -> Ranking:
        """`Model.rank(profile, exclude=exclude)` of the member's model (as `model` finds it),
        the pool's papers only; kept with the model until the request differs. A profile the
        kept model does not know yet (a first upvote, before the refit) is fitted now."""
        fitted = self._fitted_for(session, member_id, signals, pool)
        key = (profile, pool.key, exclude)
        with self._lock:
            found = fitted.rankings.get(key)
        if found is not None:
            return found
        try:
            everything = fitted.model.rank(profile, exclude=exclude)
        except KeyError:
            fitted = self._fitted_for(session, member_id, signals, pool, fresh=True)
            everything = fitted.model.rank(profile, exclude=exclude)
        picks = [pick for pick in everything if pick.paper_id in pool.papers]
        found = Ranking(picks, {pick.paper_id: index for index, pick in enumerate(picks)})
        with self._lock:
            fitted.rankings[key] = found
            while len(fitted.rankings) > RANKINGS_PER_MODEL:
                fitted.rankings.popitem(last=False)
        return found

    def _fitted_for(
        self,
        session: Session,
        member_id: int,
        signals: Signals,
        pool: CandidatePool,
        *,
        fresh: bool = False,
    ) -> _Fitted:
        with self._lock:
            kept = self._fitted.get(member_id)
            if kept is not None:
                self._fitted.move_to_end(member_id)
        if kept is not None and not fresh:
            if kept.fingerprint == signals.fingerprint and kept.pool.key == pool.key:
                return kept
            if kept.pool.window == pool.window:
                self._schedule(("member", member_id))
                return kept
        fitted = _Fitted(signals.fingerprint, pool, self._fit(session, signals, pool))
        with self._lock:
            self.inline_fits += 1
            self._keep(member_id, fitted)
        return fitted

    def refit_soon(self, member_id: int) -> None:
        """The member's signals changed (a dismissal, its undo): refit in the background now,
        so that the page they go back to is likely to have it, if the member has a model."""
        with self._lock:
            known = member_id in self._fitted
        if known:
            self._schedule(("member", member_id))

    def forget(self, member_id: int) -> None:
        """Drop the member's model (their account is deleted)."""
        with self._lock:
            self._fitted.pop(member_id, None)

    def _keep(self, member_id: int, fitted: _Fitted) -> None:
        self._fitted[member_id] = fitted
        self._fitted.move_to_end(member_id)
        while len(self._fitted) > self.members:
            self._fitted.popitem(last=False)

    def _fit(self, session: Session, signals: Signals, pool: CandidatePool) -> Model:
        documents = self.documents(session, signals.examples(), pool)
        return fit(pool.candidates, *_examples(signals, documents))

    def fit_many(self, session: Session, signals: dict[int, Signals], pool: CandidatePool) -> None:
        """Fit these members' models for `pool` together and keep them (a digest run, a batch
        of readers at a time): their papers are read and compared with the candidates in a few
        large steps instead of one small step per member."""
        wanted = {paper_id for found in signals.values() for paper_id in found.examples()}
        documents = self.documents(session, wanted, pool)
        members = list(signals)
        models = fit_many(
            pool.candidates, [_examples(signals[member], documents) for member in members]
        )
        with self._lock:
            for member_id, model in zip(members, models, strict=True):
                self.batch_fits += 1
                self._keep(member_id, _Fitted(signals[member_id].fingerprint, pool, model))

    # --- members' papers ------------------------------------------------------------------
    def documents(
        self, session: Session, paper_ids: Iterable[int], pool: CandidatePool | None = None
    ) -> dict[int, Document]:
        """The model's documents of these papers: a candidate's from the pool, the others as
        last read (at most `papers` kept), the rest read now in one pass."""
        found = {}
        missing = []
        with self._lock:
            for paper_id in paper_ids:
                if pool is not None and paper_id in pool.documents:
                    found[paper_id] = pool.documents[paper_id]
                elif paper_id in self._documents:
                    found[paper_id] = self._documents[paper_id][0]
                else:
                    missing.append(paper_id)
        if missing:
            loaded, papers = load_papers(session, missing)
            with self._lock:
                for document in loaded:
                    found[document.paper_id] = document
                    self._documents[document.paper_id] = (document, papers[document.paper_id].title)
                while len(self._documents) > self.papers:
                    self._documents.popitem(last=False)
        return found

    def titles(self, session: Session, paper_ids: Iterable[int]) -> dict[int, str]:
        """Titles of members' papers (for "Like …" reasons), from what the fits read."""
        wanted = set(paper_ids)
        with self._lock:
            found = {i: self._documents[i][1] for i in wanted if i in self._documents}
            pools = list(self._pools.values())
        for pool in pools:
            found.update(
                (i, pool.papers[i].title) for i in wanted - found.keys() if i in pool.papers
            )
        missing = wanted - found.keys()
        if missing:
            rows = session.execute(select(Paper.id, Paper.title).where(Paper.id.in_(missing)))
            found.update((paper_id, title) for paper_id, title in rows)
        return found

    # --- the background thread ------------------------------------------------------------
    def _schedule(self, job: tuple[str, int]) -> None:
        with self._lock:
            if self._closed:
                return
            self._queue[job] = None
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="for-you-refit", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                (kind, number), _ = self._queue.popitem(last=False)
                self._busy += 1
            try:
                with self.sessions() as session:
                    if kind == "pool":
                        self.pool(session, number, wait=True)
                    else:
                        self._refit(session, number)
            except Exception:  # a refit that fails leaves the stale model; the next one retries
                log.exception("For you: %s %s could not be refitted", kind, number)
            finally:
                with self._lock:
                    self._busy -= 1
                    self._wake.notify_all()

    def _refit(self, session: Session, member_id: int) -> None:
        days = window_days(session, member_id)
        if days is None:
            self.forget(member_id)
            return
        signals = signals_of(session, member_id)
        pool = self.pool(session, days, wait=True)
        model = self._fit(session, signals, pool)
        with self._lock:
            self.background_fits += 1
            self._keep(member_id, _Fitted(signals.fingerprint, pool, model))

    def wait(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is left to refit (a test, a benchmark): whether it got there."""
        with self._lock:
            return self._wake.wait_for(lambda: not self._queue and not self._busy, timeout)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._queue.clear()
            self._wake.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)


def _examples(
    signals: Signals, documents: dict[int, Document]
) -> tuple[list[Profile], list[Document]]:
    """The member's profiles and dismissed papers as the model takes them."""
    profiles = [
        Profile(spec.key, spec.label, tuple(documents[i] for i in spec.paper_ids if i in documents))
        for spec in signals.profiles()
    ]
    dismissed = [documents[i] for i in signals.dismissed[:PROFILE_PAPERS] if i in documents]
    return profiles, dismissed


def newest_day(session: Session) -> date | None:
    """The newest day with papers: featured, or published on arXiv (a harvest ahead of the
    daily list counts), never past the last day the site knows."""
    featured = latest_featured_date(session)
    published = session.scalar(
        select(func.max(Paper.published_date)).where(Paper.published_date <= LAST_DAY)
    )
    days = [day for day in (featured, published) if day is not None]
    return max(days) if days else None


def window_days(session: Session, member_id: int) -> int | None:
    """How many days the member's For you looks back (their setting, kept within `MIN_DAYS`
    and `MAX_DAYS`); None when there is no such member."""
    days = session.execute(select(Member.for_you_days).where(Member.id == member_id)).first()
    return None if days is None else clamp_days(days[0])


def clamp_days(days: int | None) -> int:
    return min(max(days or DEFAULT_DAYS, MIN_DAYS), MAX_DAYS)


def window_of(session: Session, days: int) -> tuple[date, date]:
    """The `days` days ending on the newest day with papers (as trending counts its window,
    so a site whose list stopped a while ago, such as the bundled demo, still has a For you)."""
    end = newest_day(session) or date.today()
    return end - timedelta(days=days - 1), end


def candidate_ids(session: Session, window: tuple[date, date]) -> set[int]:
    """The papers of the window that readers can see: featured in it, or published in it
    (at most MAX_CANDIDATES: the featured first, then the newest published)."""
    start, end = window
    featured = set(
        session.scalars(
            select(DailyEntry.paper_id)
            .join(Paper, Paper.id == DailyEntry.paper_id)
            .where(
                DailyEntry.featured_date >= start,
                DailyEntry.featured_date <= end,
                Paper.hidden.is_(False),
            )
            .order_by(DailyEntry.featured_date.desc(), DailyEntry.paper_id)
            .limit(MAX_CANDIDATES)
        )
    )
    published = session.scalars(
        select(Paper.id)
        .where(
            Paper.published_date >= start,
            Paper.published_date <= end,
            Paper.hidden.is_(False),
        )
        .order_by(Paper.published_date.desc(), Paper.arxiv_id.desc())
        .limit(MAX_CANDIDATES)
    )
    found = set(featured)
    for paper_id in published:
        if len(found) >= MAX_CANDIDATES:
            break
        found.add(paper_id)
    return found


def load_papers(
    session: Session, paper_ids: Iterable[int]
) -> tuple[list[Document], dict[int, PoolPaper]]:
    """The model's documents (title and abstract, the MiniLM vector where dense search made
    one) and the service's facts of these papers, in id order."""
    ids = sorted(set(paper_ids))
    documents: list[Document] = []
    papers: dict[int, PoolPaper] = {}
    for start in range(0, len(ids), READ_AT_ONCE):
        chunk = ids[start : start + READ_AT_ONCE]
        vectors = {
            paper_id: np.frombuffer(blob, dtype=np.float32)
            for paper_id, blob in session.execute(_VECTORS, {"ids": chunk})
        }
        rows = session.execute(
            select(
                Paper.id,
                Paper.title,
                Paper.abstract,
                Paper.authors,
                Paper.categories,
                Paper.ai_keywords,
                Paper.imported_upvotes + Paper.vote_count,
            )
            .where(Paper.id.in_(chunk))
            .order_by(Paper.id)
        )
        for paper_id, title, abstract, authors, categories, keywords, upvotes in rows:
            keyword_list = tuple(keywords or ())
            documents.append(
                Document(paper_id, f"{title}\n{abstract or ''}", vectors.get(paper_id))
            )
            words = " ".join((title, abstract or "", *keyword_list)).lower()
            papers[paper_id] = PoolPaper(
                title,
                abstract,
                keyword_list,
                frozenset(authors or ()),
                frozenset(categories or ()),
                int(upvotes or 0),
                words,
            )
    return documents, papers
