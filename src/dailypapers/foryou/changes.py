"""Watchers: what changed on the papers a member keeps in their collections.

The changes themselves are recorded by database triggers on `papers` (migration 0022), so every
writer of papers is caught - the arXiv harvest, the Hugging Face import, a curator's links, the
loader, plain SQL. Here they are read back for one member: a paper counts when it is in one of
the member's collections and the change was noticed after the paper was added there (a paper
saved after its new version came out was saved as it is now: nothing changed for that reader;
a second's leeway, as the database's clock, which stamps changes, and the app's, which stamps
additions, may differ by that much).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dailypapers.foryou.models import PaperChange
from dailypapers.library.models import Collection, CollectionPaper
from dailypapers.papers.models import Paper

CLOCK_LEEWAY = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Change:
    """One change on a paper the member keeps: `kind` is "version" (detail "v3"), "code" (the
    code link) or "project_page" (the page's address); `collection` names the member's collection
    that holds the paper (the first by name where several do)."""

    paper_id: int
    kind: str
    detail: str
    noticed_at: datetime
    collection: str


def changed_for(
    session: Session,
    member_id: int,
    *,
    since: datetime,
    limit: int = 20,
    until: datetime | None = None,
) -> list[Change]:
    """Changes noticed since `since` (and before `until`, if given) on papers in the member's
    collections, newest first, one per (paper, kind): the newest of each."""
    if limit <= 0:
        return []
    rows = session.execute(_kept_changes(since, until).where(Collection.member_id == member_id))
    return newest_of_each(
        (Change(paper_id, kind, detail, noticed_at, collection), added_at)
        for _member, paper_id, kind, detail, noticed_at, collection, added_at in rows
    )[:limit]


def changes_by_member(
    session: Session, *, since: datetime, until: datetime
) -> dict[int, list[tuple[Change, datetime]]]:
    """Every member's changes noticed in [since, until), each with when the paper was added
    to the collection, newest first and not yet one per (paper, kind): a digest run reads
    them once for all its readers and gives each theirs with `newest_of_each`."""
    found: dict[int, list[tuple[Change, datetime]]] = {}
    for member_id, paper_id, kind, detail, noticed_at, collection, added_at in session.execute(
        _kept_changes(since, until)
    ):
        change = Change(paper_id, kind, detail, noticed_at, collection)
        found.setdefault(member_id, []).append((change, added_at))
    return found


def newest_of_each(changes: Iterable[tuple[Change, datetime]]) -> list[Change]:
    """From (change, when its paper was kept), newest first: the newest change of each (paper,
    kind), leaving out changes noticed before the paper was kept (less the clock's leeway)."""
    told: list[Change] = []
    kept: set[tuple[int, str]] = set()
    for change, added_at in changes:
        key = (change.paper_id, change.kind)
        if key in kept or change.noticed_at < added_at - CLOCK_LEEWAY:
            continue
        kept.add(key)
        told.append(change)
    return told


def _kept_changes(
    since: datetime, until: datetime | None
) -> Select[int, int, str, str, datetime, str, datetime]:
    """(member, paper, kind, detail, noticed, collection, added) of the changes noticed in the
    window on papers kept in collections, newest first (a paper in several collections of one
    member: the first by name first)."""
    window = [PaperChange.noticed_at >= since]
    if until is not None:
        window.append(PaperChange.noticed_at < until)
    return (
        select(
            Collection.member_id,
            PaperChange.paper_id,
            PaperChange.kind,
            PaperChange.detail,
            PaperChange.noticed_at,
            Collection.name,
            CollectionPaper.added_at,
        )
        .join(CollectionPaper, CollectionPaper.paper_id == PaperChange.paper_id)
        .join(Collection, Collection.id == CollectionPaper.collection_id)
        .join(Paper, Paper.id == PaperChange.paper_id)
        .where(*window, Paper.hidden.is_(False))
        .order_by(PaperChange.noticed_at.desc(), PaperChange.id.desc(), Collection.name)
    )
