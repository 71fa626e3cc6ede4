"""What goes into one reader's digest: for a member who asked for a personal digest, first the
papers picked for them ("For you") and the changes to papers they keep ("Changed"); then the
period's trending papers, then the new papers that best match each followed topic — leaving out
every paper the reader was already sent (a changed paper is the exception: it is there for its
change, each change told once).

The personal sections come from a `PersonalSections` given to the Composer (foryou/digest.py
implements it: the digests know nothing of For you's models)."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dailypapers.database import utcnow
from dailypapers.digests.models import DigestSend, SentPaper, Subscriber, Topic
from dailypapers.digests.schedule import DigestPeriod
from dailypapers.digests.topics import topic_rank, topic_stems
from dailypapers.members.models import Member
from dailypapers.papers.feed import PaperItem, paper_items
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.trending import trending_score
from dailypapers.search.meaning import MeaningSearch
from dailypapers.search.protocols import KeywordSearch
from dailypapers.search.query import SearchFilters
from dailypapers.search.service import search_papers

log = logging.getLogger(__name__)

TRENDING_PAPERS = 10
PAPERS_PER_TOPIC = 5
# Topic matches are papers published on arXiv in the period or a few days before (arXiv's
# announcement lags submission).
TOPIC_LOOKBACK_DAYS = 3
FOR_YOU_PAPERS = 5
PREPARE_AT_ONCE = 256  # readers whose personal sections are prepared together
CHANGED_PAPERS = 10
# Changes are told from where the reader's previous digest stopped looking, less this margin
# (a change written in a long transaction is stamped when the transaction began); the changes
# the previous digest told are not told again.
CHANGES_MARGIN = timedelta(minutes=30)
PREVIOUS_STATUSES = ("sent", "sending", "empty")  # a previous digest that told its changes


@dataclass(slots=True)
class TopicSection:
    query: str
    paper_ids: list[int]


@dataclass(frozen=True, slots=True)
class Note:
    """A paper of a personal section with a line about it: why it was picked ("Like …"), or
    what changed ("New version: v3")."""

    paper_id: int
    note: str


class PersonalSections(Protocol):
    """The personal sections of a member's digest (implemented in foryou/digest.py)."""

    def prepare(self, session: Session, member_ids: Sequence[int]) -> None:
        """These members' digests come next: read what their sections need at once."""
        ...

    def for_you(
        self,
        session: Session,
        member_id: int,
        period: DigestPeriod,
        seen: Collection[int],
        limit: int,
    ) -> list[Note]:
        """The member's best picks of the period, none of them in `seen`, best first."""
        ...

    def changed(
        self, session: Session, member_id: int, since: datetime, until: datetime, limit: int
    ) -> list[Note]:
        """What changed on the papers the member keeps, noticed in [since, until), newest
        first, one note per change."""
        ...


@dataclass(slots=True)
class Digest:
    subscriber: Subscriber
    period: DigestPeriod
    trending: list[int] = field(default_factory=list)
    topics: list[TopicSection] = field(default_factory=list)
    # Followed topics with no match this period: the digest says so in one line.
    quiet_topics: list[str] = field(default_factory=list)
    for_you: list[Note] = field(default_factory=list)
    changed: list[Note] = field(default_factory=list)
    # Changes noticed before this moment were looked at (the next digest starts here).
    changes_until: datetime | None = None

    @property
    def paper_ids(self) -> list[int]:
        personal = [note.paper_id for note in self.for_you + self.changed]
        topics = [paper_id for topic in self.topics for paper_id in topic.paper_ids]
        return list(dict.fromkeys(personal + self.trending + topics))

    @property
    def empty(self) -> bool:
        return not self.paper_ids  # topics without a match alone make no digest

    def layout(self) -> dict[str, Any]:
        """What the ledger keeps of the digest, for its "view in a browser" page."""
        period = self.period
        return {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "sent_on": period.sent_on.isoformat(),
            "trending": self.trending,
            "topics": [[topic.query, topic.paper_ids] for topic in self.topics],
            "quiet_topics": self.quiet_topics,
            "for_you": [[note.paper_id, note.note] for note in self.for_you],
            "changed": [[note.paper_id, note.note] for note in self.changed],
            "changes_until": self.changes_until.isoformat() if self.changes_until else None,
        }

    @classmethod
    def from_layout(
        cls, subscriber: Subscriber, frequency: str, key: str, layout: dict[str, Any]
    ) -> Digest:
        period = DigestPeriod(
            frequency,
            key,
            date.fromisoformat(layout["start"]),
            date.fromisoformat(layout["end"]),
            date.fromisoformat(layout["sent_on"]),
        )
        topics = [
            TopicSection(str(query), [int(i) for i in ids]) for query, ids in layout["topics"]
        ]
        trending = [int(i) for i in layout["trending"]]
        quiet = [str(query) for query in layout.get("quiet_topics", [])]
        for_you = [Note(int(i), str(note)) for i, note in layout.get("for_you", [])]
        changed = [Note(int(i), str(note)) for i, note in layout.get("changed", [])]
        until = layout.get("changes_until")
        changes_until = datetime.fromisoformat(until) if until else None
        return cls(subscriber, period, trending, topics, quiet, for_you, changed, changes_until)


