"""What goes into one reader's digest: the period's trending papers, then the new papers that
best match each followed topic — leaving out every paper the reader was already sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.digests.models import SentPaper, Subscriber, Topic
from dailypapers.digests.schedule import DigestPeriod
from dailypapers.digests.topics import topic_rank, topic_stems
from dailypapers.papers.feed import PaperItem, paper_items
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.trending import trending_score
from dailypapers.search.meaning import MeaningSearch
from dailypapers.search.protocols import KeywordSearch
from dailypapers.search.query import SearchFilters
from dailypapers.search.service import search_papers

TRENDING_PAPERS = 10
PAPERS_PER_TOPIC = 5
# Topic matches are papers published on arXiv in the period or a few days before (arXiv's
# announcement lags submission).
TOPIC_LOOKBACK_DAYS = 3


@dataclass(slots=True)
class TopicSection:
    query: str
    paper_ids: list[int]


@dataclass(slots=True)
class Digest:
    subscriber: Subscriber
    period: DigestPeriod
    trending: list[int] = field(default_factory=list)
    topics: list[TopicSection] = field(default_factory=list)
    # Followed topics with no match this period: the digest says so in one line.
    quiet_topics: list[str] = field(default_factory=list)

    @property
    def paper_ids(self) -> list[int]:
        return self.trending + [paper_id for topic in self.topics for paper_id in topic.paper_ids]

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
        return cls(subscriber, period, trending, topics, quiet)


class Composer:
    """Composes digests for one period; shares the period's rankings between readers."""

    def __init__(
        self,
        session: Session,
        period: DigestPeriod,
        keyword: KeywordSearch | None,
        meaning: MeaningSearch | None = None,
    ) -> None:
        self.session = session
        self.period = period
        self.keyword = keyword  # None where no digest has topics (a preview of trending only)
        self.meaning = meaning
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

    def compose(self, subscriber: Subscriber) -> Digest:
        digest = Digest(subscriber, self.period)
        seen = set(
            self.session.scalars(
                select(SentPaper.paper_id).where(SentPaper.subscriber_id == subscriber.id)
            )
        )
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

    def items(self, digest: Digest) -> dict[int, PaperItem]:
        """The digest's cards; most are shared between readers, so each is read once."""
        missing = [paper_id for paper_id in digest.paper_ids if paper_id not in self._items]
        if missing:
            self._items.update(paper_items(self.session, missing))
        return {i: self._items[i] for i in digest.paper_ids if i in self._items}
