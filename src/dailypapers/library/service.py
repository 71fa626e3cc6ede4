"""Collections: making, renaming, sharing and deleting them, and saving papers into them.

Every function takes the caller's session and leaves the commit to it (one transaction per
request). A change a reader other than the owner can see (anything about a public collection,
or a collection becoming public or private) bumps the site revision, so that no cached page or
feed shows the collection as it was.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.orm import Session

from dailypapers.database import insert_or_ignore, utcnow
from dailypapers.library.models import Collection, CollectionPaper
from dailypapers.members.models import Member
from dailypapers.papers.connections import PapersPage, papers_in_order
from dailypapers.papers.models import Paper
from dailypapers.revisions import bump_revision

MAX_NAME_CHARS = 100
MAX_DESCRIPTION_CHARS = 2_000
MAX_COLLECTIONS = 200  # per member
MAX_PAPERS = 10_000  # per collection
DEFAULT_NAME = "Reading list"
COLLECTION_PAPERS = cast(Table, CollectionPaper.__table__)


class CollectionRefused(ValueError):
    """A rule refuses the change; the message says which (a 409 or 422 for the caller)."""


class CollectionConflict(CollectionRefused):
    """Refused by what is there already: a name taken, a limit reached (409)."""


class CollectionNotFound(LookupError):
    """No such collection, or one the asker may not see (private collections of others)."""


@dataclass(slots=True)
class CollectionSummary:
    """A collection as lists show it: with its owner's user name and how many papers it holds."""

    id: int
    name: str
    description: str
    public: bool
    owner: str
    papers: int
    created_at: datetime
    updated_at: datetime


def clean_name(name: str) -> str:
    """A collection's name as stored: spaces trimmed and runs of white space made one; refused
    when empty, too long or holding control characters."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise CollectionRefused("name: a collection needs a name.")
    if len(cleaned) > MAX_NAME_CHARS:
        raise CollectionRefused(f"name: at most {MAX_NAME_CHARS} characters.")
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in cleaned):
        raise CollectionRefused("name: control characters cannot be part of a name.")
    return cleaned


def clean_description(description: str) -> str:
    cleaned = description.strip().replace("\r\n", "\n")
    if len(cleaned) > MAX_DESCRIPTION_CHARS:
        raise CollectionRefused(f"description: at most {MAX_DESCRIPTION_CHARS:,} characters.")
    if any(unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t" for c in cleaned):
        raise CollectionRefused("description: control characters cannot be part of it.")
    return cleaned


def _name_taken(session: Session, member_id: int, name: str, but: int | None = None) -> bool:
    """Whether the member has another collection of this name (case does not count)."""
    query = select(Collection.id).where(
        Collection.member_id == member_id, func.lower(Collection.name) == name.lower()
    )
    if but is not None:
        query = query.where(Collection.id != but)
    return session.scalar(query.limit(1)) is not None


def create_collection(
    session: Session, member: Member, name: str, description: str = "", *, public: bool = False
) -> Collection:
    name, description = clean_name(name), clean_description(description)
    held = session.scalar(select(func.count()).where(Collection.member_id == member.id)) or 0
    if held >= MAX_COLLECTIONS:
        raise CollectionConflict(
            f"You have {held} collections, the most a member can have; delete one first."
        )
    if _name_taken(session, member.id, name):
        raise CollectionConflict(f"You already have a collection named {name!r}.")
    collection = Collection(member_id=member.id, name=name, description=description, public=public)
    session.add(collection)
    session.flush()
    if public:
        bump_revision(session)
    return collection


def update_collection(
    session: Session,
    collection: Collection,
    *,
    name: str | None = None,
    description: str | None = None,
    public: bool | None = None,
) -> Collection:
    """Rename, describe again, or make public or private (what is None stays as it is)."""
    seen_before = collection.public
    if name is not None:
        name = clean_name(name)
        if _name_taken(session, collection.member_id, name, but=collection.id):
            raise CollectionConflict(f"You already have a collection named {name!r}.")
        collection.name = name
    if description is not None:
        collection.description = clean_description(description)
    if public is not None:
        collection.public = public
    collection.updated_at = utcnow()
    session.flush()
    if seen_before or collection.public:
        bump_revision(session)
    return collection


def delete_collection(session: Session, collection: Collection) -> None:
    if collection.public:
        bump_revision(session)
    session.execute(delete(CollectionPaper).where(CollectionPaper.collection_id == collection.id))
    session.delete(collection)
    session.flush()


def readable_collection(session: Session, collection_id: int, member: Member | None) -> Collection:
    """The collection if the asker may read it: public ones for anyone, private ones for their
    owner; CollectionNotFound otherwise (so a private one looks like no collection at all)."""
    collection = session.get(Collection, collection_id)
    if collection is None or not (
        collection.public or (member is not None and member.id == collection.member_id)
    ):
        raise CollectionNotFound(f"There is no collection {collection_id} here.")
    if not collection.public:
        return collection
    owner_disabled = session.scalar(
        select(Member.disabled).where(Member.id == collection.member_id)
    )
    if owner_disabled and (member is None or member.id != collection.member_id):
        raise CollectionNotFound(f"There is no collection {collection_id} here.")
    return collection


def own_collection(session: Session, collection_id: int, member: Member) -> Collection:
    """The member's own collection (CollectionNotFound for anyone else's, public or not)."""
    collection = session.get(Collection, collection_id)
    if collection is None or collection.member_id != member.id:
        raise CollectionNotFound(f"You have no collection {collection_id}.")
    return collection


def default_collection(session: Session, member: Member) -> Collection:
    """The member's "Reading list", made when first needed (the card's one-click "Save")."""
    found = session.scalar(
        select(Collection).where(
            Collection.member_id == member.id, func.lower(Collection.name) == DEFAULT_NAME.lower()
        )
    )
    return found or create_collection(session, member, DEFAULT_NAME)


def count_papers(session: Session, collection_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(CollectionPaper)
            .where(CollectionPaper.collection_id == collection_id)
        )
        or 0
    )


def add_paper(session: Session, collection: Collection, paper_id: int) -> bool:
    """Put the paper in the collection; idempotent (False: it was there already)."""
    if count_papers(session, collection.id) >= MAX_PAPERS:
        raise CollectionConflict(
            f"{collection.name!r} holds {MAX_PAPERS:,} papers, the most a collection can hold."
        )
    added = session.execute(
        insert_or_ignore(session.connection(), COLLECTION_PAPERS)
        .values(collection_id=collection.id, paper_id=paper_id, added_at=utcnow())
        .returning(COLLECTION_PAPERS.c.paper_id)
    ).first()
    if added is not None:
        _touched(session, collection)
    return added is not None


def add_papers(session: Session, collection: Collection, paper_ids: list[int]) -> list[int]:
    """Put many papers in (an import): returns those that were not there yet, in order."""
    held = set(
        session.scalars(
            select(CollectionPaper.paper_id).where(CollectionPaper.collection_id == collection.id)
        )
    )
    new = [paper_id for paper_id in dict.fromkeys(paper_ids) if paper_id not in held]
    if len(held) + len(new) > MAX_PAPERS:
        raise CollectionConflict(
            f"{collection.name!r} would hold {len(held) + len(new):,} papers; a collection "
            f"holds at most {MAX_PAPERS:,}."
        )
    if new:
        now = utcnow()
        session.execute(
            COLLECTION_PAPERS.insert(),
            [{"collection_id": collection.id, "paper_id": p, "added_at": now} for p in new],
        )
        _touched(session, collection)
    return new


def remove_paper(session: Session, collection: Collection, paper_id: int) -> bool:
    """Take the paper out; idempotent (False: it was not there)."""
    removed = session.execute(
        delete(CollectionPaper).where(
            CollectionPaper.collection_id == collection.id, CollectionPaper.paper_id == paper_id
        )
    ).rowcount  # type: ignore[attr-defined]
    if removed:
        _touched(session, collection)
    return bool(removed)


def _touched(session: Session, collection: Collection) -> None:
    session.execute(
        update(Collection).where(Collection.id == collection.id).values(updated_at=utcnow())
    )
    if collection.public:
        bump_revision(session)


def summaries(
    session: Session, *, member_id: int, public_only: bool = False
) -> list[CollectionSummary]:
    """The member's collections, by name, with their paper counts (the visible papers)."""
    counted = (
        select(CollectionPaper.collection_id, func.count().label("papers"))
        .join(Paper, Paper.id == CollectionPaper.paper_id)
        .where(Paper.hidden.is_(False))
        .group_by(CollectionPaper.collection_id)
        .subquery()
    )
    query = (
        select(Collection, Member.username, func.coalesce(counted.c.papers, 0))
        .join(Member, Member.id == Collection.member_id)
        .join(counted, counted.c.collection_id == Collection.id, isouter=True)
        .where(Collection.member_id == member_id)
        .order_by(func.lower(Collection.name), Collection.id)
    )
    if public_only:
        query = query.where(Collection.public.is_(True))
    return [
        _summary(collection, owner, papers) for collection, owner, papers in session.execute(query)
    ]


