"""Storing incoming papers: idempotent batch upserts that keep each paper's newest version."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.database import insert_many, utcnow
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.records import PaperRecord
from dailypapers.revisions import bump_revision

BATCH_SIZE = 5_000

# Metadata that the newest version of a paper describes: an incoming value replaces the stored
# one unless it is missing (None or empty), so merging sources never erases what one knew.
METADATA_FIELDS = (
    "title",
    "abstract",
    "authors",
    "categories",
    "published_date",
    "comment",
    "github_stars",
    "project_page",
    "ai_summary",
    "ai_keywords",
)


@dataclass
class LoadCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejections: list[tuple[str, int, str]] = field(default_factory=list)
    stored_ids: list[int] = field(default_factory=list)  # new or updated: search catches up

    @property
    def total(self) -> int:
        return self.new + self.updated + self.unchanged + self.rejected

    def add(self, other: LoadCounts) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected
        self.rejections.extend(other.rejections)
        self.stored_ids.extend(other.stored_ids)


def store_records(
    factory: sessionmaker[Session], records: Iterable[PaperRecord], batch_size: int = BATCH_SIZE
) -> LoadCounts:
    """Store records in batches, one committed transaction per batch."""
    counts = LoadCounts()
    for batch in _batches(records, batch_size):
        with factory() as session, session.begin():
            counts.add(store_batch(session, batch))
    return counts


def _batches(records: Iterable[PaperRecord], size: int) -> Iterator[list[PaperRecord]]:
    """Batches of distinct papers (a repeated id starts a new batch, so later rows win)."""
    batch: dict[str, PaperRecord] = {}
    for record in records:
        if record.arxiv_id in batch or len(batch) >= size:
            yield list(batch.values())
            batch = {}
        batch[record.arxiv_id] = record
    if batch:
        yield list(batch.values())


def store_batch(session: Session, batch: list[PaperRecord]) -> LoadCounts:
    """Insert new papers, update changed ones and add missing daily entries; all in `session`.

    Every new paper on the site is created here (triggers queue it for the keyword index).
    """
    counts = LoadCounts()
    ids = [record.arxiv_id for record in batch]
    existing = {
        row.arxiv_id: row
        for row in session.execute(select(Paper.__table__).where(Paper.arxiv_id.in_(ids)))
    }
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for record in batch:
        row = existing.get(record.arxiv_id)
        if row is None:
            inserts.append(_new_paper(record, now))
            continue
        changes = _changes(row, record)
        if changes:
            changes.update(id=row.id, updated_at=now)
            updates.append(changes)
            counts.updated += 1
        else:
            counts.unchanged += 1

    paper_ids = {arxiv_id: row.id for arxiv_id, row in existing.items()}
    if inserts:
        # A plain executemany and one SELECT: much faster than INSERT ... RETURNING per row.
        insert_many(session.connection(), Paper.__table__, inserts)
        created = session.execute(
            select(Paper.arxiv_id, Paper.id).where(
                Paper.arxiv_id.in_([paper["arxiv_id"] for paper in inserts])
            )
        )
        paper_ids.update({arxiv_id: paper_id for arxiv_id, paper_id in created})
        counts.new += len(inserts)
        counts.stored_ids += [paper_ids[paper["arxiv_id"]] for paper in inserts]
    counts.stored_ids += [changes["id"] for changes in updates]
    for group in _group_by_keys(updates):
        session.execute(update(Paper), group)

    if inserts or updates:
        bump_revision(session)
    featured = [r for r in batch if r.featured_date is not None]
    if featured:
        already = set(
            session.scalars(
                select(DailyEntry.paper_id).where(
                    DailyEntry.paper_id.in_([paper_ids[r.arxiv_id] for r in featured])
                )
            )
        )
        entries = [
            {
                "paper_id": paper_ids[r.arxiv_id],
                "featured_date": r.featured_date,
                "submitter_name": r.submitter_name,
                "created_at": now,
            }
            for r in featured
            if paper_ids[r.arxiv_id] not in already
        ]
        if entries:
            insert_many(session.connection(), DailyEntry.__table__, entries)
            if not (inserts or updates):
                bump_revision(session)
            newly_featured = {entry["paper_id"] for entry in entries}
            updated_ids = {changes["id"] for changes in updates}
            # A paper that only gained its place on the list still counts as updated.
            for record in featured:
                row = existing.get(record.arxiv_id)
                if row is not None and row.id in newly_featured and row.id not in updated_ids:
                    counts.updated += 1
                    counts.unchanged -= 1
                    counts.stored_ids.append(row.id)
    return counts


def _new_paper(record: PaperRecord, now: Any) -> dict[str, Any]:
    return {
        "arxiv_id": record.arxiv_id,
        "version": record.version,
        "title": record.title,
        "abstract": record.abstract,
        "authors": record.authors,
        "categories": record.categories,
        "primary_category": record.categories[0] if record.categories else None,
        "published_date": record.published_date,
        "comment": record.comment,
        "github_url": record.github_url,
        "github_url_source": record.github_url_source if record.github_url else None,
        "github_stars": record.github_stars,
        "project_page": record.project_page,
        "ai_summary": record.ai_summary,
        "ai_keywords": record.ai_keywords,
        "imported_upvotes": record.upvotes or 0,
        "imported_comments": record.num_comments or 0,
        "vote_count": 0,
        "comment_count": 0,
        "withdrawn": bool(record.withdrawn),
        "created_at": now,
        "updated_at": now,
    }


def _changes(row: Any, record: PaperRecord) -> dict[str, Any]:
    """The columns `record` would change on the stored `row` (empty when nothing would)."""
    if record.version is not None and row.version is not None and record.version < row.version:
        return {}  # an older version never overwrites a newer one
    changes: dict[str, Any] = {}
    for name in METADATA_FIELDS:
        value = getattr(record, name)
        if value is None or value == []:
            continue
        if getattr(row, name) != value:
            changes[name] = value
    if "categories" in changes:
        changes["primary_category"] = record.categories[0]
    if record.version is not None and record.version != row.version:
        changes["version"] = record.version
    if (
        record.github_url
        and row.github_url != record.github_url
        and _may_replace_link(row.github_url_source, record.github_url_source)
    ):
        changes["github_url"] = record.github_url
        changes["github_url_source"] = record.github_url_source
    if record.withdrawn is not None and record.withdrawn != row.withdrawn:
        changes["withdrawn"] = record.withdrawn
    # Counts captured elsewhere only grow: the larger one is the later capture.
    if record.upvotes is not None and record.upvotes > row.imported_upvotes:
        changes["imported_upvotes"] = record.upvotes
    if record.num_comments is not None and record.num_comments > row.imported_comments:
        changes["imported_comments"] = record.num_comments
    return changes


def _may_replace_link(stored: str | None, incoming: str) -> bool:
    """A member's link is never replaced; a link found automatically never replaces one that
    people set."""
    if stored == "member":
        return False
    return incoming != "auto" or stored in (None, "auto")


def _group_by_keys(updates: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for changes in updates:
        groups.setdefault(frozenset(changes), []).append(changes)
    yield from groups.values()