class Composer:
    """Composes digests for one period; shares the period's rankings between readers."""

    def __init__(
        self,
        session: Session,
        period: DigestPeriod,
        keyword: KeywordSearch | None,
        meaning: MeaningSearch | None = None,
        personal: PersonalSections | None = None,
    ) -> None:
        self.session = session
        self.period = period
        self.keyword = keyword  # None where no digest has topics (a preview of trending only)
        self.meaning = meaning
        self.personal = personal  # None: no personal sections (for anyone)
        self._personal_members: set[int] | None = None
        # The readers about to be composed, in order (`expect`): personal sections are
        # prepared for the next `PREPARE_AT_ONCE` of them at a time.
        self._expected: dict[int, int] = {}  # subscriber id -> place
        self._expected_ids: list[int] = []
        self._prepared: set[int] = set()  # member ids
        # Their previous digests ((sections, created_at), None before a first), read together.
        self._previous: dict[int, tuple[dict[str, Any] | None, datetime] | None] = {}
        # Changes are looked at up to the run's start: those noticed later go in the next one.
        self._changes_until: datetime | None = None
        self._trending: list[tuple[int, int]] | None = None  # (paper id, upvotes), best first
        self._topics: dict[str, list[int]] = {}
        self._items: dict[int, PaperItem] = {}

    def trending(self) -> list[tuple[int, int]]:
        if self._trending is None:
            rows = self.session.execute(
                select(
                    Paper.id,
                    Paper.imported_upvotes + Paper.vote_count,
                    Paper.github_stars,
                    DailyEntry.featured_date,
                )
                .join(DailyEntry, DailyEntry.paper_id == Paper.id)
                .where(
                    DailyEntry.featured_date >= self.period.start,
                    DailyEntry.featured_date <= self.period.end,
                    Paper.hidden.is_(False),
                )
            ).all()
            anchor = self.period.end
            ranked = sorted(rows, key=lambda r: (-trending_score(r[1], r[2], r[3], anchor), r[0]))
            self._trending = [(paper_id, upvotes) for paper_id, upvotes, _, _ in ranked]
        return self._trending

    def topic(self, query: str) -> list[int]:
        if query not in self._topics:
            assert self.keyword is not None, "topics are searched by keyword"
            filters = SearchFilters(
                published_from=self.period.start - timedelta(days=TOPIC_LOOKBACK_DAYS),
                published_to=self.period.end,
            )
            results = search_papers(
                self.session,
                query,
                keyword=self.keyword,
                limit=50,
                filters=filters,
                meaning=self.meaning,
            )
            wanted = topic_stems(query)
            ranked = []
            for order, hit in enumerate(results.hits):
                paper = hit.item.paper
                rank = topic_rank(wanted, paper.title, paper.abstract, paper.ai_keywords or ())
                if rank:  # papers off the topic are left out, however close search put them
                    ranked.append((-rank, order, paper.id))
            self._topics[query] = [paper_id for _, _, paper_id in sorted(ranked)]
        return self._topics[query]

    def wants_personal(self, subscriber: Subscriber) -> bool:
        """Whether the subscriber's digest has personal sections: a member who asked for them
        (read once per run for all members)."""
        if self.personal is None or subscriber.member_id is None:
            return False
        if self._personal_members is None:
            self._personal_members = set(
                self.session.scalars(select(Member.id).where(Member.personal_digest.is_(True)))
            )
        return subscriber.member_id in self._personal_members

    def expect(self, subscriber_ids: Sequence[int]) -> None:
        """The subscribers this run will compose, in order (so that personal sections are
        prepared a batch of readers at a time, not one by one)."""
        self._expected_ids = list(subscriber_ids)
        self._expected = {subscriber_id: i for i, subscriber_id in enumerate(subscriber_ids)}

    def _prepare_from(self, subscriber: Subscriber) -> None:
        """Prepare the personal sections of the next readers from this one on: their previous
        digests (where "Changed" starts) in one query, the rest by `PersonalSections.prepare`."""
        assert self.personal is not None and self._personal_members is not None
        place = self._expected.get(subscriber.id)
        if place is None:
            return
        chunk = self._expected_ids[place : place + PREPARE_AT_ONCE]
        rows = self.session.execute(
            select(Subscriber.id, Subscriber.member_id).where(
                Subscriber.id.in_(chunk), Subscriber.member_id.is_not(None)
            )
        )
        pairs = [
            (subscriber_id, member_id)
            for subscriber_id, member_id in rows
            if member_id in self._personal_members and member_id not in self._prepared
        ]
        # the previous batch is done with (and this one is tried once, even if it fails)
        self._prepared = {member_id for _, member_id in pairs}
        self._previous = dict.fromkeys((s for s, _ in pairs), None)
        if not pairs:
            return
        self._previous.update(self._previous_digests([s for s, _ in pairs]))
        self.personal.prepare(self.session, sorted(self._prepared))

    def _previous_digests(
        self, subscriber_ids: Sequence[int]
    ) -> dict[int, tuple[dict[str, Any] | None, datetime]]:
        """{subscriber id: (sections, created_at)} of each reader's latest digest of another
        period, in one query."""
        newest = (
            func.row_number()
            .over(
                partition_by=DigestSend.subscriber_id,
                order_by=(DigestSend.created_at.desc(), DigestSend.id.desc()),
            )
            .label("newest")
        )
        ranked = (
            select(DigestSend.subscriber_id, DigestSend.sections, DigestSend.created_at, newest)
            .where(
                DigestSend.subscriber_id.in_(subscriber_ids),
                DigestSend.period != self.period.key,
                DigestSend.status.in_(PREVIOUS_STATUSES),
            )
            .subquery()
        )
        rows = self.session.execute(
            select(ranked.c.subscriber_id, ranked.c.sections, ranked.c.created_at).where(
                ranked.c.newest == 1
            )
        )
        return {
            subscriber_id: (sections, created_at) for subscriber_id, sections, created_at in rows
        }

    def compose(self, subscriber: Subscriber) -> Digest:
        digest = Digest(subscriber, self.period)
        seen = set(
            self.session.scalars(
                select(SentPaper.paper_id).where(SentPaper.subscriber_id == subscriber.id)
            )
        )
        if self.wants_personal(subscriber):
            self._personal(digest, seen)
        for paper_id, upvotes in self.trending():
            if len(digest.trending) >= TRENDING_PAPERS:
                break
            if upvotes >= subscriber.min_upvotes and paper_id not in seen:
                digest.trending.append(paper_id)
                seen.add(paper_id)
        queries = self.session.scalars(
            select(Topic.query).where(Topic.subscriber_id == subscriber.id).order_by(Topic.id)
        ).all()
        for query in queries:
            picked = [paper_id for paper_id in self.topic(query) if paper_id not in seen]
            picked = picked[:PAPERS_PER_TOPIC]
            seen.update(picked)
            if picked:
                digest.topics.append(TopicSection(query, picked))
            elif not self.topic(query):  # nothing on the topic at all (not: all sent before)
                digest.quiet_topics.append(query)
        return digest

    def _personal(self, digest: Digest, seen: set[int]) -> None:
        """For you (papers never sent to the reader) and Changed (each change once, since the
        reader's previous digest); both go into `seen`, so that no later section repeats them.
        Should they fail, the reader gets the digest without them (and the failure is logged):
        one reader's model never stops everyone's digest."""
        assert self.personal is not None and digest.subscriber.member_id is not None
        member_id = digest.subscriber.member_id
        if self._changes_until is None:
            self._changes_until = utcnow()
        until = self._changes_until
        try:
            if member_id not in self._prepared:
                self._prepare_from(digest.subscriber)
            picks = self.personal.for_you(
                self.session, member_id, self.period, seen, FOR_YOU_PAPERS
            )
            for_you = [note for note in picks if note.paper_id not in seen][:FOR_YOU_PAPERS]
            since, told = self._changes_told(digest.subscriber)
            changes = self.personal.changed(self.session, member_id, since, until, CHANGED_PAPERS)
        except Exception:  # noqa: BLE001 - logged; the digest goes out without these sections
            log.exception("personal sections of subscriber %s left out", digest.subscriber.id)
            self.session.rollback()  # nothing is pending while composing
            return
        digest.for_you = for_you
        digest.changed = [note for note in changes if (note.paper_id, note.note) not in told]
        digest.changes_until = until
        seen.update(note.paper_id for note in digest.for_you + digest.changed)

    def _changes_told(self, subscriber: Subscriber) -> tuple[datetime, set[tuple[int, str]]]:
        """Where the reader's previous digest stopped looking at changes (less the margin), and
        the changes it told; before a first digest, the length of one period back."""
        if subscriber.id in self._previous:  # read with its batch (`_prepare_from`)
            previous = self._previous[subscriber.id]
        else:
            previous = self._previous_digests([subscriber.id]).get(subscriber.id)
        if previous is None:
            days = (self.period.end - self.period.start).days + 1
            start = self.period.sent_on - timedelta(days=days)
            return datetime(start.year, start.month, start.day, tzinfo=UTC), set()
        sections, created_at = previous
        sections = sections or {}
        until = sections.get("changes_until")
        since = datetime.fromisoformat(until) if until else created_at
        told = {(int(i), str(note)) for i, note in sections.get("changed", [])}
        return since - CHANGES_MARGIN, told

    def items(self, digest: Digest) -> dict[int, PaperItem]:
        """The digest's cards; most are shared between readers, so each is read once."""
        missing = [paper_id for paper_id in digest.paper_ids if paper_id not in self._items]
        if missing:
            self._items.update(paper_items(self.session, missing))
        return {i: self._items[i] for i in digest.paper_ids if i in self._items}
