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
from collections.abc import Iterable
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

    def examples(self) -> set[int]:
        """The papers the model learns from: the profiles' and the latest dismissed ones."""
        found = {paper_id for profile in self.profiles() for paper_id in profile.paper_ids}
        found.update(self.dismissed[:PROFILE_PAPERS])
        return found

    def followed_collection_of(self, paper_id: int) -> CollectionSignal | None:
        """The first followed collection that holds the paper (for a reason's wording)."""
        return next((c for c in self.followed_collections if paper_id in c.paper_ids), None)


def signals_of(session: Session, member_id: int) -> Signals:
    """Everything For you learns from about one member, read in five small queries."""
    return signals_of_many(session, [member_id])[member_id]


def signals_of_many(session: Session, member_ids: Iterable[int]) -> dict[int, Signals]:
    """`signals_of` for many members at once, in the same five queries (a digest run reads
    its readers' signals a batch at a time)."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    visible = Paper.hidden.is_(False)
    upvoted: dict[int, list[int]] = {member_id: [] for member_id in ids}
    for member_id, paper_id in session.execute(
        select(Vote.member_id, Vote.paper_id)
        .join(Paper, Paper.id == Vote.paper_id)
        .where(Vote.member_id.in_(ids), visible)
        .order_by(Vote.member_id, Vote.created_at.desc(), Vote.paper_id.desc())
    ):
        upvoted[member_id].append(paper_id)
    own: dict[int, list[tuple[int, str, str | None, int | None]]] = {i: [] for i in ids}
    for member_id, collection_id, name, paper_id in session.execute(
        select(Collection.member_id, Collection.id, Collection.name, CollectionPaper.paper_id)
        .join(CollectionPaper, CollectionPaper.collection_id == Collection.id, isouter=True)
        .join(Paper, Paper.id == CollectionPaper.paper_id, isouter=True)
        .where(Collection.member_id.in_(ids))
        .where((Paper.id.is_(None)) | visible)
        .order_by(
            Collection.member_id, Collection.name, Collection.id, CollectionPaper.added_at.desc()
        )
    ):
        own[member_id].append((collection_id, name, None, paper_id))
    follows: dict[int, list[tuple[str, str]]] = {member_id: [] for member_id in ids}
    for member_id, kind, value in session.execute(
        select(Follow.member_id, Follow.kind, Follow.value)
        .where(Follow.member_id.in_(ids))
        .order_by(Follow.member_id, Follow.id)
    ):
        follows[member_id].append((kind, value))
    followed_ids = {
        member_id: sorted(
            {int(value) for kind, value in rows if kind == "collection" and value.isdigit()}
        )
        for member_id, rows in follows.items()
    }
    wanted = sorted({i for found in followed_ids.values() for i in found})
    public: dict[int, list[tuple[int, str, str, int, int]]] = {}
    if wanted:
        for collection_id, name, owner, owner_id, paper_id in session.execute(
            select(
                Collection.id,
                Collection.name,
                Member.username,
                Collection.member_id,
                CollectionPaper.paper_id,
            )
            .join(Member, Member.id == Collection.member_id)
            .join(CollectionPaper, CollectionPaper.collection_id == Collection.id)
            .join(Paper, Paper.id == CollectionPaper.paper_id)
            .where(
                Collection.id.in_(wanted),
                Collection.public.is_(True),
                Member.disabled.is_(False),
                visible,
            )
            .order_by(Collection.id, CollectionPaper.added_at.desc())
        ):
            public.setdefault(collection_id, []).append(
                (collection_id, name, owner, owner_id, paper_id)
            )
    dismissed: dict[int, list[int]] = {member_id: [] for member_id in ids}
    for member_id, paper_id in session.execute(
        select(NotInterested.member_id, NotInterested.paper_id)
        .where(NotInterested.member_id.in_(ids))
        .order_by(NotInterested.member_id, NotInterested.id.desc())
    ):
        dismissed[member_id].append(paper_id)
    found = {}
    for member_id in ids:
        followed_rows = [
            (collection_id, name, owner, paper_id)
            for wanted_id in followed_ids[member_id]
            for collection_id, name, owner, owner_id, paper_id in public.get(wanted_id, ())
            if owner_id != member_id  # one's own public collection is not "followed"
        ]
        signals = Signals(
            member_id,
            upvoted=tuple(upvoted[member_id]),
            collections=_grouped(own[member_id]),
            followed_collections=_grouped(followed_rows),
            authors=frozenset(value for kind, value in follows[member_id] if kind == "author"),
            categories=frozenset(value for kind, value in follows[member_id] if kind == "category"),
            topics=tuple(value for kind, value in follows[member_id] if kind == "topic"),
            dismissed=tuple(dismissed[member_id]),
        )
        found[member_id] = _with_fingerprint(signals)
    return found


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
