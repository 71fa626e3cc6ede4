"""Following: what a member may follow, following and unfollowing, and listing their follows.

A member follows authors (by the name papers list), arXiv categories, topics (a search's
text, as typed in the search box) and other members' public collections. Every function takes
the caller's session and leaves the commit to it. Following is idempotent, and so is
unfollowing; follows are the member's own business, so no page anyone else sees changes (no
site revision is bumped).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast, get_args
from urllib.parse import urlencode

from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

from dailypapers.database import insert_or_ignore, utcnow
from dailypapers.display.filters import author_url, category_url
from dailypapers.follows.models import Follow
from dailypapers.library.models import Collection
from dailypapers.library.service import CollectionNotFound, readable_collection
from dailypapers.members.models import Member
from dailypapers.papers.connections import is_category
from dailypapers.search.service import MAX_QUERY_CHARS

Kind = Literal["author", "category", "topic", "collection"]
KINDS: tuple[Kind, ...] = get_args(Kind)
MAX_FOLLOWS = 500  # per member, all kinds together
MAX_AUTHOR_CHARS = 200
MAX_TOPIC_CHARS = MAX_QUERY_CHARS
MAX_COLLECTION_ID = 2**31 - 1  # the largest id an INTEGER column holds in both databases
FOLLOWS = cast(Table, Follow.__table__)
# How /following names each kind's group, in the order it shows them.
GROUPS: dict[Kind, str] = {
    "author": "Authors",
    "category": "Categories",
    "topic": "Topics",
    "collection": "Collections",
}


class FollowRefused(ValueError):
    """The value cannot be followed; the message says why (422 for the caller)."""


class FollowConflict(FollowRefused):
    """Refused by what is there already: the member follows as many things as one may (409)."""


class FollowNotFound(LookupError):
    """No such collection to follow, or one that is not public (404, as if there were none)."""


@dataclass(slots=True)
class Followed:
    """One follow as /following and the API show it: what it is, a name and where it leads
    (None for a collection its owner no longer shares)."""

    kind: Kind
    value: str
    label: str
    url: str | None
    created_at: datetime


def value_key(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _no_control_characters(value: str, what: str) -> None:
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in value):
        raise FollowRefused(f"value: control characters cannot be part of {what}.")


def check_kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise FollowRefused(
            f"kind: {kind[:40]!r} cannot be followed; follow an author, a category, a topic "
            "or a collection."
        )
    return cast(Kind, kind)


def clean_value(kind: Kind, value: str) -> str:
    """The value as stored: an author's name with the spaces around it trimmed, a category as
    arXiv spells it, a topic with runs of white space made one, a collection's id as digits.
    FollowRefused when it cannot be one of those (a collection is checked further by
    `follow`)."""
    if kind == "author":
        name = value.strip()
        if not name:
            raise FollowRefused("value: an author to follow needs a name.")
        if len(name) > MAX_AUTHOR_CHARS:
            raise FollowRefused(
                f"value: an author's name is at most {MAX_AUTHOR_CHARS} characters."
            )
        _no_control_characters(name, "a name")
        return name
    if kind == "category":
        category = value.strip()
        if not is_category(category):
            raise FollowRefused(
                f"value: {category[:40]!r} is not an arXiv category (such as cs.LG or hep-th)."
            )
        return category
    if kind == "topic":
        topic = " ".join(value.split())
        if not topic:
            raise FollowRefused("value: a topic to follow needs some words to search for.")
        if len(topic) > MAX_TOPIC_CHARS:
            raise FollowRefused(f"value: a topic is at most {MAX_TOPIC_CHARS:,} characters.")
        _no_control_characters(topic, "a topic")
        return topic
    number = value.strip()
    if not (number.isascii() and number.isdigit()) or not 1 <= int(number) <= MAX_COLLECTION_ID:
        raise FollowRefused(f"value: {number[:40]!r} is not a collection's number (such as 12).")
    return str(int(number))


def _followable_collection(session: Session, collection_id: int, member: Member) -> Collection:
    try:
        collection = readable_collection(session, collection_id, None)  # public ones only
    except CollectionNotFound:
        raise FollowNotFound(f"There is no public collection {collection_id} here.") from None
    if collection.member_id == member.id:
        raise FollowRefused("value: this collection is your own; follow other members' ones.")
    return collection


def count_follows(session: Session, member_id: int) -> int:
    query = select(func.count()).select_from(Follow).where(Follow.member_id == member_id)
    return session.scalar(query) or 0


def follow(session: Session, member: Member, kind: str, value: str) -> tuple[str, bool]:
    """Follow it: (the value as stored, whether it is new). Idempotent; FollowRefused,
    FollowConflict (past MAX_FOLLOWS) or FollowNotFound (a collection not public) otherwise."""
    checked = check_kind(kind)
    cleaned = clean_value(checked, value)
    if checked == "collection":
        _followable_collection(session, int(cleaned), member)
    key = value_key(cleaned)
    if _follows(session, member.id, checked, key):
        return cleaned, False
    held = count_follows(session, member.id)
    if held >= MAX_FOLLOWS:
        raise FollowConflict(
            f"You follow {held} things, the most a member can; unfollow some first (at /following)."
        )
    added = session.execute(
        insert_or_ignore(session.connection(), FOLLOWS)
        .values(
            member_id=member.id, kind=checked, value=cleaned, value_key=key, created_at=utcnow()
        )
        .returning(FOLLOWS.c.id)
    ).first()
    return cleaned, added is not None


def unfollow(session: Session, member: Member, kind: str, value: str) -> tuple[str, bool]:
    """Stop following it: (the value as stored, whether it was followed). Idempotent; a
    collection no longer public can be unfollowed too."""
    checked = check_kind(kind)
    cleaned = clean_value(checked, value)
    removed = session.execute(
        delete(Follow).where(
            Follow.member_id == member.id,
            Follow.kind == checked,
            Follow.value_key == value_key(cleaned),
        )
    ).rowcount  # type: ignore[attr-defined]
    return cleaned, bool(removed)


def _follows(session: Session, member_id: int, kind: str, key: str) -> bool:
    query = select(Follow.id).where(
        Follow.member_id == member_id, Follow.kind == kind, Follow.value_key == key
    )
    return session.scalar(query.limit(1)) is not None


def followed_keys(session: Session, member_id: int) -> set[tuple[str, str]]:
    """(kind, value) of everything the member follows: what the pages' buttons need, in one
    query."""
    rows = session.execute(select(Follow.kind, Follow.value).where(Follow.member_id == member_id))
    return {(kind, value) for kind, value in rows}


def topic_url(topic: str) -> str:
    return "/papers?" + urlencode({"q": topic})


def _collections(session: Session, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """{id: (name, owner)} of the collections among `ids` that anyone may still read."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(Collection.id, Collection.name, Member.username)
        .join(Member, Member.id == Collection.member_id)
        .where(
            Collection.id.in_(wanted),
            Collection.public.is_(True),
            Member.disabled.is_(False),
        )
    )
    return {id_: (name, owner) for id_, name, owner in rows}


