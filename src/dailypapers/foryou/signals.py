"""A member's signals for For you: what they upvoted, saved, follow and dismissed.

Each of the member's own collections is an interest of its own (a profile, as arxiv-sanity's
tags are), their upvotes one more; the papers of other members' public collections they follow
join one profile, "collections you follow". Followed authors, categories and topics are not
examples for the model: the service blends them in (and they alone rank a cold start). Papers
hidden by a curator count for nothing. A profile keeps its latest `PROFILE_PAPERS` papers.

The `fingerprint` changes whenever what the model learns from changes, so the memo knows a
member's fitted model is stale from these ids alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.follows.models import Follow
from dailypapers.foryou.models import NotInterested
from dailypapers.library.models import Collection, CollectionPaper
from dailypapers.members.models import Member, Vote
from dailypapers.papers.models import Paper

PROFILE_PAPERS = 500  # the latest papers of one profile that the model learns from
UPVOTES = "upvotes"
FOLLOWED = "following"  # the papers of the collections the member follows
FOLLOWS = "follows"  # followed authors, categories and topics alone (not a model's profile)


@dataclass(frozen=True, slots=True)
class CollectionSignal:
    """A collection whose papers are examples: the member's own (`owner` None) or one they
    follow (`owner` its owner's user name)."""

    id: int
    name: str
    owner: str | None
    paper_ids: tuple[int, ...]  # the latest added first


@dataclass(frozen=True, slots=True)
class ProfileSignal:
    """One interest as the model learns it: `key` ("upvotes", "collection:12", "following"),
    how reasons and the picker name it, and its papers."""

    key: str
    label: str
    paper_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Signals:
    member_id: int
    upvoted: tuple[int, ...] = ()  # the latest first
    collections: tuple[CollectionSignal, ...] = ()  # the member's own, by name
    followed_collections: tuple[CollectionSignal, ...] = ()
    authors: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    topics: tuple[str, ...] = ()
    dismissed: tuple[int, ...] = ()  # "not interested", the latest first
    fingerprint: str = field(default="", compare=False)

    @property
    def kept(self) -> frozenset[int]:
        """Papers the member already has (upvoted or saved): never recommended."""
        saved = (paper_id for c in self.collections for paper_id in c.paper_ids)
        return frozenset((*self.upvoted, *saved))

    @property
    def follows_anything(self) -> bool:
        return bool(self.authors or self.categories or self.topics)

    def profiles(self) -> list[ProfileSignal]:
        """The interests with papers to learn from: upvotes, each own collection (by name),
        then the collections followed."""
        found = []
        if self.upvoted:
            found.append(ProfileSignal(UPVOTES, "your upvotes", self.upvoted[:PROFILE_PAPERS]))
        for collection in self.collections:
            if collection.paper_ids:
                found.append(
                    ProfileSignal(
                        f"collection:{collection.id}",
                        f"your collection {collection.name}",
                        collection.paper_ids[:PROFILE_PAPERS],
                    )
                )
        followed = tuple(dict.fromkeys(p for c in self.followed_collections for p in c.paper_ids))[
            :PROFILE_PAPERS
        ]
        if followed:
            found.append(ProfileSignal(FOLLOWED, "the collections you follow", followed))
        return found

    def followed_collection_of(self, paper_id: int) -> CollectionSignal | None:
        """The first followed collection that holds the paper (for a reason's wording)."""
        return next((c for c in self.followed_collections if paper_id in c.paper_ids), None)


def signals_of(session: Session, member_id: int) -> Signals:
    """Everything For you learns from about one member, read in five small queries."""
    visible = Paper.hidden.is_(False)
    upvoted = tuple(
        session.scalars(
            select(Vote.paper_id)
            .join(Paper, Paper.id == Vote.paper_id)
            .where(Vote.member_id == member_id, visible)
            .order_by(Vote.created_at.desc(), Vote.paper_id.desc())
        )
    )
    own = session.execute(
        select(Collection.id, Collection.name, CollectionPaper.paper_id)
        .join(CollectionPaper, CollectionPaper.collection_id == Collection.id, isouter=True)
        .join(Paper, Paper.id == CollectionPaper.paper_id, isouter=True)
        .where(Collection.member_id == member_id)
        .where((Paper.id.is_(None)) | visible)
        .order_by(Collection.name, Collection.id, CollectionPaper.added_at.desc())
    ).all()
    follows = session.execute(
        select(Follow.kind, Follow.value).where(Follow.member_id == member_id).order_by(Follow.id)
    ).all()
    followed_ids = sorted(
        {int(value) for kind, value in follows if kind == "collection" and value.isdigit()}
    )
    followed_rows = (
        session.execute(
            select(Collection.id, Collection.name, Member.username, CollectionPaper.paper_id)
            .join(Member, Member.id == Collection.member_id)
            .join(CollectionPaper, CollectionPaper.collection_id == Collection.id)
            .join(Paper, Paper.id == CollectionPaper.paper_id)
            .where(
                Collection.id.in_(followed_ids),
                Collection.public.is_(True),
                Collection.member_id != member_id,
                Member.disabled.is_(False),
                visible,
            )
            .order_by(Collection.id, CollectionPaper.added_at.desc())
        ).all()
        if followed_ids
        else []
    )
    dismissed = tuple(
        session.scalars(
            select(NotInterested.paper_id)
            .where(NotInterested.member_id == member_id)
            .order_by(NotInterested.id.desc())
        )
    )
    signals = Signals(
        member_id,
        upvoted=upvoted,
        collections=_grouped((cid, name, None, pid) for cid, name, pid in own),
        followed_collections=_grouped(followed_rows),
        authors=frozenset(value for kind, value in follows if kind == "author"),
        categories=frozenset(value for kind, value in follows if kind == "category"),
        topics=tuple(value for kind, value in follows if kind == "topic"),
        dismissed=dismissed,
    )
    return _with_fingerprint(signals)


def _grouped(rows: object) -> tuple[CollectionSignal, ...]:
    order: dict[int, tuple[str, str | None]] = {}
    papers: dict[int, list[int]] = {}
    for collection_id, name, owner, paper_id in rows:  # type: ignore[attr-defined]
        order.setdefault(collection_id, (name, owner))
        held = papers.setdefault(collection_id, [])
        if paper_id is not None:
            held.append(paper_id)
    return tuple(
        CollectionSignal(cid, name, owner, tuple(papers[cid]))
        for cid, (name, owner) in order.items()
    )


def _with_fingerprint(signals: Signals) -> Signals:
    """The signals with a digest of what the model learns from (each profile's papers and the
    dismissed ones): a vote, a save, a dismissal or a followed collection's new paper makes
    another fingerprint. Followed authors, categories and topics are not in it: they are
    blended in at each request, so following one changes the list at once, with no refit."""
    parts = ["d", ",".join(map(str, signals.dismissed))]
    for profile in signals.profiles():
        parts += [profile.key, ",".join(map(str, profile.paper_ids))]
    digest = hashlib.blake2b("\x1e".join(parts).encode(), digest_size=16).hexdigest()
    return replace(signals, fingerprint=digest)