def summary_of(session: Session, collection: Collection) -> CollectionSummary:
    owner = session.scalar(select(Member.username).where(Member.id == collection.member_id))
    return _summary(collection, owner or "", visible_count(session, collection.id))


def _summary(collection: Collection, owner: str, papers: int) -> CollectionSummary:
    return CollectionSummary(
        collection.id,
        collection.name,
        collection.description,
        collection.public,
        owner,
        papers,
        collection.created_at,
        collection.updated_at,
    )


def _visible_ids(collection_id: int):  # type: ignore[no-untyped-def]
    return (
        select(CollectionPaper.paper_id)
        .join(Paper, Paper.id == CollectionPaper.paper_id)
        .where(CollectionPaper.collection_id == collection_id, Paper.hidden.is_(False))
    )


def visible_count(session: Session, collection_id: int) -> int:
    counted = _visible_ids(collection_id).subquery()
    return session.scalar(select(func.count()).select_from(counted)) or 0


def added_papers(
    session: Session, collection_id: int, *, offset: int = 0, limit: int = MAX_PAPERS
) -> list[tuple[int, datetime]]:
    """(paper id, when added) of the collection's visible papers, the latest added first."""
    rows = session.execute(
        _visible_ids(collection_id)
        .add_columns(CollectionPaper.added_at)
        .order_by(CollectionPaper.added_at.desc(), CollectionPaper.paper_id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [(paper_id, added_at) for paper_id, added_at in rows]


def collection_page(session: Session, collection_id: int, *, offset: int, limit: int) -> PapersPage:
    """One page of the collection's papers as cards, the latest added first."""
    ids = [
        paper_id for paper_id, _ in added_papers(session, collection_id, offset=offset, limit=limit)
    ]
    return PapersPage(papers_in_order(session, ids), visible_count(session, collection_id))


def saved_papers(session: Session, member_id: int) -> dict[int, set[int]]:
    """Which of the member's collections hold each paper: {paper id: {collection id, …}}."""
    rows = session.execute(
        select(CollectionPaper.paper_id, CollectionPaper.collection_id)
        .join(Collection, Collection.id == CollectionPaper.collection_id)
        .where(Collection.member_id == member_id)
    )
    saved: dict[int, set[int]] = {}
    for paper_id, collection_id in rows:
        saved.setdefault(paper_id, set()).add(collection_id)
    return saved