def follows_of(session: Session, member_id: int) -> list[Followed]:
    """Everything the member follows, by kind (in KINDS' order), then by name."""
    rows = session.execute(
        select(Follow.kind, Follow.value, Follow.created_at).where(Follow.member_id == member_id)
    ).all()
    shared = _collections(
        session, (int(value) for kind, value, _ in rows if kind == "collection" and value.isdigit())
    )
    found: list[Followed] = []
    for kind, value, created_at in rows:
        if kind == "author":
            found.append(Followed("author", value, value, author_url(value), created_at))
        elif kind == "category":
            found.append(Followed("category", value, value, category_url(value), created_at))
        elif kind == "topic":
            found.append(Followed("topic", value, value, topic_url(value), created_at))
        elif kind == "collection":
            collection = shared.get(int(value)) if value.isdigit() else None
            if collection is None:
                label, url = f"Collection {value}, no longer shared by its owner", None
            else:
                label, url = f"{collection[0]} by {collection[1]}", f"/collections/{value}"
            found.append(Followed("collection", value, label, url, created_at))
    order = {kind: index for index, kind in enumerate(KINDS)}
    found.sort(key=lambda item: (order[item.kind], item.label.casefold(), item.value))
    return found


def grouped(follows: list[Followed]) -> list[tuple[Kind, str, list[Followed]]]:
    """(kind, heading, follows) for each kind the member follows something of."""
    return [
        (kind, heading, items)
        for kind, heading in GROUPS.items()
        if (items := [item for item in follows if item.kind == kind])
    ]


def exported(session: Session, member_id: int) -> list[dict[str, str]]:
    """The member's follows for "download my data": kind, value and when, oldest first."""
    rows = session.execute(
        select(Follow.kind, Follow.value, Follow.created_at)
        .where(Follow.member_id == member_id)
        .order_by(Follow.created_at, Follow.id)
    )
    return [
        {"kind": kind, "value": value, "createdAt": created_at.isoformat()}
        for kind, value, created_at in rows
    ]


def forget(session: Session, member_id: int) -> int:
    """Unfollow everything (a deleted account): how many follows there were."""
    removed = session.execute(delete(Follow).where(Follow.member_id == member_id))
    return int(removed.rowcount)  # type: ignore[attr-defined]
